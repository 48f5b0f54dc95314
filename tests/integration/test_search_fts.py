"""Full-text search: the FTS5 index answers exactly what a brute-force reference finds, for any typed query."""

from __future__ import annotations

import json
import re
import sqlite3
import tempfile
import unicodedata
from contextlib import closing
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store.sqlite.migrations import migrate
from store.search_query import SearchQuery, Term, parse
from tests.support.search_history import FIELDS, insert_texts, v6_history

VOCABULARY = (
    "cafe", "Café", "CAFÉ", "crème", "creme", "naïve", "résumé", "resume", "tone", "voice", "or", "OR", "and",
    "AND", "NOT", "near", "NEAR", "x1", "42", "3.5", "don't", "e-mail", "😀", "🚀", "👍🏽", "C++", "#tag",
    "@user", "a_b", '"quoted"', "ñandú", "Über", "über", "newsletter", "news",
)
OPERATORS = ('"', "*", "-", " OR ", " AND ", " NOT ", "(", ")", "NEAR(", ":", "^", "'", "+", " ")
_WORD = re.compile(r"[^\W_]+")  # letters and digits: unicode61's token characters for this alphabet


def reference_words(text: str) -> list[str]:
    """The brute-force reference's words: regex runs of letters and digits, accents stripped, lower-cased."""
    return [
        "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c)).lower()
        for word in _WORD.findall(text)
    ]


def _term_in(term: Term, words: list[str]) -> bool:
    n = len(term.words)
    for start in range(len(words) - n + 1):
        window = words[start:start + n]
        if window[:-1] == list(term.words[:-1]) and (
            window[-1].startswith(term.words[-1]) if term.prefix else window[-1] == term.words[-1]
        ):
            return True
    return False


def reference_match(query: SearchQuery, fields: dict[str, str]) -> bool:
    """Does the record match, by scanning every field (a phrase must lie within one field)?"""
    per_field = [reference_words(value) for value in fields.values()]

    def found(term: Term) -> bool:
        return any(_term_in(term, words) for words in per_field)

    return all(any(found(t) for t in group) for group in query.groups) and not any(found(t) for t in query.excluded)


texts = st.lists(
    st.tuples(st.sampled_from(VOCABULARY), st.sampled_from((" ", ", ", "\n", "", ". ", "-"))), max_size=8
).map(lambda pairs: "".join(word + sep for word, sep in pairs))
records = st.fixed_dictionaries({
    "original_idea": texts, "context": texts, "improved_prompt": texts.map(lambda t: t or "x"),
    "role": texts, "directive": texts, "guardrails": st.lists(texts, max_size=3).map(
        lambda items: json.dumps(items, ensure_ascii=False)),
})
queries = st.lists(st.sampled_from(VOCABULARY + OPERATORS), max_size=7).map("".join)


def _found(conn: sqlite3.Connection, query: SearchQuery) -> set[int]:
    if query.is_empty:
        return set()
    return {rowid for (rowid,) in conn.execute(
        "SELECT rowid FROM prompt_history_fts WHERE prompt_history_fts MATCH ?", (query.fts(),)
    )}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(records, min_size=1, max_size=10), typed=st.lists(queries, min_size=1, max_size=6))
def test_search_finds_exactly_what_a_brute_force_scan_finds(rows, typed):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "h.db"
        migrate(path)
        with closing(sqlite3.connect(path)) as conn, conn:
            insert_texts(conn, rows)
            ids = [rowid for (rowid,) in conn.execute("SELECT id FROM prompt_history ORDER BY id")]
            for text in typed:
                query = parse(text)  # never raises, whatever was typed
                expected = {rid for rid, row in zip(ids, rows) if not query.is_empty and reference_match(
                    query, {name: row[name] for name in FIELDS})}
                assert _found(conn, query) == expected, (text, query.fts() if not query.is_empty else None)


def test_query_semantics_words_phrases_prefixes_exclusions_and_or():
    assert parse("Café newsletter").fts() == '(("cafe") AND ("newsletter"))'
    assert parse('"exact phrase" news*').fts() == '(("exact phrase") AND ("news" *))'
    assert parse("tone OR voice -email").fts() == '(("tone" OR "voice")) NOT "email"'
    assert parse('"never closed').fts() == '(("never closed"))'
    assert parse("😀 -- * OR").is_empty
    assert parse("-solo").fts() == '(("solo"))'  # only exclusions: the word is searched for


def test_an_upgraded_history_is_indexed_by_the_backfill_and_then_searchable(tmp_path):
    from store.sqlite.search_index import backfill

    path = tmp_path / "old.db"
    v6_history(path, 250)
    migrate(path)
    with closing(sqlite3.connect(path)) as conn:
        assert _found(conn, parse("cafe")) == set()  # the old rows are not indexed yet
    seen = []
    final = backfill(path, batch_rows=100, progress=seen.append)
    assert final.complete and [round(s.fraction, 2) for s in seen] == [0.4, 0.8, 1.0]
    with closing(sqlite3.connect(path)) as conn, conn:
        assert len(_found(conn, parse("cafe"))) == 250
        assert len(_found(conn, parse('"prompt 3"'))) == len([i for i in range(250) if i % 7 == 3])
        conn.execute("DELETE FROM prompt_history WHERE id <= 10")  # the triggers keep the index in step
        conn.execute("INSERT INTO prompt_history_fts (prompt_history_fts) VALUES ('integrity-check')")
        assert len(_found(conn, parse("cafe"))) == 240


def test_deleting_rows_the_backfill_has_not_reached_keeps_the_index_consistent(tmp_path):
    from store.sqlite.search_index import backfill

    path = tmp_path / "old.db"
    v6_history(path, 300)
    migrate(path)
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("DELETE FROM prompt_history WHERE id > 200")  # not indexed: the trigger must skip them
    backfill(path, batch_rows=64)
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("INSERT INTO prompt_history_fts (prompt_history_fts) VALUES ('integrity-check')")
        assert len(_found(conn, parse("idea"))) == 200


def test_a_backfill_killed_mid_way_resumes_to_a_complete_consistent_index(tmp_path):
    from store.sqlite.search_index import backfill
    from tests.support.killed_backfill import kill_backfill_after

    path = tmp_path / "old.db"
    v6_history(path, 2000)
    migrate(path)
    kill_backfill_after("sqlite", str(path))
    with closing(sqlite3.connect(path)) as conn:
        done = int(conn.execute("SELECT value FROM app_settings WHERE key = 'search_backfill_done'").fetchone()[0])
    assert 250 <= done < 2000  # killed part-way: some batches committed, not all
    assert backfill(path, batch_rows=500).complete
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("INSERT INTO prompt_history_fts (prompt_history_fts) VALUES ('integrity-check')")
        assert len(_found(conn, parse("idea"))) == 2000  # each row once: none skipped, none twice
        (docs,) = conn.execute("SELECT count(*) FROM prompt_history_fts_docsize").fetchone()
        assert docs == 2000


def test_a_prune_that_replaces_the_table_leaves_a_consistent_index_of_the_survivors(tmp_path):
    from store.sqlite.repository import SQLitePromptRepository

    path = tmp_path / "h.db"
    migrate(path)
    with closing(sqlite3.connect(path)) as conn, conn:
        insert_texts(conn, [dict.fromkeys(FIELDS, "") | {"original_idea": f"café {i}", "improved_prompt": "p",
                                                          "guardrails": "[]"}
                            for i in range(10)])
        conn.execute("UPDATE prompt_history SET timestamp = '2020-01-01T00:00:00.000000+00:00' WHERE id <= 8")
    repo = SQLitePromptRepository(path)
    try:  # 8 of 10 rows go: above half, the survivors are copied into a new table
        assert repo.delete_older_than(36_500 // 50) == 8  # two years: the 2020 rows
    finally:
        repo.close()
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("INSERT INTO prompt_history_fts (prompt_history_fts) VALUES ('integrity-check')")
        assert _found(conn, parse("cafe")) == {9, 10}
        assert _found(conn, parse("8 OR 9")) == {9, 10}  # ideas "café 8", "café 9"


def test_emoji_newer_than_sqlites_unicode_tables_separate_words(tmp_path):
    # SQLite's unicode61 counts 🤖 and the skin-tone modifier of 👍🏽 as letters (its tables predate
    # them): without the declared separators, `news` did not find `👍🏽news` (hypothesis found it).
    path = tmp_path / "h.db"
    migrate(path)
    with closing(sqlite3.connect(path)) as conn, conn:
        insert_texts(conn, [dict.fromkeys(FIELDS, "") | {"original_idea": "👍🏽news and 🤖robot\ufe0fics",
                                                          "improved_prompt": "p", "guardrails": "[]"}])
        assert parse("news robot").fts() == '(("news") AND ("robot"))'
        assert _found(conn, parse("news robot")) == {1}
        assert _found(conn, parse("ics")) == {1}  # the variation selector separates too
