"""The store's circuit breaker inside the service: after 5 consecutive failures the store is left alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from dspy.utils.dummies import DummyLM

from pipeline.breaker import CircuitBreaker
from pipeline.outbox import Outbox
from pipeline.programs import load_program
from pipeline.service import improve
from store.errors import RepositoryConnectionError
from store.memory import InMemoryPromptRepository
from store.record import BackendType
from tests.support.fake_openai import good_fields


class FlakyRepository(InMemoryPromptRepository):
    """The in-memory fake, made to fail on purpose while `down` is set; counts every save attempt."""

    def __init__(self) -> None:
        super().__init__()
        self.down = True
        self.save_attempts = 0

    def save(self, record):
        self.save_attempts += 1
        if self.down:
            raise RepositoryConnectionError("cannot open data/history.db: disk I/O error")
        return super().save(record)


class FakeClock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def breaker(clock) -> CircuitBreaker:
    return CircuitBreaker(failure_threshold=5, reset_after_s=300, clock=clock)


@pytest.fixture
def outbox(tmp_path: Path) -> Outbox:
    return Outbox(tmp_path / "history.db.outbox.jsonl")


def _improve(n: int, repo, outbox, breaker):
    idea = f"Write release notes for version {n} of the mobile app"
    program, version = load_program(BackendType.ZERO_SHOT)
    return improve(
        idea, program=program, program_version=version, backend=BackendType.ZERO_SHOT,
        lm=DummyLM([good_fields(idea)]), repo=repo, model_version="dummy", outbox=outbox, breaker=breaker,
    )


def test_after_five_failures_the_store_is_not_tried_and_records_go_to_the_outbox(outbox, breaker):
    repo = FlakyRepository()
    for n in range(5):
        assert not _improve(n, repo, outbox, breaker).saved
    assert repo.save_attempts == 5
    assert breaker.state == "open"

    outcomes = [_improve(n, repo, outbox, breaker) for n in range(5, 8)]

    assert repo.save_attempts == 5  # the store was left alone
    assert all(not outcome.saved and outcome.kept_in_outbox for outcome in outcomes)
    assert "circuit breaker" in outcomes[0].persistence_error
    assert "300 s" in outcomes[0].persistence_error
    assert outbox.count() == 8


def test_after_the_reset_time_one_probe_reaches_the_store_and_success_replays_everything(outbox, breaker, clock):
    repo = FlakyRepository()
    for n in range(6):
        _improve(n, repo, outbox, breaker)
    assert repo.save_attempts == 5

    clock.now += 300
    repo.down = False
    probe = _improve(6, repo, outbox, breaker)

    assert probe.saved and probe.replayed == 6
    assert repo.save_attempts == 5 + 1 + 6  # the probe, then the replay of the six kept records
    assert breaker.state == "closed"
    assert outbox.count() == 0
    assert len(repo.find_recent(limit=100)) == 7


def test_a_failed_probe_keeps_the_store_alone_for_another_period(outbox, breaker, clock):
    repo = FlakyRepository()
    for n in range(5):
        _improve(n, repo, outbox, breaker)
    clock.now += 300
    assert not _improve(5, repo, outbox, breaker).saved
    assert repo.save_attempts == 6
    assert breaker.state == "open"

    _improve(6, repo, outbox, breaker)
    assert repo.save_attempts == 6
    assert outbox.count() == 7


def test_a_success_before_the_threshold_resets_the_count(outbox, breaker):
    repo = FlakyRepository()
    for n in range(4):
        _improve(n, repo, outbox, breaker)
    repo.down = False
    assert _improve(4, repo, outbox, breaker).replayed == 4
    repo.down = True
    assert repo.save_attempts == 4 + 1 + 4
    for n in range(5, 9):
        _improve(n, repo, outbox, breaker)
    assert breaker.state == "closed"
    assert repo.save_attempts == 9 + 4
