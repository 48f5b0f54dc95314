"""History's search through the analytics worker: full-text when indexed, relevance or time order, the
substring scan (and a progress figure) while an upgraded history's index is still being built."""

from __future__ import annotations

import csv
import io
import sqlite3
from contextlib import closing

import pytest

from store.analytics.errors import AnalyticsQueryError
from store.analytics.worker import AnalyticsWorker
from store.sqlite.migrations import migrate
from store.sqlite.search_index import backfill
from tests.support.analytics_db import create_history, record_at


def _records():
    return [
        record_at("2026-02-01 10:00:00", original_idea="A café menu", improved_prompt="Describe the menu",
                  role="Chef", guardrails=("No prices",)),
        record_at("2026-02-02 10:00:00", original_idea="Newsletter about the café café café",
                  improved_prompt="Write a newsletter: café news", role="Writer"),
        record_at("2026-02-03 10:00:00", original_idea="Release notes", improved_prompt="Summarise the changes",
                  directive="Mention the cafe integration", guardrails=("Mention no café",)),
        record_at("2026-02-04 10:00:00", original_idea="Tax summary", improved_prompt="Explain the tax",
                  context="For a newsletter audience"),
    ]


@pytest.fixture
def worker(tmp_path):
    path = create_history(tmp_path / "h.db", _records())
    with AnalyticsWorker(path, verify_interval_s=0) as analytics:
        yield analytics


def _ideas(frame) -> list[str]:
    return frame["original_idea"].tolist()


def test_search_finds_words_in_every_indexed_field_accents_ignored(worker):
    frame, total = worker.history_page(text="CAFE")
    assert total == 3  # the idea, the prompt, the directive and a guardrail all count; newest first
    assert _ideas(frame) == ["Release notes", "Newsletter about the café café café", "A café menu"]
    assert worker.history_page(text="newsletter -cafe")[1] == 1  # the tax summary: newsletter in its context
    assert worker.history_page(text='"café news"')[1] == 1
    assert worker.history_page(text="summ*")[1] == 2
    assert worker.history_page(text="chef OR tax")[1] == 2


def test_relevance_order_puts_the_record_with_most_matches_first(worker):
    frame, total = worker.history_page(text="cafe", order="relevance")
    assert total == 3 and _ideas(frame)[0] == "Newsletter about the café café café"
    with pytest.raises(AnalyticsQueryError, match="order must be one of time, relevance"):
        worker.history_page(text="cafe", order="best")


@pytest.mark.parametrize("typed", ['"', "*", "-", "OR", 'menu"', "(café", "NEAR(a b)", "😀", "a:b", "^x", "''"])
def test_operators_a_user_types_never_raise(worker, typed):
    frame, total = worker.history_page(text=typed)
    assert total == len(frame)


def test_the_download_holds_what_the_search_shows(worker):
    data = worker.records_csv(text="cafe", newest_first=True)
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    assert [row["original_idea"] for row in rows] == _ideas(worker.history_page(text="cafe")[0])


def test_while_the_index_is_built_search_scans_substrings_and_says_how_far_it_got(tmp_path):
    path = tmp_path / "old.db"
    create_history(path, _records())
    with closing(sqlite3.connect(path)) as conn, conn:  # as if upgraded from version 6: nothing indexed yet
        conn.execute("DELETE FROM prompt_history_fts")
        conn.execute("UPDATE app_settings SET value = '4' WHERE key = 'search_backfill_end'")
        conn.execute("UPDATE app_settings SET value = '1' WHERE key = 'search_backfill_done'")
    migrate(path)
    with AnalyticsWorker(path, verify_interval_s=0) as analytics:
        assert analytics.search_status() == {"indexed": 0.25}
        assert analytics.history_page(text="ews")[1] == 1  # a substring of idea or prompt: the scan
        backfill(path)
        assert analytics.search_status() == {"indexed": 1.0}
        assert analytics.history_page(text="ews")[1] == 0  # full words now
        assert analytics.history_page(text="news")[1] == 1
