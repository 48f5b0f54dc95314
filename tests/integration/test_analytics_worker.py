"""The worker's life: no database yet, freshness, pruning, a killed process, bad files, a missing extension."""

from __future__ import annotations

import hashlib
import os
import signal
import threading
from datetime import date, timedelta

import pytest

from store.analytics.errors import AnalyticsQueryError
from store.analytics.worker import AnalyticsWorker
from store.analytics.errors import AnalyticsWorkerError
from store.errors import AnalyticsUnavailable, RepositoryConnectionError
from store.analytics.errors import ExportWriteError
from store.sqlite.repository import SQLitePromptRepository
from store.timestamps import utc_now
from tests.support.analytics_db import add, create_history, raw_count, record_at
from tests.support.builders import make_record


@pytest.fixture
def worker(db_path):
    with AnalyticsWorker(db_path) as analytics:
        yield analytics


def test_a_database_that_does_not_exist_yet_gives_empty_results(worker, db_path):
    kpis = worker.kpis()
    assert kpis["count"] == 0 and kpis["start"] is None and kpis["previous"] is None
    assert worker.timeseries(date(2026, 1, 1), date(2026, 1, 3))["count"].tolist() == [0] * 6
    page, total = worker.history_page()
    assert total == 0 and page.empty and "improved_prompt" in page.columns
    assert worker.backend_distribution().empty
    assert not db_path.exists()  # reading never creates the file


def test_a_saved_record_is_visible_to_the_next_query(worker, db_path):
    create_history(db_path, [record_at("2026-01-10 10:00:00")])
    assert worker.kpis()["count"] == 1
    add(db_path, record_at("2026-01-11 10:00:00", confidence=0.2))
    kpis = worker.kpis()
    assert kpis["count"] == 2 and kpis["avg_confidence"] == pytest.approx(0.51)
    page, total = worker.history_page(text="announcement")
    assert total == 2 and page["confidence"].iloc[0] == 0.2


def test_pruning_rebuilds_the_read_model(worker, db_path):
    now = utc_now()
    old = [make_record(timestamp=now - timedelta(days=100 + i), uid=f"old{i}") for i in range(3)]
    create_history(db_path, [*old, make_record(timestamp=now - timedelta(days=1), uid="new")])
    assert worker.kpis()["count"] == 4
    with SQLitePromptRepository(db_path) as repo:
        assert repo.delete_older_than(30) == 3
    assert worker.kpis()["count"] == 1 == raw_count(db_path)


def test_a_replaced_database_file_is_read_afresh(worker, db_path):
    create_history(db_path, [record_at("2026-01-10 10:00:00", confidence=0.9)])
    assert worker.kpis()["avg_confidence"] == pytest.approx(0.9)
    db_path.unlink()
    create_history(db_path, [record_at("2026-01-10 10:00:00", confidence=0.1)])  # same id, another record
    assert worker.kpis()["avg_confidence"] == pytest.approx(0.1)


def test_the_worker_survives_being_killed(worker, db_path):
    create_history(db_path, [record_at("2026-01-10 10:00:00")])
    assert worker.kpis()["count"] == 1
    first = worker.pid
    os.kill(first, signal.SIGKILL)
    assert worker.kpis()["count"] == 1
    assert worker.pid not in (None, first)


def test_the_worker_never_writes_to_the_database(worker, db_path, tmp_path):
    create_history(db_path, [record_at("2026-01-10 10:00:00"), record_at("2026-01-11 10:00:00")])
    before = hashlib.sha256(db_path.read_bytes()).hexdigest(), db_path.stat().st_mtime_ns
    worker.kpis()
    worker.history_page(text="product")
    worker.export_records(tmp_path / "out.csv")
    assert (hashlib.sha256(db_path.read_bytes()).hexdigest(), db_path.stat().st_mtime_ns) == before


def test_an_export_onto_the_database_itself_is_refused_and_the_history_kept(worker, db_path):
    create_history(db_path, [record_at("2026-01-10 10:00:00")])
    before = db_path.read_bytes()
    for method in (worker.export_records, worker.export_summary):
        with pytest.raises(AnalyticsQueryError, match="would destroy the history"):
            method(db_path)
        with pytest.raises(AnalyticsQueryError, match="would destroy the history"):
            method(path=db_path.with_name(db_path.name + "-wal"))
    assert db_path.read_bytes() == before and raw_count(db_path) == 1


def test_a_report_that_cannot_be_written_comes_back_as_its_own_error(worker, db_path):
    create_history(db_path, [record_at("2026-01-10 10:00:00")])
    with pytest.raises(ExportWriteError, match=r"cannot write the CSV report /proc/report.csv \("):
        worker.export_records("/proc/report.csv")
    assert worker.kpis()["count"] == 1  # the worker carries on


def test_a_file_that_is_not_a_database_raises_a_connection_error(worker, db_path):
    db_path.write_bytes(b"this is not an SQLite database" * 100)
    with pytest.raises(RepositoryConnectionError, match=r"history.db is not an SQLite database \(its header"):
        worker.kpis()
    db_path.unlink()
    assert worker.kpis()["count"] == 0  # the same worker recovers once the file is fixed


def test_a_missing_extension_raises_analytics_unavailable_naming_the_fix(db_path, tmp_path, monkeypatch):
    # The wheel's file is replaced by a path that does not exist and DuckDB's own INSTALL is pointed at
    # an empty local repository, so nothing can be loaded or downloaded (the worker inherits this env).
    monkeypatch.setenv("PROMPT_IMPROVER_SQLITE_EXTENSION", str(tmp_path / "missing.duckdb_extension"))
    monkeypatch.setenv("PROMPT_IMPROVER_DUCKDB_EXTENSION_REPOSITORY", str(tmp_path / "no-repository"))
    monkeypatch.setenv("HOME", str(tmp_path))  # no extension installed in ~/.duckdb either
    create_history(db_path, [record_at("2026-01-10 10:00:00")])
    with AnalyticsWorker(db_path) as worker:
        with pytest.raises(AnalyticsUnavailable, match=r"pip install duckdb-extension-sqlite-scanner==\d"):
            worker.kpis()
        with pytest.raises(AnalyticsUnavailable):
            worker.history_page()  # every call says so, none hangs


def test_a_large_history_is_snapshotted_and_restored_by_the_next_worker(db_path):
    records = [record_at(f"2026-01-{1 + i % 28:02d} 10:00:00", uid=f"r{i}", confidence=(i % 10) / 10) for i in range(60)]
    create_history(db_path, records)
    with AnalyticsWorker(db_path, snapshot_min_rows=50) as first:
        expected = first.kpis()
    snapshot = db_path.with_name(db_path.name + ".analytics.duckdb")
    assert snapshot.is_file()
    add(db_path, record_at("2026-01-30 10:00:00", uid="late", confidence=1.0))
    with AnalyticsWorker(db_path, snapshot_min_rows=50) as second:
        kpis = second.kpis()
        assert second.status()["first_sync"] == "restore"
    assert kpis["count"] == expected["count"] + 1 == 61
    assert kpis["avg_confidence"] == pytest.approx((expected["avg_confidence"] * 60 + 1.0) / 61)


def test_a_snapshot_of_another_database_at_the_same_path_is_not_trusted(db_path):
    create_history(db_path, [record_at(f"2026-01-{1 + i % 28:02d} 10:00:00", uid=f"a{i}", confidence=0.9) for i in range(60)])
    with AnalyticsWorker(db_path, snapshot_min_rows=50) as first:
        assert first.kpis()["avg_confidence"] == pytest.approx(0.9)
    for suffix in ("", "-wal", "-shm"):
        db_path.with_name(db_path.name + suffix).unlink(missing_ok=True)
    create_history(db_path, [record_at(f"2026-01-{1 + i % 28:02d} 10:00:00", uid=f"b{i}", confidence=0.1) for i in range(60)])
    with AnalyticsWorker(db_path, snapshot_min_rows=50) as second:
        assert second.kpis()["avg_confidence"] == pytest.approx(0.1)
        assert second.status()["first_sync"] == "rebuild"


def _damage_snapshot(snapshot, how: str) -> None:
    """Damage the snapshot file as a crash or a bad disk would: a flipped byte in the block holding the
    records' ids (DuckDB checks each block's checksum), the file cut off inside that block, or garbage."""
    import duckdb  # reads the snapshot file only (never the SQLite history) in this process

    with duckdb.connect() as con:
        con.execute(f"ATTACH '{snapshot}' AS s (READ_ONLY)")
        block_id, block_offset = con.execute(
            "SELECT block_id, block_offset FROM pragma_storage_info('s.records') WHERE column_name = 'id' "
            "AND segment_type = 'BIGINT'"
        ).fetchone()
    location = 3 * 4096 + block_id * 262_144  # after the file's three headers; each block starts with a checksum
    data = bytearray(snapshot.read_bytes())
    if how == "flipped byte":
        data[location + 8 + block_offset] ^= 0xFF
    elif how == "truncated":
        del data[location + 8 + block_offset:]
    else:
        data = bytearray(os.urandom(len(data)))
    snapshot.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["flipped byte", "truncated", "garbage"])
def test_a_damaged_snapshot_is_deleted_and_rebuilt_not_reported_as_a_damaged_history(db_path, capfd, how):
    records = [record_at(f"2026-01-{1 + i % 28:02d} 10:00:00", uid=f"r{i}", confidence=(i % 10) / 10) for i in range(60)]
    create_history(db_path, records)
    with AnalyticsWorker(db_path, snapshot_min_rows=50) as first:
        expected = first.kpis()
    snapshot = db_path.with_name(db_path.name + ".analytics.duckdb")
    _damage_snapshot(snapshot, how)
    damaged = snapshot.read_bytes()
    capfd.readouterr()
    with AnalyticsWorker(db_path, snapshot_min_rows=50) as second:
        assert second.kpis() == expected  # the answer, not "the database is damaged, restore it from a backup"
        page, total = second.history_page(limit=5)
        assert total == 60 and len(page) == 5
        assert second.status()["first_sync"] == "rebuild"
    log = capfd.readouterr().err
    assert f"the analytics snapshot {snapshot} is damaged or unreadable" in log
    assert "deleted" in log and "rebuilt from the history" in log
    assert snapshot.is_file() and snapshot.read_bytes() != damaged  # written anew from the history
    with AnalyticsWorker(db_path, snapshot_min_rows=50) as third:
        assert third.kpis() == expected and third.status()["first_sync"] == "restore"


def test_many_threads_can_share_one_worker(worker, db_path):
    create_history(db_path, [record_at(f"2026-01-{day:02d} 10:00:00", uid=f"t{day}") for day in range(1, 11)])
    results: list[object] = []

    def ask(index: int) -> None:
        if index % 2:
            results.append(worker.kpis(date(2026, 1, 1), date(2026, 1, index))["count"] == index)
        else:
            page, total = worker.history_page(limit=3)
            results.append(total == 10 and len(page) == 3)

    threads = [threading.Thread(target=ask, args=(index,)) for index in range(1, 11)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert results == [True] * 10


def test_a_worker_that_does_not_answer_in_time_is_stopped_not_waited_for(db_path):
    create_history(db_path, [record_at("2026-01-10 10:00:00")])
    with AnalyticsWorker(db_path, timeout_s=0.01) as impatient:  # a new process cannot even start that fast
        with pytest.raises(AnalyticsWorkerError, match="did not answer kpis within"):
            impatient.kpis()
        assert impatient.pid is None
