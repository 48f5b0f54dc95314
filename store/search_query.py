"""What a user types into History's search box, read as a full-text query. Standard library only.

The semantics the page explains: every word must occur (in any field, any case, accents ignored:
`cafe` finds `Café`); `"an exact phrase"` must occur as consecutive words within one field; `word*`
matches words that start with `word`; `-word` (or `-"a phrase"`) leaves out records that have it;
`OR` between two terms accepts either (`tone OR voice`). Punctuation and emoji separate words and are
never searched; a quote left open runs to the end of the query.

Nothing typed ever raises: the query is parsed here and rewritten as an FTS5 query built only from
quoted word tokens, so no operator or character of the user's reaches FTS5's own syntax. The words are
those of SQLite's `unicode61` tokenizer with `remove_diacritics 2` (runs of letters, digits and
private-use characters, lower-cased, accents removed; symbols and emoji separate, see `separators`),
which `tokens` reproduces for parsing and highlighting.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

_ASCII_WORD = re.compile(r"[^\W_]+")  # the words of an ASCII text: runs of letters and digits
_MAX_TERMS = 32  # a pasted essay is cut, not sent as a thousand-term query
# SQLite's unicode61 tables stop at an old Unicode version: emoji added since (🙂, 🤖, the skin-tone
# modifiers in 👍🏽) count as letters there, so `👍🏽news` would be one word and `news` would not find it.
# Every non-letter, non-digit code point of the symbol and emoji blocks is declared a separator.
_SYMBOL_BLOCKS = ((0x2190, 0x2BFF), (0xFE00, 0xFE0F), (0x1F000, 0x1FAFF), (0xE0000, 0xE007F))


def _in_symbol_block(code: int) -> bool:
    return any(lo <= code <= hi for lo, hi in _SYMBOL_BLOCKS)


def _is_token_char(char: str) -> bool:
    category = unicodedata.category(char)
    if category[0] in "LN" or category == "Co":
        return True
    return category == "Mn" and not _in_symbol_block(ord(char))  # accents: part of the word, then removed


def separators() -> str:
    """The code points the tokenizer must treat as separators beyond its own tables (see above)."""
    return "".join(
        chr(code) for lo, hi in _SYMBOL_BLOCKS for code in range(lo, hi + 1)
        if unicodedata.category(chr(code))[0] not in "LN" and unicodedata.category(chr(code)) != "Co"
    )


def tokenizer() -> str:
    """The FTS5 `tokenize` argument of the index: unicode61, accents removed, the extra separators."""
    return f"unicode61 remove_diacritics 2 separators '{separators()}'"


def _fold(word: str) -> str:
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFD", word)
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn").lower()


@cache
def _word_pattern() -> re.Pattern[str]:
    """Runs of token characters (`_is_token_char`): letters and digits are `[^\\W_]` (exactly categories
    L and N), plus private-use characters and the combining marks outside the symbol blocks, listed once
    per process (0.2 s). A regex is six times faster than testing every character in Python, which the
    PostgreSQL index's back-fill of a million records needs."""
    ranges, start = [], None
    for code in range(0x110001):
        category = unicodedata.category(chr(code)) if code < 0x110000 else ""
        inside = category == "Co" or (category == "Mn" and not _in_symbol_block(code))
        if inside and start is None:
            start = code
        elif not inside and start is not None:
            ranges.append(re.escape(chr(start)) + ("-" + re.escape(chr(code - 1)) if code - 1 > start else ""))
            start = None
    return re.compile(r"(?:[^\W_]|[" + "".join(ranges) + "])+")


def token_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, folded word) for every word of `text`, as the FTS5 tokenizer splits and folds it."""
    spans = []
    for match in _word_pattern().finditer(text):
        folded = _fold(match.group())
        if folded:
            spans.append((match.start(), match.end(), folded))
    return spans


def tokens(text: str) -> list[str]:
    """The folded words of `text` (as `token_spans`, faster: an ASCII text is folded in one call)."""
    if text.isascii():  # no combining or private-use character: the short pattern, about 5x faster
        return _ASCII_WORD.findall(text.lower())
    return [folded for word in _word_pattern().findall(text) if (folded := _fold(word))]


@dataclass(frozen=True, slots=True)
class Term:
    """A word or phrase (consecutive words), the last one a prefix when `prefix` is set."""

    words: tuple[str, ...]
    prefix: bool = False

    def __post_init__(self) -> None:
        if not self.words or any(not word or '"' in word for word in self.words):
            raise ValueError(f"a term needs at least one non-empty word without quotes, got {self.words!r}")

    def fts(self) -> str:
        """The term as an FTS5 phrase string (its words are tokenizer output: no quote can occur)."""
        return '"' + " ".join(self.words) + '"' + (" *" if self.prefix else "")


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """All `groups` must match (each group: any of its terms), and none of `excluded`."""

    groups: tuple[tuple[Term, ...], ...]
    excluded: tuple[Term, ...] = ()

    def __post_init__(self) -> None:
        if any(not group for group in self.groups):
            raise ValueError("a group of alternatives cannot be empty")
        if self.excluded and not self.groups:
            raise ValueError("exclusions need at least one term to search for")

    @property
    def is_empty(self) -> bool:
        """True when nothing searchable was typed (only punctuation, emoji, operators)."""
        return not self.groups

    def fts(self) -> str:
        """The FTS5 MATCH expression; raises ValueError for an empty query (it matches nothing)."""
        if self.is_empty:
            raise ValueError("an empty search has no FTS5 expression")
        parts = ["(" + " OR ".join(term.fts() for term in group) + ")" for group in self.groups]
        text = "(" + " AND ".join(parts) + ")"
        return text + "".join(f" NOT {term.fts()}" for term in self.excluded)

    def highlight_words(self) -> tuple[frozenset[str], tuple[str, ...]]:
        """(whole words, prefixes) to mark in a record: every word of every searched term."""
        whole, prefixes = set(), []
        for group in self.groups:
            for term in group:
                whole.update(term.words[:-1] if term.prefix else term.words)
                if term.prefix:
                    prefixes.append(term.words[-1])
        return frozenset(whole), tuple(prefixes)


_PIECE = re.compile(r'(-?)"([^"]*)("?)(\*?)|(\S+)')


def parse(text: str | None) -> SearchQuery:
    """Read the user's query (see the module docstring); never raises for any text."""
    raw: list[tuple[str, Term | None, bool]] = []  # (kind: term/or, term, negated)
    for match in _PIECE.finditer((text or "").replace("\x00", " ")):
        negated, quoted, closed, star, bare = match.groups()
        if bare is not None:
            if bare == "OR":
                raw.append(("or", None, False))
                continue
            negated = "-" if bare.startswith("-") and len(bare) > 1 else ""
            body = bare[1:] if negated else bare
            term = _term(body.rstrip("*"), body.endswith("*"))
        else:
            term = _term(quoted, bool(star) and bool(closed))
        if term is not None:
            raw.append(("term", term, bool(negated)))
        if len(raw) >= 2 * _MAX_TERMS:
            break
    return _combine(raw)


def _term(body: str, prefix: bool) -> Term | None:
    words = tuple(tokens(body))
    return Term(words, prefix) if words else None


def _combine(raw: list[tuple[str, Term | None, bool]]) -> SearchQuery:
    groups: list[list[Term]] = []
    excluded: list[Term] = []
    joining = False
    for index, (kind, term, negated) in enumerate(raw):
        if kind == "or":
            # An OR joins only when it stands between two searched terms; elsewhere it is ignored.
            joining = bool(groups) and groups[-1] is not None and index + 1 < len(raw) and raw[index + 1][0] == "term" \
                and not raw[index + 1][2] and index > 0 and raw[index - 1][0] == "term" and not raw[index - 1][2]
            continue
        if negated:
            excluded.append(term)
        elif joining:
            groups[-1].append(term)
        else:
            groups.append([term])
        joining = False
    if not groups:  # only exclusions: nothing to leave out of, so the words are searched for
        groups, excluded = [[term] for term in excluded], []
    return SearchQuery(tuple(tuple(group) for group in groups[:_MAX_TERMS]), tuple(excluded[:_MAX_TERMS]))


def matched_spans(text: str, query: SearchQuery) -> list[tuple[int, int]]:
    """(start, end) of every word in `text` that a searched term names (for highlighting a record)."""
    whole, prefixes = query.highlight_words()
    return [(start, end) for start, end, word in token_spans(text)
            if word in whole or any(word.startswith(prefix) for prefix in prefixes)]
