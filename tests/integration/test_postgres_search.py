"""PostgreSQL's full-text search finds exactly what the brute-force reference (and so SQLite's FTS5) finds,
for any typed query; an upgraded history is filled and indexed in place, and a killed run resumes."""

from __future__ import annotations

import json

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store.postgres.fts import tsquery, tsvector
from store.postgres.migrations import migrate
from store.postgres.fts import SEARCH_INDEX
from store.postgres.schema import MIGRATIONS
from store.postgres.search_index import backfill, read_progress
from store.search_query import SearchQuery, parse
from tests.integration.test_search_fts import queries, records, reference_match
from tests.support.killed_backfill import kill_backfill_after
from tests.support.search_history import FIELDS

pytestmark = pytest.mark.postgres


def insert_texts(conn: psycopg.Connection, rows: list[dict], *, words: bool = True) -> list[int]:
    """Insert records with the given text fields (guardrails: JSON text), their search words as a save
    writes them unless `words` is False (rows stored before migration 5); return their ids."""
    ids = []
    for index, row in enumerate(rows):
        texts = [row[name] for name in FIELDS]
        texts[0] = texts[0] or "."  # PostgreSQL's CHECK wants an idea; punctuation adds no word
        (record_id,) = conn.execute(
            "INSERT INTO prompt_history (uid, timestamp, backend, original_idea, context, improved_prompt, role, "
            "directive, guardrails" + (", search_vector" if words else "") + ") VALUES (%s, "
            "'2026-01-01T00:00:00+00:00'::timestamptz + make_interval(secs => %s), 'zero-shot', %s, %s, %s, %s, %s, "
            "%s::jsonb" + (", %s::tsvector" if words else "") + ") RETURNING id",
            (f"u{index}", index, *texts, *([tsvector(texts)] if words else [])),
        ).fetchone()
        ids.append(record_id)
    return ids


def found(conn: psycopg.Connection, query: SearchQuery) -> set[int]:
    if query.is_empty:
        return set()
    return {rid for (rid,) in conn.execute(
        "SELECT id FROM prompt_history WHERE search_vector @@ %s::tsquery", (tsquery(query),))}


@pytest.fixture(scope="module")
def search_url(postgres_cluster):
    url = postgres_cluster.create_database()
    migrate(url)
    return url


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(rows=st.lists(records, min_size=1, max_size=10), typed=st.lists(queries, min_size=1, max_size=6))
def test_search_finds_exactly_what_a_brute_force_scan_finds(search_url, rows, typed):
    with psycopg.connect(search_url) as conn:
        conn.execute("DELETE FROM prompt_history")
        ids = insert_texts(conn, rows)
        for text in typed:
            query = parse(text)  # never raises, whatever was typed
            expected = {rid for rid, row in zip(ids, rows) if not query.is_empty and reference_match(
                query, {name: row[name] for name in FIELDS})}
            assert found(conn, query) == expected, (text, None if query.is_empty else tsquery(query))
        conn.rollback()


def test_the_index_answers_phrases_prefixes_and_exclusions_as_sqlite_does(search_url):
    with psycopg.connect(search_url) as conn:
        conn.execute("DELETE FROM prompt_history")
        a, b, c = insert_texts(conn, [
            dict.fromkeys(FIELDS, "") | {"original_idea": "Café newsletter", "improved_prompt": "e-mail 3.5",
                                         "guardrails": "[]"},
            dict.fromkeys(FIELDS, "") | {"original_idea": "café", "improved_prompt": "newsletter",
                                         "guardrails": json.dumps(["Über alles"], ensure_ascii=False)},
            dict.fromkeys(FIELDS, "") | {"original_idea": "news", "improved_prompt": "letter", "guardrails": "[]"},
        ])
        assert found(conn, parse("CAFE newsletter")) == {a, b}
        assert found(conn, parse('"café newsletter"')) == {a}  # b has the words in two fields
        assert found(conn, parse("news*")) == {a, b, c}
        assert found(conn, parse("uber -mail")) == {b}
        assert found(conn, parse("3 5 OR 42")) == {a}  # PostgreSQL's own parser reads 3.5 as one number
        assert found(conn, parse('"news letter')) == set()  # across two fields: no phrase
        conn.execute("SET LOCAL enable_seqscan = off")
        plan = "\n".join(row[0] for row in conn.execute(
            "EXPLAIN SELECT id FROM prompt_history WHERE search_vector @@ %s::tsquery", (tsquery(parse("cafe")),)))
        assert SEARCH_INDEX in plan
        conn.rollback()


def _version_4_history(url: str, rows: int) -> None:
    """A history as schema version 4 left it (no search column), holding `rows` records."""
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE prompt_improver_schema (version integer NOT NULL)")
        conn.execute("INSERT INTO prompt_improver_schema VALUES (4)")
        for script in MIGRATIONS[:4]:
            conn.execute(script)
        insert_texts(conn, [dict.fromkeys(FIELDS, "") | {
            "original_idea": f"idea number {i} café", "improved_prompt": f"prompt {i % 7}", "guardrails": "[]",
        } for i in range(rows)], words=False)


def test_an_upgraded_history_is_filled_and_indexed_in_place(postgres_url):
    _version_4_history(postgres_url, 250)
    migrate(postgres_url)
    with psycopg.connect(postgres_url) as conn:
        assert found(conn, parse("cafe")) == set()  # not filled yet
        assert read_progress(conn).fraction == 0.0
    seen = []
    assert backfill(postgres_url, batch_rows=100, progress=seen.append).complete
    assert [round(state.fraction, 3) for state in seen] == [0.4, 0.8, 0.996, 1.0]  # complete once indexed
    with psycopg.connect(postgres_url) as conn:
        assert len(found(conn, parse("cafe"))) == 250
        assert len(found(conn, parse('"prompt 3"'))) == len([i for i in range(250) if i % 7 == 3])
        assert conn.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = %s::regclass",
                            (SEARCH_INDEX,)).fetchone() == (True,)


def test_a_large_upgrade_waits_for_the_command_and_a_fresh_database_is_indexed_at_once(postgres_url, postgres_cluster):
    _version_4_history(postgres_url, 30)
    migrate(postgres_url)
    assert backfill(postgres_url, max_rows=10).fraction == 0.0  # more than max_rows left: left alone
    fresh = postgres_cluster.create_database()
    migrate(fresh)
    with psycopg.connect(fresh) as conn:
        assert read_progress(conn).complete


def test_a_backfill_killed_mid_way_and_a_killed_index_build_resume_to_a_complete_index(postgres_url):
    _version_4_history(postgres_url, 2000)
    migrate(postgres_url)
    kill_backfill_after("postgres", postgres_url)
    with psycopg.connect(postgres_url) as conn:
        done = int(conn.execute("SELECT value FROM app_settings WHERE key = 'search_backfill_done'").fetchone()[0])
        filled = conn.execute("SELECT count(search_vector) FROM prompt_history").fetchone()[0]
    assert 250 <= done < 2000 and filled == done  # killed part-way: committed batches only, marks in step
    assert backfill(postgres_url, batch_rows=500).complete
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM prompt_history WHERE search_vector IS NULL").fetchone() == (0,)
        assert len(found(conn, parse("idea"))) == 2000
        # A CREATE INDEX CONCURRENTLY killed half-way leaves the index INVALID: the next run rebuilds it.
        conn.execute("UPDATE pg_index SET indisvalid = false WHERE indexrelid = %s::regclass", (SEARCH_INDEX,))
        assert not read_progress(conn).complete
    assert backfill(postgres_url).complete
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = %s::regclass",
                            (SEARCH_INDEX,)).fetchone() == (True,)


def test_opening_a_small_upgraded_history_indexes_it_at_once(postgres_url, tmp_path):
    from prompt_improver.settings import Settings
    from prompt_improver.wiring import open_location

    _version_4_history(postgres_url, 40)
    settings = Settings(_env_file=None, database_url=postgres_url, sqlite_db_path=tmp_path / "unused.db")
    open_location(postgres_url, settings).close()
    with psycopg.connect(postgres_url) as conn:
        assert read_progress(conn).complete and len(found(conn, parse("cafe"))) == 40
