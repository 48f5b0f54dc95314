"""Downloads through the worker: a temporary file instead of bytes through the pipe, progress from the
other process, and exports in a process of their own so they never hold up another session's query."""

from __future__ import annotations

import csv
import io
import sqlite3
import stat
import threading
import time
from contextlib import closing
from datetime import timedelta

import pytest

from store.analytics.errors import ExportTooLarge
from store.analytics.worker import AnalyticsWorker
from tests.support.analytics_db import at, create_history, record_at

ROWS = 400


@pytest.fixture
def history(db_path):
    start = at("2026-01-01 08:00:00")
    return create_history(db_path, [
        record_at((start + timedelta(hours=3 * i)).isoformat(sep=" ")[:19], uid=f"r{i}",
                  original_idea=f"=HYPERLINK(\"x\") idea {i}" if i % 7 == 0 else f"idea {i}, \"quoted\"\nline two")
        for i in range(ROWS)
    ])


@pytest.fixture
def worker(history, tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))  # the worker processes (spawned later) write here
    (tmp_path / "tmp").mkdir()
    with AnalyticsWorker(history) as analytics:
        yield analytics


def test_a_download_is_a_private_temporary_file_equal_to_the_csv_and_removed_after(worker, tmp_path):
    reports: list[tuple[float, int]] = []
    exported = worker.records_file(newest_first=True, progress=lambda share, rows: reports.append((share, rows)))
    assert exported.rows == ROWS and exported.path.parent.parent == tmp_path / "tmp"
    assert stat.S_IMODE(exported.path.parent.stat().st_mode) == 0o700  # other users cannot read the records
    data = exported.path.read_bytes()
    assert data == worker.records_csv(newest_first=True)
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
    assert [row["uid"] for row in rows] == [f"r{i}" for i in reversed(range(ROWS))]
    assert rows[-1]["original_idea"] == "'=HYPERLINK(\"x\") idea 0"  # the formula guard
    # Progress came back from the export process: shares that only grow, ending at every row.
    assert reports and reports[-1] == (1.0, ROWS)
    assert [share for share, _ in reports] == sorted(share for share, _ in reports)
    exported.remove()
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_download_larger_than_its_limit_is_refused_and_leaves_nothing(worker, tmp_path):
    with pytest.raises(ExportTooLarge, match="more than the 10 records"):
        worker.records_file(max_rows=10)
    assert list((tmp_path / "tmp").iterdir()) == []
    assert worker.records_file(max_rows=ROWS).rows == ROWS  # exactly the limit is allowed


def test_a_query_is_answered_while_another_sessions_export_is_still_in_progress(worker):
    assert worker.kpis()["count"] == ROWS
    exporting, release = threading.Event(), threading.Event()
    results: dict[str, object] = {}

    def held(share: float, rows: int) -> None:  # the export stays in progress until the query is answered
        exporting.set()
        release.wait(60)

    def export() -> None:
        results["export"] = worker.records_file(progress=held)

    exporter = threading.Thread(target=export)
    exporter.start()
    try:
        assert exporting.wait(60)
        asker = threading.Thread(target=lambda: results.setdefault("kpis", worker.kpis()))
        asker.start()
        asker.join(60)  # with one worker process this waits for the export: for ever here
        assert not asker.is_alive() and results["kpis"]["count"] == ROWS
        assert worker.export_pid not in (None, worker.pid)  # two processes
    finally:
        release.set()
        exporter.join(60)
    assert results["export"].rows == ROWS
    results["export"].remove()


def test_a_caller_that_gives_up_during_the_progress_cancels_the_export_and_the_next_one_works(worker):
    class GaveUp(Exception):
        """What Streamlit raises in a script that is rerun or stopped."""

    def give_up(share: float, rows: int) -> None:
        raise GaveUp

    with pytest.raises(GaveUp):
        worker.records_file(progress=give_up)
    assert worker.export_pid is None  # the export process was stopped, with the reply it would have sent
    assert worker.kpis()["count"] == ROWS  # queries were never affected
    exported = worker.records_file()
    assert exported.rows == ROWS
    exported.remove()


def test_a_row_deleted_behind_the_apps_back_is_noticed_by_the_check_the_worker_runs_when_idle(history):
    # A delete by another tool (no prune generation, the newest row kept) is only found by the periodic row
    # count check, which the worker runs between requests rather than inside one.
    with AnalyticsWorker(history, verify_interval_s=0.2) as worker:
        assert worker.kpis()["count"] == ROWS
        with closing(sqlite3.connect(history)) as conn, conn:
            conn.execute("DELETE FROM prompt_history WHERE id = 5")
        for _ in range(60):  # the worker checks once it has been idle for IDLE_S after a reply
            time.sleep(0.5)
            if worker.kpis()["count"] == ROWS - 1:
                break
        assert worker.kpis()["count"] == ROWS - 1


def test_a_download_before_any_history_exists_is_the_header_alone_and_creates_no_database(db_path, tmp_path):
    with AnalyticsWorker(db_path) as worker:
        reports: list[tuple[float, int]] = []
        exported = worker.records_file(progress=lambda share, rows: reports.append((share, rows)))
    assert exported.rows == 0 and reports == [(1.0, 0)]
    assert exported.path.read_text(encoding="utf-8").startswith("id,uid,")
    assert exported.path.read_text(encoding="utf-8").count("\n") == 1
    exported.remove()
    assert not exported.path.parent.exists() and not db_path.exists()
