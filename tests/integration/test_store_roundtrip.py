"""Property: any valid record comes back from SQLite exactly as it went in, and is stored in the fixed formats."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store.sqlite.migrations import migrate
from store.query_rules import like_pattern, text_matches
from store.record import BackendType, PromptHistory
from store.sqlite.repository import SQLitePromptRepository

AWKWARD = [
    "'; DROP TABLE prompt_history; --",
    'He said "hi" and it\'s fine',
    "100% of _all_ \\ paths",
    "مرحبا بالعالم — שלום",
    "emoji 🎉 👩‍💻 🇵🇹",
    "line one\nline two\r\nline three\ttabbed",
    "   padded   ",
]
characters = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
free_text = st.one_of(st.sampled_from(AWKWARD), st.text(characters, max_size=300))
idea = st.one_of(st.sampled_from(AWKWARD), st.text(characters, min_size=5, max_size=300)).filter(
    lambda text: len("".join(text.split())) >= 5
)
prompt = free_text.filter(lambda text: text.strip())
unit = st.none() | st.floats(min_value=0.0, max_value=1.0)
zones = st.sampled_from([timezone.utc, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))])

records = st.builds(
    PromptHistory,
    original_idea=idea,
    improved_prompt=prompt,
    backend=st.sampled_from(BackendType),
    model_version=free_text,
    context=free_text,
    role=free_text,
    directive=free_text,
    framework=free_text,
    guardrails=st.lists(free_text, max_size=6).map(tuple),
    confidence=unit,
    reasoning=st.none() | free_text,
    latency_ms=st.none() | st.floats(min_value=0.0, max_value=1e9),
    program_version=st.none() | free_text,
    quality=unit,
    experiment_id=st.none() | free_text,
    timestamp=st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=zones),
)


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    """One migrated database for every generated example (a fresh file per example would be slow)."""
    path = tmp_path_factory.mktemp("roundtrip") / "history.db"
    migrate(path)
    with SQLitePromptRepository(path) as repository:
        yield repository


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(record=records)
def test_any_valid_record_round_trips_exactly(repo, record):
    saved = repo.save(record)
    assert repo.get(saved.id) == saved
    assert saved == replace(record, id=saved.id)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(record=records)
def test_stored_rows_use_json_guardrails_and_the_fixed_utc_timestamp_format(repo, record):
    saved = repo.save(record)
    with closing(sqlite3.connect(repo.db_path)) as conn:
        stamp, guardrails, backend = conn.execute(
            "SELECT timestamp, guardrails, backend FROM prompt_history WHERE id = ?", (saved.id,)
        ).fetchone()
    assert json.loads(guardrails) == list(record.guardrails)
    assert backend == record.backend.value
    assert len(stamp) == len("2026-01-03T10:15:42.123456+00:00") and stamp.endswith("+00:00") and stamp[10] == "T"
    assert datetime.fromisoformat(stamp) == record.timestamp


@settings(max_examples=100, deadline=None)
@given(needle=st.text(st.characters(max_codepoint=127, blacklist_characters="\x00"), max_size=4),
       haystack=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20))
def test_the_fakes_text_rule_for_ascii_text_is_exactly_sqlites_escaped_like(needle, haystack):
    with closing(sqlite3.connect(":memory:")) as conn:
        (like,) = conn.execute("SELECT ? LIKE ? ESCAPE '\\'", (haystack, like_pattern(needle))).fetchone()
    assert bool(like) == text_matches(needle, haystack)
