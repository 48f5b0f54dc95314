"""The idea and context are checked before any model call, with errors that name the problem."""

from __future__ import annotations

import pytest

from pipeline.errors import InvalidIdea
from pipeline.validation import validate_idea
from store.record import MAX_CONTEXT_CHARS, MAX_IDEA_CHARS


def test_valid_idea_and_context_come_back_stripped():
    assert validate_idea("  Write a blog post about SQLite  ", " for beginners ") == (
        "Write a blog post about SQLite",
        "for beginners",
    )


def test_missing_context_is_empty_text():
    assert validate_idea("Plan a team offsite", None) == ("Plan a team offsite", "")


@pytest.mark.parametrize("idea", ["", "    ", "abcd", "a b c d", "\n\t ab  c \n"])
def test_idea_with_fewer_than_five_non_blank_characters_is_refused(idea):
    with pytest.raises(InvalidIdea, match="at least 5 non-blank characters"):
        validate_idea(idea)


def test_five_non_blank_characters_are_enough():
    assert validate_idea("a b c d e")[0] == "a b c d e"


def test_idea_over_the_limit_is_refused_with_its_length():
    with pytest.raises(InvalidIdea, match=r"idea is 20,001 characters; the limit is 20,000"):
        validate_idea("x" * (MAX_IDEA_CHARS + 1))


def test_idea_at_the_limit_is_accepted():
    assert len(validate_idea("x" * MAX_IDEA_CHARS)[0]) == MAX_IDEA_CHARS


def test_context_over_the_limit_is_refused():
    with pytest.raises(InvalidIdea, match=r"context is 20,001 characters"):
        validate_idea("Write a haiku about rain", "y" * (MAX_CONTEXT_CHARS + 1))


@pytest.mark.parametrize(
    ("idea", "context", "name"), [("Write a\x00 poem", "", "idea"), ("Write a poem", "a\x00", "context")]
)
def test_nul_character_is_refused_with_its_position(idea, context, name):
    with pytest.raises(InvalidIdea, match=rf"{name} contains a NUL character .* at index \d+"):
        validate_idea(idea, context)


@pytest.mark.parametrize("idea", [None, 42, b"Write a poem", ["Write a poem"]])
def test_non_text_idea_is_refused_with_its_type(idea):
    with pytest.raises(InvalidIdea, match=f"idea must be text \\(str\\), got {type(idea).__name__}"):
        validate_idea(idea)


def test_invalid_idea_is_a_value_error_for_generic_callers():
    with pytest.raises(ValueError):
        validate_idea("")


@pytest.mark.parametrize(
    ("idea", "context", "name", "where"),
    [
        # What `sys.argv` holds when a Latin-1 terminal sends "café" (surrogateescape): U+DCE9.
        (b"Write a caf\xe9 menu for our bistro".decode("utf-8", "surrogateescape"), "", "idea", "U+DCE9 at index 11"),
        ("Write a cafe menu for our bistro", "Paris \ud800", "context", "U+D800 at index 6"),
    ],
)
def test_text_that_is_not_valid_unicode_is_refused_naming_the_character(idea, context, name, where):
    with pytest.raises(InvalidIdea, match=f"^{name} contains text that is not valid Unicode") as refused:
        validate_idea(idea, context)
    assert where in str(refused.value)
