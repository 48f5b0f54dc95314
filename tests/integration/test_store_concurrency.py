"""Concurrent writers and readers lose nothing; a writer killed with SIGKILL loses nothing it acknowledged."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from contextlib import closing
from pathlib import Path

import pytest

from store.sqlite.migrations import migrate
from store.record import PromptHistory
from store.sqlite.repository import SQLitePromptRepository
from tests.support.builders import make_record


def stored_uids(path: Path) -> list[str]:
    with closing(sqlite3.connect(path)) as conn:
        return [uid for (uid,) in conn.execute("SELECT uid FROM prompt_history")]


def integrity(path: Path) -> str:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


def test_eight_threads_saving_at_once_lose_nothing_while_a_reader_reads(db_path):
    migrate(db_path)
    repo = SQLitePromptRepository(db_path)
    acknowledged: list[list[str]] = [[] for _ in range(8)]
    errors: list[BaseException] = []
    writers_done = threading.Event()

    def write(slot: int) -> None:
        try:
            for n in range(200):
                saved = repo.save(make_record(original_idea=f"thread {slot} idea {n}"))
                acknowledged[slot].append(saved.uid)
        except BaseException as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    def read() -> None:
        try:
            while not writers_done.is_set():
                repo.find_recent(limit=50)
                repo.get_statistics()
                repo.search("idea 1")
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    writers = [threading.Thread(target=write, args=(slot,)) for slot in range(8)]
    reader = threading.Thread(target=read)
    reader.start()
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    writers_done.set()
    reader.join()
    repo.close()

    assert errors == []
    uids = stored_uids(db_path)
    assert len(uids) == 1600
    assert sorted(uids) == sorted(uid for slot in acknowledged for uid in slot)
    assert integrity(db_path) == "ok"


def _save_in_child(path: str, slot: int) -> list[str]:
    repo = SQLitePromptRepository(path)
    uids = []
    for n in range(300):
        record = PromptHistory(
            original_idea=f"process {slot} idea {n}", improved_prompt="A prompt", backend="few-shot",
            model_version="test",
        )
        uids.append(repo.save(record).uid)
    repo.close()
    return uids


@pytest.mark.slow
def test_three_processes_saving_at_once_lose_nothing_while_a_reader_reads(db_path):
    migrate(db_path)
    reader = SQLitePromptRepository(db_path)
    reads = 0
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        pending = pool.starmap_async(_save_in_child, [(str(db_path), slot) for slot in range(3)])
        while not pending.ready():
            reader.find_recent(limit=20)
            reader.get_statistics()
            reads += 1
        acknowledged = pending.get(timeout=120)
    reader.close()
    uids = stored_uids(db_path)
    assert len(uids) == 900 == len(set(uids))
    assert sorted(uids) == sorted(uid for child in acknowledged for uid in child)
    assert reads > 0
    assert integrity(db_path) == "ok"


CHILD = """
import sys
from store.record import PromptHistory
from store.sqlite.repository import SQLitePromptRepository

repo = SQLitePromptRepository(sys.argv[1])
n = 0
while True:
    n += 1
    make = lambda i: PromptHistory(original_idea=f"killed writer idea {i}", improved_prompt="P" * 2000,
                                   backend="zero-shot", model_version="test", guardrails=("g",) * 5)
    if n % 5:
        saved = [repo.save(make(n))]
    else:
        batch = [make(f"{n}.{i}") for i in range(200)]
        repo.save_many(batch, batch_size=100)
        saved = batch
    # Acknowledge only after the call returned: these rows are promised to be durable.
    sys.stdout.write("".join(record.uid + "\\n" for record in saved))
    sys.stdout.flush()
"""


@pytest.mark.slow
def test_a_writer_killed_with_sigkill_leaves_a_sound_database_with_every_acknowledged_row(db_path):
    migrate(db_path)
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(db_path)], stdout=subprocess.PIPE, text=True)
    acknowledged = []
    try:
        for line in child.stdout:
            acknowledged.append(line.strip())
            if len(acknowledged) >= 3_000:
                break
        os.kill(child.pid, signal.SIGKILL)
        acknowledged.extend(line.strip() for line in child.stdout)  # what it acknowledged before dying
    finally:
        child.kill()
        child.wait()
    assert child.returncode == -signal.SIGKILL
    acknowledged = [uid for uid in acknowledged if uid]
    assert len(acknowledged) >= 3_000
    assert integrity(db_path) == "ok"
    stored = set(stored_uids(db_path))
    assert set(acknowledged) <= stored
    # the database is still fully usable afterwards
    assert SQLitePromptRepository(db_path).save(make_record()).id > len(acknowledged)
