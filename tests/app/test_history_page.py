"""The History page: server-side pages newest first, filters, a detail view with every field, CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

from dashboard import _queries as queries
from prompt_improver.settings import load_settings
from prompt_improver.wiring import open_repository
from store.record import BackendType
from store.timestamps import utc_now
from tests.app._support import open_app, texts
from tests.support.builders import make_record

HISTORY = "views/history.py"


def _seed(db_path: Path) -> None:
    """60 records one hour apart (#1 oldest); every 10th is about a newsletter with confidence 0.95."""
    now = utc_now()
    records = []
    for index in range(60):
        newsletter = index % 10 == 0
        records.append(make_record(
            original_idea=f"Draft a newsletter issue {index}" if newsletter else f"Summarise meeting notes {index}",
            improved_prompt="=cmd|' /C calc'!A0 You are an editor." if newsletter else "You are a note taker.",
            confidence=0.95 if newsletter else 0.5, metric_version=2,
            backend=BackendType.FEW_SHOT if index % 2 else BackendType.ZERO_SHOT,
            timestamp=now - timedelta(hours=60 - index),
        ))
    open_repository(load_settings(sqlite_db_path=db_path)).save_many(records)


def test_pages_are_served_newest_first_and_the_last_page_holds_the_rest(app_db: Path) -> None:
    _seed(app_db)
    at = open_app(HISTORY)
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) == 50 and table["id"].tolist()[:3] == [60, 59, 58]
    assert "records 1–50 of 60, newest first" in texts(at)
    at.number_input(key="history_page").set_value(2).run()
    assert at.dataframe[0].value["id"].tolist() == list(range(10, 0, -1))


def test_filters_narrow_the_table_and_the_csv_to_the_same_records(app_db: Path) -> None:
    _seed(app_db)
    at = open_app(HISTORY)
    at.text_input(key="history_text").input("newsletter").run()
    at.slider(key="history_min_confidence").set_value(0.9).run()
    at.selectbox(key="history_backend").set_value("zero-shot").run()
    assert not at.exception
    ids = at.dataframe[0].value["id"].tolist()
    assert ids == [51, 41, 31, 21, 11, 1]
    assert "**6** matching record(s)" in texts(at)

    data = queries.records_csv(str(app_db), None, None, "zero-shot", None, 0.9, "newsletter")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    assert [int(row["id"]) for row in rows] == ids
    assert all(row["improved_prompt"].startswith("'=cmd") for row in rows)  # formula neutralised


def test_selecting_a_row_shows_every_field_with_copy_buttons(app_db: Path) -> None:
    _seed(app_db)
    at = open_app(HISTORY)
    at.session_state[at.session_state["history_table_key"]] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    assert "Record #60" in texts(at)
    blocks = [code.value for code in at.code]
    assert "Summarise meeting notes 59" in blocks
    assert "You are a note taker." in blocks
    assert "- Keep it under 200 words\n- No unverifiable claims\n- Include one code sample" in blocks
    metadata = next(block for block in blocks if block.startswith("id: 60\nuid: "))
    assert "\nbackend: few-shot\n" in metadata and "\nmodel: " in metadata and "\nprogram: " in metadata
    assert "\nquality: 0.75\nquality metric: v2\n" in metadata


def test_a_selection_does_not_carry_over_to_another_page_or_filter(app_db: Path) -> None:
    _seed(app_db)
    at = open_app(HISTORY)
    at.session_state[at.session_state["history_table_key"]] = {"selection": {"rows": [1], "columns": [], "cells": []}}
    at.run()
    assert "Record #59" in texts(at)
    at.number_input(key="history_page").set_value(2).run()  # row 1 of page 2 is #9: not what the user picked
    assert not at.exception
    assert "Record #" not in texts(at)
    at.number_input(key="history_page").set_value(1).run()
    at.selectbox(key="history_backend").set_value("few-shot").run()
    assert "Record #" not in texts(at)


def test_a_search_orders_by_best_match_on_request_and_marks_the_matched_words(app_db: Path) -> None:
    _seed(app_db)
    open_repository(load_settings(sqlite_db_path=app_db)).save_many([make_record(
        original_idea="Newsletter newsletter newsletter: the café edition", timestamp=utc_now() - timedelta(days=3),
    )])
    at = open_app(HISTORY)
    at.text_input(key="history_text").input("NEWSLETTER").run()
    assert not at.exception
    assert at.dataframe[0].value["id"].tolist()[0] == 51  # newest first by default
    at.radio(key="history_order").set_value("relevance").run()
    assert at.dataframe[0].value["id"].tolist()[0] == 61  # the record saying it three times
    assert "records 1–7 of 7, best match first" in texts(at)
    at.session_state[at.session_state["history_table_key"]] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    marked = [block.value for block in at.markdown if "<mark>" in block.value]
    assert marked == ['<div style="white-space: pre-wrap"><mark>Newsletter</mark> <mark>newsletter</mark> '
                      '<mark>newsletter</mark>: the café edition</div>']


def test_the_search_box_explains_words_phrases_prefixes_and_exclusions(app_db: Path) -> None:
    _seed(app_db)
    at = open_app(HISTORY)
    help_text = at.text_input(key="history_text").help
    assert '"exact phrase"' in help_text and "`news*`" in help_text and "`-word`" in help_text


def test_an_upgraded_history_too_large_to_index_at_start_offers_to_build_the_index(app_db: Path) -> None:
    from store.sqlite.search_index import AUTO_BACKFILL_ROWS
    from tests.support.search_history import v6_history

    app_db.parent.mkdir(parents=True)
    v6_history(app_db, AUTO_BACKFILL_ROWS + 1)  # one more than the store indexes when it opens
    at = open_app(HISTORY)
    at.selectbox(key="history_range").set_value("all").run()
    at.text_input(key="history_text").input("ompt 3").run()
    assert not at.exception
    assert "The search index is 0% built" in texts(at)
    assert "**7,143** matching record(s)" in texts(at)  # the substring scan: "ompt 3" in 7,143 prompts
    at.button(key="history_build_index").click().run()
    assert not at.exception
    assert "The search index is" not in texts(at)
    assert "No record matches these filters" in texts(at)  # whole words now: no word "ompt"
    at.text_input(key="history_text").input("prompt 3").run()
    assert "**7,143** matching record(s)" in texts(at)


def test_experiment_runs_are_hidden_until_the_toggle_includes_them_in_the_table_and_the_csv(app_db: Path) -> None:
    _seed(app_db)
    runs = [make_record(original_idea=f"Experiment idea {index}", experiment_id="exp1",
                        timestamp=utc_now() - timedelta(minutes=index)) for index in range(3)]
    open_repository(load_settings(sqlite_db_path=app_db)).save_many(runs)  # ids 61-63, the newest
    at = open_app(HISTORY)
    assert not at.exception
    toggle = at.toggle(key="history_experiments")
    assert toggle.label == "Include experiment runs" and toggle.value is False
    assert at.dataframe[0].value["id"].tolist()[:2] == [60, 59]
    assert "records 1–50 of 60, newest first" in texts(at)
    own = queries.records_csv(str(app_db), None, None, None, None)
    assert own.count(b"Experiment idea") == 0

    toggle.set_value(True).run()
    assert not at.exception
    assert at.dataframe[0].value["id"].tolist()[:4] == [61, 62, 63, 60]
    assert "records 1–50 of 63, newest first" in texts(at)
    everything = queries.records_csv(str(app_db), None, None, None, None, include_experiments=True)
    assert everything.count(b"Experiment idea") == 3


def test_a_search_leaves_experiment_runs_out_until_the_toggle_includes_them(app_db: Path) -> None:
    _seed(app_db)
    runs = [make_record(original_idea=f"Experiment idea {index}", experiment_id="exp1",
                        timestamp=utc_now() - timedelta(minutes=index)) for index in range(3)]
    own = make_record(original_idea="My own experiment idea", timestamp=utc_now() - timedelta(days=2))
    open_repository(load_settings(sqlite_db_path=app_db)).save_many([*runs, own])  # ids 61-63 runs, 64 own
    at = open_app(HISTORY)
    at.text_input(key="history_text").input("experiment idea").run()
    assert not at.exception
    assert at.dataframe[0].value["id"].tolist() == [64]
    assert queries.records_csv(str(app_db), None, None, None, None, text="experiment idea").count(b"xperiment idea") == 1
    at.toggle(key="history_experiments").set_value(True).run()
    assert at.dataframe[0].value["id"].tolist() == [61, 62, 63, 64]
    everything = queries.records_csv(str(app_db), None, None, None, None, text="experiment idea", include_experiments=True)
    assert everything.count(b"xperiment idea") == 4


def test_the_csv_download_shows_its_progress_then_offers_the_matching_records_and_leaves_no_file(
    app_db: Path, tmp_path: Path, monkeypatch
) -> None:
    temporary = tmp_path / "tmp"  # where the analytics worker (a fresh process) writes the download
    temporary.mkdir()
    monkeypatch.setenv("TMPDIR", str(temporary))
    _seed(app_db)
    at = open_app(HISTORY)
    at.text_input(key="history_text").input("newsletter").run()
    assert not at.get("progress") and not at.get("download_button")  # nothing is written before it is asked for
    at.button(key="history_download_prepare").click().run()
    assert not at.exception
    (bar,) = at.get("progress")
    assert bar.proto.value == 100 and bar.proto.text.startswith("CSV ready: 6 records")
    (button,) = at.get("download_button")
    assert button.proto.label == "Download CSV"
    assert sorted(temporary.iterdir()) == []  # the worker's file was read and removed

    data, rows = queries.records_download(str(app_db), None, None, None, None, None, "newsletter", expected=6)
    assert rows == 6
    assert [int(row["id"]) for row in csv.DictReader(io.StringIO(data.decode("utf-8")))] == [51, 41, 31, 21, 11, 1]
