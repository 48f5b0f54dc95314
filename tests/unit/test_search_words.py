"""The words search indexes and highlights: the fast tokenizer equals the character-by-character rule, and
the PostgreSQL literals built from them quote what they must and keep fields apart."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from store.postgres.fts import MAX_POSITION, record_texts, tsquery, tsvector
from store.search_query import _fold, _is_token_char, parse, token_spans, tokens
from tests.support.builders import make_record


def _reference_spans(text: str) -> list[tuple[int, int, str]]:
    spans, start = [], None
    for index, char in enumerate(text + " "):
        inside = index < len(text) and _is_token_char(char)
        if inside and start is None:
            start = index
        elif not inside and start is not None:
            folded = "".join(c for c in unicodedata.normalize("NFD", text[start:index])
                             if unicodedata.category(c) != "Mn").lower()
            if folded:
                spans.append((start, index, folded))
            start = None
    return spans


@settings(max_examples=500, deadline=None)  # the first call builds the pattern (0.2 s)
@given(st.text(alphabet=st.characters(codec=None, exclude_categories=("Cs",)), max_size=40)
       | st.text(alphabet="aé\u0301_-'🙂👍🏽\ue000\U000e0101 1²Ⅻ", max_size=20))
def test_the_regex_tokenizer_splits_and_folds_exactly_as_the_character_rule(text):
    assert token_spans(text) == _reference_spans(text)
    assert tokens(text) == [word for _, _, word in _reference_spans(text)]


def test_folding_removes_accents_and_case():
    assert _fold("CAFÉ") == "cafe" and _fold("Naïve") == "naive" and _fold("ABC") == "abc"


def test_tsvector_keeps_fields_apart_so_a_phrase_never_spans_two():
    vector = tsvector(["a café", "Café b", "", "a"])
    assert vector == "'a':1,8 'b':5 'cafe':2,4"  # one unused position after each field


def test_tsvector_clamps_positions_and_quotes_nothing_it_need_not():
    vector = tsvector([" ".join(["w"] * 300) + " last"])
    assert vector.startswith("'last':301 'w':1,2,3,")
    assert len(vector.split("'w':")[1].split(",")) == 256  # PostgreSQL keeps 256 positions of a word
    assert tsvector([" ".join(["x"] * (MAX_POSITION + 5)) + " end"]).startswith(f"'end':{MAX_POSITION} ")
    long_word = "ж" * 1500  # 3,000 bytes: cut to PostgreSQL's 2,047 at a character boundary, in both literals
    assert tsvector([long_word]) == f"'{'ж' * 1023}':1"
    assert tsquery(parse(long_word)) == f"('{'ж' * 1023}')"


def test_tsquery_spells_words_phrases_prefixes_alternatives_and_exclusions():
    assert tsquery(parse("Café newsletter")) == "('cafe') & ('newsletter')"
    assert tsquery(parse('"exact phrase" news*')) == "('exact' <-> 'phrase') & ('news':*)"
    assert tsquery(parse("tone OR voice -email")) == "('tone' | 'voice') & !('email')"
    assert tsquery(parse('"never closed')) == "('never' <-> 'closed')"


def test_record_texts_are_the_six_fields_with_guardrails_as_sqlite_stores_them():
    record = make_record(original_idea="an idea", context="ctx", improved_prompt="p", role="r", directive="d",
                         guardrails=("Ünder 200", "no\nlies"))
    assert record_texts(record) == ("an idea", "ctx", "p", "r", "d", '["Ünder 200", "no\\nlies"]')
