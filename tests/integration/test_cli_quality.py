"""`prompt-improver score` and `rescore`, end to end: the fixture set through the real command, per-line
errors, stdin, and rescoring real SQLite files (checked with raw SQL), killed midway and resumed."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path

import pytest

from pipeline.quality import METRIC_VERSION, QualityMetric
from pipeline.rescore import improvement_of
from prompt_improver.settings import load_settings
from prompt_improver.wiring import open_repository
from tests.support.builders import make_record
from tests.support.quality_fixtures import DEGENERATE, GOOD, MODEL_ANSWERS, as_improvement, read_fixture


def results(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


# -- score -------------------------------------------------------------------------------------------------


def test_score_separates_every_good_improvement_from_every_degenerate_answer(run, tmp_path):
    good, bad = read_fixture(GOOD), read_fixture(DEGENERATE) + read_fixture(MODEL_ANSWERS)
    lines = tmp_path / "all.jsonl"
    lines.write_text("".join(json.dumps(item) + "\n" for item in good + bad), encoding="utf-8")

    code, out, err = run("score", lines, "--json")

    assert (code, err) == (0, "")
    scored = results(out)
    assert [item["line"] for item in scored] == list(range(1, len(good) + len(bad) + 1))  # one each, in order
    for item in scored[: len(good)]:
        assert item["quality"] >= 0.7 and item["flags"] == [], item
    for item in scored[len(good) :]:
        assert item["quality"] < 0.5 and item["flags"], item
    assert set(scored[0]["criteria"]) == {"role", "directive", "framework", "guardrails", "coverage", "length",
                                          "no_placeholder"}


def test_score_reports_each_bad_line_by_number_scores_the_rest_and_exits_non_zero(run, tmp_path):
    good = json.dumps(read_fixture(GOOD)[0])
    lines = tmp_path / "mixed.jsonl"
    lines.write_bytes(
        "\n".join([good, "not json", '{"original_idea": "an idea"}', "", '["a list"]',
                   '{"original_idea": "x y z", "improved_prompt": "p", "guardrails": "one string"}', good]).encode()
        + b"\n\xff\xfe broken bytes\n"
    )

    code, out, err = run("score", lines, "--json")

    assert code == 1
    scored = results(out)
    assert [item["line"] for item in scored] == [1, 2, 3, 5, 6, 7, 8]  # the blank line 4 is skipped
    assert scored[0]["quality"] == scored[5]["quality"] == 1.0
    errors = {item["line"]: item["error"] for item in scored if "error" in item}
    assert "not JSON" in errors[2] and "improved_prompt must be non-empty" in errors[3]
    assert "JSON object" in errors[5] and "guardrails must be a list" in errors[6] and "UTF-8" in errors[8]
    assert "error: line 2: not JSON" in err
    assert err.splitlines()[-1].startswith("error: 5 line(s) could not be scored (line 2, 3, 5, 6, 8)")
    assert "Traceback" not in err


def test_score_without_json_prints_one_readable_line_per_input_line(run, tmp_path):
    lines = tmp_path / "two.jsonl"
    lines.write_text("\n".join(json.dumps(item) for item in read_fixture(DEGENERATE)[:2]) + "\n", encoding="utf-8")
    code, out, _ = run("score", lines)
    assert code == 0
    assert out.splitlines() == ["line 1: quality 0.4500  flags: placeholder", "line 2: quality 0.4500  flags: placeholder"]


def test_score_reads_standard_input_with_a_dash(tmp_path):
    item = read_fixture(MODEL_ANSWERS)[0]
    done = subprocess.run(
        [sys.executable, "-m", "prompt_improver.cli", "score", "-", "--json"], input=json.dumps(item) + "\n",
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    expected = QualityMetric().evaluate(item["original_idea"], as_improvement(item), item["context"])
    assert results(done.stdout) == [{"line": 1, **expected.to_dict()}]


@pytest.mark.parametrize("target", ["missing.jsonl", "."])
def test_score_of_a_missing_file_or_a_directory_is_a_one_line_error(run, target):
    code, out, err = run("score", target)
    assert (code, out) == (1, "")
    assert err.startswith("error: ") and err.count("\n") == 1 and "JSON Lines file" in err


# -- rescore -----------------------------------------------------------------------------------------------


def _stored(db_path: Path) -> list[tuple]:
    with closing(sqlite3.connect(db_path)) as conn:
        return conn.execute("SELECT id, quality, metric_version FROM prompt_history ORDER BY id").fetchall()


def _history(db_path: Path, count: int) -> list:
    """`count` records: good and degenerate fixture answers, stored with stale scores (metric 1, or none)."""
    items = read_fixture(GOOD) + read_fixture(DEGENERATE)
    records = []
    for n in range(count):
        item = items[n % len(items)]
        stale = dict(quality=0.9, metric_version=1) if n % 2 else dict(quality=None)
        records.append(make_record(
            original_idea=item["original_idea"], context=item["context"], improved_prompt=item["improved_prompt"],
            role=item["role"], directive=item["directive"], framework=item["framework"],
            guardrails=tuple(item["guardrails"]), timestamp=datetime(2026, 1, 1 + n % 28, tzinfo=timezone.utc), **stale,
        ))
    with open_repository(load_settings(sqlite_db_path=db_path)) as repo:
        repo.save_many(records)
        return [repo.get(n + 1) for n in range(count)]


def test_rescore_recomputes_every_stale_score_under_the_current_metric(run, db_path):
    records = _history(db_path, 40)
    metric = QualityMetric()

    code, out, err = run("rescore", "--db", db_path, "--batch-size", "15")

    assert code == 0
    assert out == f"rescored 40 records under quality metric {METRIC_VERSION}\n"
    assert err.splitlines() == ["rescored 15 of 40 records (38%)", "rescored 30 of 40 records (75%)",
                                "rescored 40 of 40 records (100%)"]
    expected = [(r.id, metric.evaluate(r.original_idea, improvement_of(r), r.context).quality, METRIC_VERSION)
                for r in records]
    assert _stored(db_path) == expected
    assert any(quality < 0.5 for _, quality, _ in expected) and any(quality >= 0.7 for _, quality, _ in expected)
    assert run("rescore", "--db", db_path)[1] == f"every record is already scored by quality metric {METRIC_VERSION}; nothing to do\n"


def test_rescore_since_a_date_leaves_older_records_alone(run, db_path):
    _history(db_path, 28)  # one record a day, 1–28 January
    before = _stored(db_path)
    assert run("rescore", "--db", db_path, "--since", "2026-01-21")[0] == 0
    after = _stored(db_path)
    assert after[:20] == before[:20]
    assert {version for _, _, version in after[20:]} == {METRIC_VERSION}


def test_rescore_refuses_a_bad_date_or_batch_size_with_one_line(run, db_path):
    for argv in (["--since", "yesterday"], ["--batch-size", "0"]):
        code, _, err = run("rescore", "--db", db_path, *argv)
        assert code == 1 and err.startswith("error: ") and err.count("\n") == 1


def test_a_killed_rescore_resumes_where_it_stopped(db_path, tmp_path):
    _history(db_path, 3000)
    command = [sys.executable, "-m", "prompt_improver.cli", "rescore", "--db", str(db_path), "--batch-size", "50"]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=os.environ.copy())
    first = process.stderr.readline()  # the first batch is stored: stop it there, as Ctrl-C or a kill would
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    process.stderr.close()
    assert first.startswith("rescored 50 of 3,000")
    done_before = sum(version == METRIC_VERSION for _, _, version in _stored(db_path))
    assert 50 <= done_before < 3000

    resumed = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=600)

    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stderr.splitlines()[0].endswith(f"of {3000 - done_before:,} records ({50 / (3000 - done_before):.0%})")
    assert resumed.stdout == f"rescored {3000 - done_before:,} records under quality metric {METRIC_VERSION}\n"
    assert {version for _, _, version in _stored(db_path)} == {METRIC_VERSION}
