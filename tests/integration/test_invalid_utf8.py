"""Text another tool stored as invalid UTF-8: every reader shows it with U+FFFD, and `doctor` names the record.

The bytes are written with raw SQL (`CAST(x'..' AS TEXT)`), as a foreign writer or a damaged page would.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from prompt_improver.cli import main
from store.analytics.worker import AnalyticsWorker
from tests.support.analytics_db import create_history, record_at

# "write\xff a\xc3": a byte that starts no sequence, and a sequence cut short at the end.
BAD_IDEA = "7772697465ff2061c3"
SHOWN_IDEA = "write\ufffd a\ufffd"


@pytest.fixture
def damaged(db_path: Path) -> Path:
    create_history(db_path, [
        record_at(f"2026-01-{day:02d} 10:00:00", uid=f"u{day}", original_idea=f"idea number {day}") for day in range(1, 6)
    ])
    with closing(sqlite3.connect(db_path)) as conn, conn:
        conn.execute(f"UPDATE prompt_history SET original_idea = CAST(x'{BAD_IDEA}' AS TEXT) WHERE id = 2")
        conn.execute("UPDATE prompt_history SET framework = CAST(x'52ff54' AS TEXT) WHERE id = 4")
        # An encoded surrogate (CESU-8): accepted by some decoders, refused by DuckDB and Python alike.
        conn.execute("UPDATE prompt_history SET context = CAST(x'41eda08042' AS TEXT) WHERE id = 3")
    return db_path


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_history_json_and_table_show_invalid_text_with_replacement_characters(damaged, capsys):
    code, out, err = _run(capsys, "history", "--json", "--db", damaged)
    assert code == 0, err
    records = {record["id"]: record for record in json.loads(out)}
    assert len(records) == 5
    assert records[2]["original_idea"] == SHOWN_IDEA
    assert records[4]["framework"] == "R\ufffdT"
    assert records[3]["context"] == "A\ufffd\ufffd\ufffdB"
    code, out, err = _run(capsys, "history", "--db", damaged)
    assert code == 0, err
    assert SHOWN_IDEA in out and "5 record(s)" in out


def test_doctor_names_the_records_holding_invalid_text(damaged, capsys):
    code, out, err = _run(capsys, "doctor", "--db", damaged)
    assert code == 1
    assert "invalid text    3 record(s) not valid UTF-8: id 2, 3, 4" in out
    assert "3 record(s)" in err and "not valid UTF-8" in err and "id 2, 3, 4" in err


def test_doctor_says_nothing_of_invalid_text_in_a_clean_history(db_path, capsys):
    create_history(db_path, [record_at("2026-01-01 10:00:00", original_idea="caf\u00e9 \u2014 \U0001f600 ok")])
    code, out, err = _run(capsys, "doctor", "--db", db_path)
    assert "invalid text" not in out + err


def test_the_analytics_worker_reads_invalid_text_with_replacement_characters(damaged, tmp_path):
    with AnalyticsWorker(damaged) as worker:
        assert worker.kpis()["count"] == 5
        assert set(worker.top_frameworks()["framework"]) >= {"R\ufffdT"}
        page, total = worker.history_page(limit=10)
        assert total == 5 and SHOWN_IDEA in page["original_idea"].tolist()
        assert "A\ufffd\ufffd\ufffdB" in page["context"].tolist()
        # The full-text index finds the damaged idea by its word (U+FFFD separates words; every prompt says
        # "Write", the other ideas "idea") and the page shows it repaired.
        page, total = worker.history_page(text="WRITE\ufffd -idea")
        assert total == 1 and page["id"].tolist() == [2] and page["original_idea"].tolist() == [SHOWN_IDEA]
        assert worker.export_records(tmp_path / "all.csv") == 5
        assert SHOWN_IDEA.encode() in worker.records_csv()
    with (tmp_path / "all.csv").open(encoding="utf-8", newline="") as handle:
        ideas = [row["original_idea"] for row in csv.DictReader(handle)]
    assert SHOWN_IDEA in ideas


def test_stats_and_export_commands_do_not_fail_on_invalid_text(damaged, tmp_path):
    script = str(Path(sys.executable).with_name("prompt-improver"))
    stats = subprocess.run([script, "stats", "--json", "--db", str(damaged)], capture_output=True, text=True, timeout=180)
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout)["total_count"] == 5
    out = tmp_path / "out.csv"
    export = subprocess.run([script, "export", "-o", str(out), "--db", str(damaged)], capture_output=True, text=True, timeout=180)
    assert export.returncode == 0, export.stderr
    assert "5 rows written" in export.stdout and SHOWN_IDEA in out.read_text(encoding="utf-8")
