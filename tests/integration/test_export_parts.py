"""A large CSV export is written in parts by parallel COPYs: the file equals one COPY's, byte for byte.

The histories here are small, so the part size is small too (`rows_per_part`); one COPY is the same export
with a part size larger than the history. Runs the analytics in this process, as the CLI does.
"""

from __future__ import annotations

import os
from datetime import date, timedelta

import pytest

from store.analytics.engine import Analytics
from store.analytics.errors import ExportWriteError
from store.record import BackendType
from tests.support.analytics_db import at, create_history, record_at

pytestmark = pytest.mark.skipif(
    (os.cpu_count() or 1) < 2, reason="exports are written in parts only where DuckDB runs two threads or more"
)

ONE_COPY = 10**9


@pytest.fixture
def out_dir(tmp_path):
    """A directory for the reports alone (the history lives in `tmp_path`)."""
    directory = tmp_path / "reports"
    directory.mkdir()
    return directory


@pytest.fixture
def history(db_path):
    """400 records over 20 days, five at each instant (a part's bound falls among equal timestamps), with
    text that needs quoting or the formula guard, no confidence now and then, and experiment runs."""
    start = at("2026-03-01 09:00:00.250000")
    records = []
    for i in range(400):
        records.append(record_at(
            (start + timedelta(hours=(i // 5) * 6)).isoformat(sep=" ")[:26],
            backend=BackendType.FEW_SHOT if i % 3 else BackendType.ZERO_SHOT,
            confidence=None if i % 11 == 0 else (i % 10) / 10,
            original_idea=f"=SUM(A{i}) idée {i}" if i % 7 == 0 else f"idea {i}, \"quoted\"\nsecond line 🙂",
            experiment_id="exp-1" if i % 13 == 0 else None,
        ))
    return create_history(db_path, records)


@pytest.mark.parametrize("filters", [
    {},
    {"backend": "few-shot", "min_confidence": 0.3},
    {"start": date(2026, 3, 4), "end": date(2026, 3, 12)},
    {"include_experiments": True},
], ids=["everything", "backend-and-confidence", "date-range", "with-experiments"])
def test_an_export_in_parts_equals_one_copy_and_reports_each_part(history, out_dir, filters):
    in_parts, one_copy = out_dir / "parts.csv", out_dir / "one.csv"
    seen = []
    with Analytics(history, snapshot_min_rows=None) as analytics:
        rows = analytics.export_records(in_parts, rows_per_part=17, progress=lambda share, n: seen.append((share, n)),
                                        **filters)
        assert analytics.export_records(one_copy, rows_per_part=ONE_COPY, **filters) == rows
    assert rows > 100
    assert in_parts.read_bytes() == one_copy.read_bytes()
    # Progress came part by part (not from the file's growth): about rows / 17 reports, rising, then done.
    counts = [n for _, n in seen]
    assert len(seen) >= rows // 17 - 2 and counts == sorted(counts) and seen[-1] == (1.0, rows)
    assert sorted(path.name for path in out_dir.iterdir()) == ["one.csv", "parts.csv"]  # no part is left


def test_an_export_in_parts_holds_every_record_once_in_time_order(history, tmp_path):
    import csv

    out = tmp_path / "parts.csv"
    with Analytics(history, snapshot_min_rows=None) as analytics:
        assert analytics.export_records(out, rows_per_part=9, include_experiments=True) == 400
    with out.open(encoding="utf-8", newline="") as handle:
        records = list(csv.DictReader(handle))
    assert [int(r["id"]) for r in records] == list(range(1, 401))  # equal timestamps stay in id order
    assert [r["timestamp"] for r in records] == sorted(r["timestamp"] for r in records)
    assert records[7]["original_idea"] == "'=SUM(A7) idée 7"


def test_a_part_that_cannot_be_written_fails_the_export_naming_the_report_and_leaves_nothing(history, out_dir):
    out = out_dir / "report.csv"
    out.write_bytes(b"the previous report\r\n")
    # The sixth part's file cannot be created (its name is a link into a directory that does not exist):
    # the parts before it were written, the export stops, and the previous report stays as it was.
    blocked = out_dir / f"report.csv.{os.getpid()}.tmp.part5"
    blocked.symlink_to(out_dir / "missing" / "part")
    with Analytics(history, snapshot_min_rows=None) as analytics:
        with pytest.raises(ExportWriteError) as caught:
            analytics.export_records(out, rows_per_part=20)
    message = str(caught.value)
    assert message.startswith(f"cannot write the CSV report {out} (")
    assert ".part" not in message and ".tmp" not in message
    assert message.endswith("write it to a file in a directory you can write, with free space")
    assert out.read_bytes() == b"the previous report\r\n"
    assert sorted(path.name for path in out_dir.iterdir()) == ["report.csv"]


def test_a_small_export_or_a_text_search_is_one_copy_with_the_same_file(history, tmp_path):
    # Below two parts, and with a text search (each part would search again), the export is one COPY.
    with Analytics(history, snapshot_min_rows=None) as analytics:
        seen = []
        rows = analytics.export_records(tmp_path / "a.csv", rows_per_part=300, progress=lambda *p: seen.append(p))
        assert rows == 369 and seen[-1] == (1.0, 369) and len(seen) < 5  # no report per part
        found = analytics.export_records(tmp_path / "b.csv", rows_per_part=5, text="idée")
        assert found == analytics.export_records(tmp_path / "c.csv", rows_per_part=ONE_COPY, text="idée") > 0
    assert (tmp_path / "b.csv").read_bytes() == (tmp_path / "c.csv").read_bytes()


def test_rows_per_part_below_one_is_refused(history, tmp_path):
    from store.analytics.errors import AnalyticsQueryError

    with Analytics(history, snapshot_min_rows=None) as analytics:
        with pytest.raises(AnalyticsQueryError, match="rows_per_part must be a whole number of at least 1, got 0"):
            analytics.export_records(tmp_path / "x.csv", rows_per_part=0)
    assert not (tmp_path / "x.csv").exists()
