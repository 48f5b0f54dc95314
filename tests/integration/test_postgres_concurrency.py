"""PostgreSQL under a team's load and faults: concurrent writer processes lose nothing; a server that goes
down mid-stream sends records to the outbox, and they are stored exactly once when it is back."""

from __future__ import annotations

import multiprocessing
import threading

import psycopg
import pytest
from dspy.utils.dummies import DummyLM

from pipeline.breaker import CircuitBreaker
from pipeline.outbox import Outbox
from pipeline.programs import load_program
from pipeline.service import improve, replay_outbox_at_start
from store.postgres.migrations import migrate
from store.postgres.repository import PostgresPromptRepository
from store.record import BackendType
from tests.support.builders import make_record
from tests.support.fake_openai import good_fields

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
PER_WRITER = 150


def _write(url: str, slot: int) -> list[str]:
    uids = []
    with PostgresPromptRepository(url) as repo:
        for i in range(PER_WRITER):
            record = make_record(original_idea=f"writer {slot} record {i}")
            if i % 3 == 0:  # a mix of single saves and small batches, as CLI users and imports do
                repo.save_many([record])
            else:
                repo.save(record)
            uids.append(record.uid)
    return uids


def test_eight_writer_processes_with_readers_lose_no_row(postgres_url):
    migrate(postgres_url)
    stop, seen, problems = threading.Event(), ([], []), []

    def read(counts: list[int]) -> None:
        with PostgresPromptRepository(postgres_url) as repo:
            while not stop.is_set():
                try:
                    counts.append(repo.get_statistics().total_count)
                    repo.find_recent(limit=20)
                except Exception as error:  # noqa: BLE001 - reported by the assertion below
                    problems.append(error)

    readers = [threading.Thread(target=read, args=(counts,)) for counts in seen]
    for reader in readers:
        reader.start()
    try:
        with multiprocessing.get_context("spawn").Pool(8) as pool:
            written = pool.starmap(_write, [(postgres_url, slot) for slot in range(8)])
    finally:
        stop.set()
        for reader in readers:
            reader.join()
    assert not problems
    for counts in seen:  # each reader saw the count only grow
        assert counts == sorted(counts) and len(counts) > 1
    with psycopg.connect(postgres_url) as conn:
        stored = [uid for (uid,) in conn.execute("SELECT uid FROM prompt_history")]
        (ids,) = conn.execute("SELECT count(DISTINCT id) FROM prompt_history").fetchone()
    assert sorted(stored) == sorted(uid for uids in written for uid in uids)
    assert ids == 8 * PER_WRITER


def _improve(n: int, repo, outbox, breaker):
    idea = f"Write release notes for version {n} of the mobile app"
    program, version = load_program(BackendType.ZERO_SHOT)
    return improve(
        idea, program=program, program_version=version, backend=BackendType.ZERO_SHOT,
        lm=DummyLM([good_fields(idea)]), repo=repo, model_version="dummy", outbox=outbox, breaker=breaker,
    )


def test_a_server_stopped_mid_stream_keeps_records_in_the_outbox_and_they_are_stored_once_it_is_back(
    postgres_url, postgres_cluster, tmp_path
):
    migrate(postgres_url)
    outbox = Outbox(tmp_path / "history.db.outbox.jsonl")
    breaker = CircuitBreaker(failure_threshold=3, reset_after_s=0.2)
    outcomes = []
    with PostgresPromptRepository(postgres_url, timeout_s=1) as repo:
        outcomes += [_improve(n, repo, outbox, breaker) for n in range(5)]
        postgres_cluster.stop()
        try:
            outcomes += [_improve(n, repo, outbox, breaker) for n in range(5, 11)]
            assert outbox.count() == 6
        finally:
            postgres_cluster.start()
        replayed = replay_outbox_at_start(repo, outbox)
        outcomes += [_improve(n, repo, outbox, breaker) for n in range(11, 14)]
    assert [outcome.saved for outcome in outcomes] == [True] * 5 + [False] * 6 + [True] * 3
    assert all(outcome.kept_in_outbox for outcome in outcomes[5:11])
    assert replayed == 6 and outbox.count() == 0
    with psycopg.connect(postgres_url) as conn:
        stored = [uid for (uid,) in conn.execute("SELECT uid FROM prompt_history")]
    assert sorted(stored) == sorted(outcome.record.uid for outcome in outcomes)
