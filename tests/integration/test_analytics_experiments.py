"""Experiment runs (records with an experiment id) are left out of History and Analytics unless included.

They are batches of test runs compared on the Compare page; mixed into a user's own history they skewed the
KPIs, charts, the History table and its downloads.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from store.analytics.worker import AnalyticsWorker
from tests.support.analytics_db import add, create_history, record_at


@pytest.fixture
def history(db_path):
    return create_history(db_path, [
        record_at("2026-01-10 10:00:00", uid="own-1", confidence=0.5, framework="RTF"),
        record_at("2026-01-11 10:00:00", uid="own-2", confidence=0.7, framework="RTF"),
        record_at("2026-01-11 11:00:00", uid="exp-1", confidence=0.9, framework="CO-STAR", experiment_id="e1"),
        record_at("2026-01-12 11:00:00", uid="exp-2", confidence=0.9, framework="CO-STAR", experiment_id="e1"),
    ])


def _uids(data: bytes) -> list[str]:
    return [row["uid"] for row in csv.DictReader(io.StringIO(data.decode("utf-8")))]


def test_every_analytics_view_leaves_experiment_runs_out_unless_included(history, tmp_path):
    with AnalyticsWorker(history) as worker:
        kpis = worker.kpis()
        assert kpis["count"] == 2 and kpis["avg_confidence"] == pytest.approx(0.6)
        assert (kpis["start"], kpis["end"]) == ("2026-01-10", "2026-01-11")  # the range of the user's own records
        assert worker.kpis(include_experiments=True)["count"] == 4
        assert worker.statistics()["total_count"] == 2
        assert worker.timeseries(date(2026, 1, 10), date(2026, 1, 12), bucket="day")["count"].sum() == 2
        assert worker.top_frameworks()["framework"].tolist() == ["RTF"]
        assert set(worker.top_frameworks(include_experiments=True)["framework"]) == {"RTF", "CO-STAR"}
        page = worker.analytics_page(date(2026, 1, 10), date(2026, 1, 12))
        assert page["kpis"]["count"] == 2 and page["top_frameworks"]["count"].sum() == 2
        frame, total = worker.history_page()
        assert total == 2 and frame["uid"].tolist() == ["own-2", "own-1"]
        frame, total = worker.history_page(include_experiments=True)
        assert total == 4 and frame["experiment_id"].notna().tolist() == [True, True, False, False]
        assert _uids(worker.records_csv()) == ["own-1", "own-2"]
        assert _uids(worker.records_csv(include_experiments=True, newest_first=True)) == ["exp-2", "exp-1", "own-2", "own-1"]
        assert worker.export_records(tmp_path / "own.csv") == 2
        assert worker.export_summary(tmp_path / "summary.csv", include_experiments=True) == 3
        assert sum(len(values) for values in worker.unpaired_samples(metric="confidence").values()) == 2


def test_records_saved_later_keep_their_experiment_id_in_the_read_model(history):
    with AnalyticsWorker(history) as worker:
        assert worker.kpis()["count"] == 2
        add(history, record_at("2026-01-13 10:00:00", uid="exp-3", experiment_id="e2"),
            record_at("2026-01-13 11:00:00", uid="own-3"))
        assert worker.kpis()["count"] == 3  # appended: the new experiment run is recognised as one
        assert worker.kpis(include_experiments=True)["count"] == 6


def test_a_snapshot_restored_by_a_new_worker_keeps_the_experiment_ids(history):
    add(history, *[record_at(f"2026-01-{1 + i % 28:02d} 09:00:00", uid=f"bulk{i}", experiment_id="big" if i % 2 else None)
                   for i in range(60)])
    with AnalyticsWorker(history, snapshot_min_rows=50) as first:
        expected = first.kpis()["count"]
    assert expected == 2 + 30
    with AnalyticsWorker(history, snapshot_min_rows=50) as second:
        assert second.kpis()["count"] == expected and second.status()["first_sync"] == "restore"
        assert second.kpis(include_experiments=True)["count"] == 64


def _cli(*args: str) -> subprocess.CompletedProcess:
    script = Path(sys.executable).with_name("prompt-improver")
    return subprocess.run([str(script), *args], capture_output=True, text=True, timeout=180)


def test_history_stats_and_export_commands_leave_experiment_runs_out_unless_included(history, tmp_path):
    for extra, expected in (([], ["own-2", "own-1"]), (["--include-experiments"], ["exp-2", "exp-1", "own-2", "own-1"])):
        listed = _cli("history", "--json", "--db", str(history), *extra)
        assert listed.returncode == 0, listed.stderr
        assert [record["uid"] for record in json.loads(listed.stdout)] == expected
        stats = _cli("stats", "--json", "--db", str(history), *extra)
        assert stats.returncode == 0, stats.stderr
        assert json.loads(stats.stdout)["total_count"] == len(expected)
        out = tmp_path / "out.csv"
        export = _cli("export", "-o", str(out), "--db", str(history), *extra)
        assert export.returncode == 0, export.stderr
        assert sorted(_uids(out.read_bytes())) == sorted(expected)
