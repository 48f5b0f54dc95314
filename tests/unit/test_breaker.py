"""The store's circuit breaker, every transition driven by an injected clock."""

from __future__ import annotations

import threading

import pytest

from pipeline.breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def breaker(clock: FakeClock) -> CircuitBreaker:
    return CircuitBreaker(failure_threshold=5, reset_after_s=300, clock=clock)


def _fail(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        assert breaker.allow()
        breaker.record_failure()


def test_a_new_breaker_is_closed_and_allows_calls(breaker):
    assert breaker.state == CLOSED
    assert breaker.allow()
    snapshot = breaker.snapshot()
    assert (snapshot.state, snapshot.consecutive_failures, snapshot.opened_at, snapshot.seconds_until_probe) == (
        CLOSED, 0, None, None,
    )


def test_four_failures_keep_it_closed_and_the_fifth_opens_it(breaker, clock):
    _fail(breaker, 4)
    assert breaker.state == CLOSED
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state == OPEN
    assert not breaker.allow()
    snapshot = breaker.snapshot()
    assert snapshot.consecutive_failures == 5
    assert snapshot.opened_at == clock.now
    assert snapshot.seconds_until_probe == 300


def test_a_success_resets_the_count_of_consecutive_failures(breaker):
    _fail(breaker, 4)
    breaker.record_success()
    _fail(breaker, 4)
    assert breaker.state == CLOSED
    assert breaker.snapshot().consecutive_failures == 4


def test_an_open_breaker_refuses_until_the_reset_time_has_passed(breaker, clock):
    _fail(breaker, 5)
    clock.advance(299.5)
    assert not breaker.allow()
    assert breaker.snapshot().seconds_until_probe == pytest.approx(0.5)
    clock.advance(0.5)
    assert breaker.state == HALF_OPEN
    assert breaker.snapshot().seconds_until_probe == 0


def test_half_open_lets_exactly_one_probe_through(breaker, clock):
    _fail(breaker, 5)
    clock.advance(300)
    assert breaker.allow()
    assert not breaker.allow()
    assert not breaker.allow()
    assert breaker.state == HALF_OPEN


def test_a_successful_probe_closes_the_breaker(breaker, clock):
    _fail(breaker, 5)
    clock.advance(300)
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state == CLOSED
    assert breaker.allow()
    assert breaker.snapshot().consecutive_failures == 0


def test_a_failed_probe_opens_it_again_for_a_full_period(breaker, clock):
    _fail(breaker, 5)
    clock.advance(300)
    assert breaker.allow()
    clock.advance(10)
    breaker.record_failure()
    assert breaker.state == OPEN
    assert breaker.snapshot().opened_at == clock.now
    clock.advance(299)
    assert not breaker.allow()
    clock.advance(1)
    assert breaker.allow()


def test_only_one_of_many_threads_gets_the_probe(breaker, clock):
    _fail(breaker, 5)
    clock.advance(300)
    results: list[bool] = []
    lock = threading.Lock()
    start = threading.Barrier(16)

    def ask() -> None:
        start.wait()
        allowed = breaker.allow()
        with lock:
            results.append(allowed)

    threads = [threading.Thread(target=ask) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 15 + [True]


def test_two_breakers_do_not_share_state(clock):
    first = CircuitBreaker(failure_threshold=1, clock=clock)
    second = CircuitBreaker(failure_threshold=1, clock=clock)
    first.record_failure()
    assert first.state == OPEN
    assert second.state == CLOSED


def test_snapshot_is_plain_data_for_doctor(breaker):
    _fail(breaker, 5)
    assert breaker.snapshot().to_dict()["state"] == "open"


@pytest.mark.parametrize("kwargs", [{"failure_threshold": 0}, {"reset_after_s": -1}])
def test_nonsensical_settings_are_refused_with_their_value(kwargs):
    with pytest.raises(ValueError, match=str(next(iter(kwargs.values())))):
        CircuitBreaker(**kwargs)


def test_a_probe_that_never_reports_back_is_replaced_after_another_period(breaker, clock):
    _fail(breaker, 5)
    clock.advance(300)
    assert breaker.allow()  # this caller crashes and never records a result
    clock.advance(299)
    assert not breaker.allow()
    clock.advance(1)
    assert breaker.allow()


def test_the_default_breaker_the_composition_roots_build_opens_after_5_failures_for_5_minutes(clock):
    # The CLI and the dashboard build `CircuitBreaker()` with no arguments: the defaults are the spec.
    breaker = CircuitBreaker(clock=clock)
    _fail(breaker, 4)
    assert breaker.state == CLOSED
    _fail(breaker, 1)
    assert breaker.state == OPEN
    clock.advance(299.9)
    assert not breaker.allow()
    clock.advance(0.1)
    assert breaker.allow()
    assert breaker.state == HALF_OPEN
