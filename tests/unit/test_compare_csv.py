"""The Compare page's CSV downloads neutralise formulas like every other report: an idea or an experiment
name typed as `=HYPERLINK(...)` must not run when the file is opened in a spreadsheet."""

from __future__ import annotations

import csv
import io

from dashboard._compare_data import rows_csv, summary_csv


def parsed(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def test_the_rows_csv_quotes_formula_text_and_keeps_negative_numbers_as_numbers():
    rows = [
        {"idea": '=HYPERLINK("http://evil.example","x")', "repeat": 1, "quality_difference": -0.25,
         "error": "-boom", "zero_shot_record": {"idea": "ignored"}},
        {"idea": "plain idea", "repeat": 2, "quality_difference": 0.5, "error": None, "few_shot_record": None},
    ]
    first, second = parsed(rows_csv(rows))
    assert first["idea"] == '\'=HYPERLINK("http://evil.example","x")'
    assert first["error"] == "'-boom"
    assert first["quality_difference"] == "-0.25"
    assert second["idea"] == "plain idea"
    assert "zero_shot_record" not in first


def test_the_summary_csv_quotes_a_formula_in_the_experiment_name():
    summary = {"metrics": {"quality": {"mean_difference": -0.1, "n_pairs": 12}}, "name": "=1+2", "verdict": "@SUM(A1)"}
    rows = parsed(summary_csv(summary))
    assert {row["name"] for row in rows} == {"'=1+2"}
    assert {row["verdict"] for row in rows} == {"'@SUM(A1)"}
    quality = next(row for row in rows if row["Metric"] == "Quality")
    assert quality["Difference (few − zero)"] == "-0.1"
