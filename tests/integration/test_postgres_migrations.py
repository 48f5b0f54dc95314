"""PostgreSQL's migrations: concurrent starts migrate once, a newer or foreign schema is refused untouched."""

from __future__ import annotations

import multiprocessing

import psycopg
import pytest

from store.errors import RepositoryConnectionError
from store.postgres.migrations import VERSION_TABLE, migrate
from store.postgres.repository import PostgresPromptRepository
from store.postgres.schema import SCHEMA_VERSION
from tests.support.builders import make_record
from tests.support.postgres import PASSWORD

pytestmark = pytest.mark.postgres


def _tables(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1"
        ).fetchall()


def test_migrating_twice_changes_nothing_and_leaves_the_current_version(postgres_url):
    assert migrate(postgres_url) == SCHEMA_VERSION
    before = _tables(postgres_url)
    assert migrate(postgres_url) == SCHEMA_VERSION
    assert _tables(postgres_url) == before
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute(f"SELECT version FROM {VERSION_TABLE}").fetchall() == [(SCHEMA_VERSION,)]


def test_six_processes_migrating_a_fresh_database_at_once_all_succeed(postgres_url):
    with multiprocessing.get_context("spawn").Pool(6) as pool:
        versions = pool.map(migrate, [postgres_url] * 6)
    assert versions == [SCHEMA_VERSION] * 6
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute(f"SELECT version FROM {VERSION_TABLE}").fetchall() == [(SCHEMA_VERSION,)]


def test_a_newer_schema_is_refused_and_left_untouched(postgres_url):
    migrate(postgres_url)
    PostgresPromptRepository(postgres_url).save(make_record())
    with psycopg.connect(postgres_url) as conn:
        conn.execute(f"UPDATE {VERSION_TABLE} SET version = %s", (SCHEMA_VERSION + 1,))
    before = _tables(postgres_url)
    with pytest.raises(RepositoryConnectionError, match="newer than") as raised:
        migrate(postgres_url)
    assert PASSWORD not in str(raised.value)
    with pytest.raises(RepositoryConnectionError, match="upgrade prompt-improver"):
        PostgresPromptRepository(postgres_url).find_recent()
    assert _tables(postgres_url) == before
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT count(*) FROM prompt_history").fetchone() == (1,)


def test_a_prompt_history_table_made_by_someone_else_is_refused_untouched(postgres_url):
    with psycopg.connect(postgres_url) as conn:
        conn.execute("CREATE TABLE prompt_history (id serial, note text)")
    with pytest.raises(RepositoryConnectionError, match="did not create"):
        migrate(postgres_url)
    assert _tables(postgres_url) == [("prompt_history",)]


def test_an_unreachable_server_is_a_connection_error_without_the_password(postgres_cluster):
    url = f"postgresql://prompt:{PASSWORD}@127.0.0.1:1/nowhere"
    with pytest.raises(RepositoryConnectionError, match="cannot reach the PostgreSQL server") as raised:
        migrate(url, timeout_s=1)
    assert PASSWORD not in str(raised.value) and "***" in str(raised.value)


def test_a_wrong_password_is_named_without_showing_either_password(postgres_cluster):
    url = postgres_cluster.url().replace(PASSWORD, "not-the-password")
    with pytest.raises(RepositoryConnectionError, match="password authentication failed") as raised:
        migrate(url)
    assert "not-the-password" not in str(raised.value)


def test_a_value_the_schema_refuses_is_a_constraint_error(postgres_url):
    from store.errors import RepositoryConstraintError

    migrate(postgres_url)
    with pytest.raises(RepositoryConstraintError, match="surrogate"):
        PostgresPromptRepository(postgres_url).save(make_record(context="bad \ud800 text"))
    with psycopg.connect(postgres_url) as conn, pytest.raises(psycopg.errors.CheckViolation):
        conn.execute("INSERT INTO prompt_history (uid, timestamp, original_idea, improved_prompt, backend, confidence) "
                     "VALUES ('u', now(), 'an idea', 'p', 'few-shot', 1.5)")


def test_the_search_vector_is_kept_in_the_row_once_migrated(postgres_url):
    # Best-match search ranks every match by its vector: read out of line (TOAST) it cost 2.6x the time
    # at 1M records (bench/bench_postgres.py --search-only). Migration 6 keeps vectors in the row.
    from store.postgres.schema import MIGRATIONS

    def storage(url: str) -> str:
        with psycopg.connect(url) as conn:
            return conn.execute(
                "SELECT attstorage FROM pg_attribute WHERE attrelid = 'prompt_history'::regclass "
                "AND attname = 'search_vector'"
            ).fetchone()[0]

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {VERSION_TABLE} (version integer NOT NULL)")
        conn.execute(f"INSERT INTO {VERSION_TABLE} VALUES (5)")
        for script in MIGRATIONS[:5]:
            conn.execute(script)
        for i in range(3):  # records already stored at version 5, vectors included
            conn.execute(
                "INSERT INTO prompt_history (uid, timestamp, original_idea, improved_prompt, backend, search_vector) "
                "VALUES (%s, now(), %s, 'prompt', 'zero-shot', %s::tsvector)", (f"u{i}", f"idea {i}", f"'idea':1 '{i}':2"),
            )
        before = conn.execute("SELECT id, uid, original_idea, search_vector::text FROM prompt_history ORDER BY id").fetchall()
    assert storage(postgres_url) == "x"  # PostgreSQL's default (extended): out of line when the row is long
    assert migrate(postgres_url) == SCHEMA_VERSION
    assert storage(postgres_url) == "m"
    with psycopg.connect(postgres_url) as conn:  # the upgrade kept every record and its vector
        after = conn.execute("SELECT id, uid, original_idea, search_vector::text FROM prompt_history ORDER BY id").fetchall()
    assert len(before) == 3 and after == before
