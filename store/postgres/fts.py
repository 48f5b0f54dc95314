"""PostgreSQL's full-text values spelled from the search syntax's own words, and the index's state. Standard
library only (the analytics import it too).

The index (`prompt_history.search_vector`, schema migration 5) must find exactly what SQLite's FTS5 index
finds for the same query, so neither side may tokenize on its own: PostgreSQL's parser reads `3.5`, `e-mail`
or `a@b.com` as single tokens, depends on the server's locale for non-ASCII letters, and `unaccent` folds
`ß` and `ø` where SQLite does not. Both literals are therefore built here from `store.search_query.tokens`
(the words FTS5's tokenizer makes) and cast with `::tsvector` / `::tsquery`, which parse the literal syntax
only: no text-search configuration, dictionary or extension is involved (so a non-superuser owner needs
nothing installed, and the server's locale does not matter).

PostgreSQL's limits, each a documented edge: positions stop at 16,383 (later words keep that position, so
a phrase is exact within a record's first 16,383 words, words anywhere), a word keeps its first 256
positions, and a word longer than 2,047 bytes is cut to that length (in the index and in the query alike).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from store.record import PromptHistory
from store.repository import IndexProgress
from store.search_query import SearchQuery, Term, tokens

MAX_POSITION = 16_383
MAX_POSITIONS_PER_WORD = 256
MAX_WORD_BYTES = 2_047


def _lexeme(word: str) -> str:
    data = word.encode("utf-8")
    if len(data) > MAX_WORD_BYTES:
        word = data[:MAX_WORD_BYTES].decode("utf-8", "ignore")
    # Quoted, with quotes and backslashes doubled (tokenizer words hold neither; this is the literal's rule).
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def record_texts(record: PromptHistory) -> tuple[str, ...]:
    """The six indexed fields of `record`, guardrails as the JSON text SQLite stores and FTS5 indexes."""
    return (record.original_idea, record.context, record.improved_prompt, record.role, record.directive,
            guardrails_text(record.guardrails))


def guardrails_text(guardrails: Iterable[str]) -> str:
    """Guardrails as SQLite's column holds them (`json.dumps`, non-ASCII kept)."""
    return json.dumps(list(guardrails), ensure_ascii=False)


def tsvector(texts: Iterable[str]) -> str:
    """A `tsvector` literal of the fields' words with their positions, one unused position after each
    field so that no phrase spans two fields (FTS5 matches a phrase within one column)."""
    positions: dict[str, list[int]] = {}
    position = 0
    for text in texts:
        for word in tokens(text):
            position += 1
            at = positions.get(word)
            if at is None:
                positions[word] = [position]
            elif len(at) < MAX_POSITIONS_PER_WORD:
                at.append(position)
        position += 1
    if position > MAX_POSITION or any(len(word) > MAX_WORD_BYTES // 4 for word in positions):
        return _at_the_limits(positions)
    # The common case, 5x faster: tokenizer words hold no quote or backslash, so quoting is all they need.
    return " ".join(f"'{word}':{','.join(map(str, at))}" for word, at in sorted(positions.items()))


def _at_the_limits(positions: dict[str, list[int]]) -> str:
    lexemes: dict[str, set[int]] = {}
    for word, at in positions.items():  # two words cut to the same 2,047 bytes become one lexeme
        lexemes.setdefault(_lexeme(word), set()).update(min(p, MAX_POSITION) for p in at)
    return " ".join(f"{lexeme}:{','.join(map(str, sorted(at)[:MAX_POSITIONS_PER_WORD]))}"
                    for lexeme, at in sorted(lexemes.items()))


def _term(term: Term) -> str:
    words = [_lexeme(word) for word in term.words]
    if term.prefix:
        words[-1] += ":*"
    return " <-> ".join(words)  # binds tighter than & and |: no parentheses needed


def tsquery(query: SearchQuery) -> str:
    """The `tsquery` literal of a parsed query (`store.search_query.SearchQuery.fts` for FTS5); raises
    ValueError for an empty query, which matches nothing."""
    if query.is_empty:
        raise ValueError("an empty search has no tsquery")
    groups = ["(" + " | ".join(_term(term) for term in group) + ")" for group in query.groups]
    return " & ".join(groups + ["!(" + _term(term) + ")" for term in query.excluded])


SEARCH_INDEX = "idx_prompt_history_search"
# The back-fill's marks and whether the GIN index is built and valid, in one row (NULL marks: schema < 5).
STATE_SQL = (
    "SELECT (SELECT value::bigint FROM app_settings WHERE key = 'search_backfill_done') AS done, "
    "(SELECT value::bigint FROM app_settings WHERE key = 'search_backfill_end') AS end_, "
    f"coalesce((SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('{SEARCH_INDEX}')), false) AS valid"
)


def index_progress(done: int | None, end: int | None, valid: bool) -> IndexProgress | None:
    """The state `STATE_SQL` read: None without the search column; the index is the back-fill's last step,
    so while it is missing or invalid the state is not complete (`done` stays below `end`)."""
    if done is None or end is None:
        return None
    if not valid:
        end = max(int(end), 1)
        done = min(int(done), end - 1)
    return IndexProgress(int(done), int(end))
