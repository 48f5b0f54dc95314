"""The judge's aggregation, on hand-computed cases: outcomes per pair, ideas, win rate (ties left out) with
its Wilson interval, position consistency, agreement with the rubric, and what is left out and counted."""

from __future__ import annotations

import pytest

from pipeline.judge import parse_choice
from pipeline.judge_summary import JudgedPair, pair_verdicts, summarize_judge
from pipeline.experiment_results import PairedRow
from store.judge_verdicts import JudgeVerdict
from tests.support.builders import make_record

JUDGE = "openai/judge"


def said(first: str, choice: str | None, status: str = "answered", item: int = 0, repeat: int = 0) -> JudgeVerdict:
    """A verdict with `first` shown as A; choice None needs status unparsed or failed."""
    return JudgeVerdict("e1", item, repeat, JUDGE, first, f"z{item}", f"f{item}", status, choice,
                        error=None if status == "answered" else "junk")


def pair(item: int, zero_first: str | None, few_first: str | None, difference: float | None = 0.1,
         repeat: int = 0) -> JudgedPair:
    """A pair from the letters the judge answered in each order ('U' unparsed, 'F' failed, None not asked)."""
    def verdict(first: str, letter: str | None) -> JudgeVerdict | None:
        if letter is None:
            return None
        if letter in ("U", "F"):
            return said(first, None, "unparsed" if letter == "U" else "failed", item, repeat)
        return said(first, letter, item=item, repeat=repeat)
    return JudgedPair(item, repeat, verdict("zero-shot", zero_first), verdict("few-shot", few_first), difference)


def test_a_pair_is_a_win_only_when_both_orders_name_the_same_backend():
    assert pair(0, "B", "A").outcome == "few-shot"  # B with zero-shot first, A with few-shot first
    assert pair(0, "A", "B").outcome == "zero-shot"
    assert pair(0, "A", "A").outcome == "tie"  # always the first position: a biased judge, not a preference
    assert pair(0, "B", "tie").outcome == "tie"
    assert pair(0, "tie", "tie").outcome == "tie"
    assert pair(0, "U", "A").outcome == "unparsed"
    assert pair(0, "B", "F").outcome == "pending"
    assert pair(0, None, "A").outcome == "pending"
    assert [pair(0, *answers).consistent for answers in (("B", "A"), ("A", "A"), ("tie", "tie"), ("U", "A"))] == [
        True, False, True, None]


def test_the_summary_counts_wins_ties_consistency_and_agreement_by_hand():
    pairs = [
        pair(0, "B", "A", +0.2),      # few-shot wins; the rubric agrees
        pair(1, "A", "A", +0.1),      # position bias: a tie; the rubric prefers few-shot: disagree
        pair(2, "A", "B", -0.3),      # zero-shot wins; the rubric agrees
        pair(3, "tie", "tie", 0.0),   # a consistent tie; the rubric ties too: agree
        pair(4, "U", "A", +0.4),      # an unreadable answer: left out, counted
        pair(5, "B", "F", +0.4),      # a failed call: pending, counted
        pair(6, None, "A", +0.4),     # not asked yet: pending
    ]
    result = summarize_judge(JUDGE, pairs).to_dict()
    assert (result["pairs"], result["judged_pairs"], result["pending_pairs"], result["unparsed_pairs"]) == (7, 4, 2, 1)
    assert (result["unparsed_answers"], result["failed_calls"], result["items"]) == (1, 1, 4)
    assert (result["few_shot_wins"], result["ties"], result["zero_shot_wins"]) == (1, 2, 1)
    # Wilson, 1 success of 2 decisive ideas: centre 0.5, half-width 1.96·sqrt(0.125 + 1.96²/16) / (1 + 1.96²/2)
    assert result["win_rate"] == 0.5
    assert result["win_rate_low"] == pytest.approx(0.0945, abs=1e-4)
    assert result["win_rate_high"] == pytest.approx(0.9055, abs=1e-4)
    assert (result["consistent_pairs"], result["consistency"]) == (3, 0.75)
    assert (result["agreeing_items"], result["rubric_items"], result["agreement"]) == (3, 4, 0.75)
    assert result["summary"] == ("openai/judge: few-shot won 1 of 2 ideas the judge decided "
                                 "(win rate 0.50 [0.09, 0.91]), 2 ties")


def test_repeats_of_an_idea_count_once_by_their_mean():
    pairs = [
        pair(0, "B", "A", +0.1, repeat=0), pair(0, "A", "A", +0.1, repeat=1),   # win + tie = 0.75: few-shot
        pair(1, "A", "B", -0.2, repeat=0), pair(1, "B", "A", +0.1, repeat=1),   # loss + win = 0.5: a tie
    ]
    summary = summarize_judge(JUDGE, pairs)
    # Rubric: idea 0 mean +0.1 (few-shot, agrees); idea 1 mean -0.05 (zero-shot, the judge says tie: disagrees).
    assert summary.item_outcomes() == {0: ("few-shot", "few-shot"), 1: ("tie", "zero-shot")}
    result = summary.to_dict()
    assert (result["few_shot_wins"], result["ties"], result["zero_shot_wins"], result["win_rate"]) == (1, 1, 0, 1.0)
    assert (result["judged_pairs"], result["consistency"], result["agreement"]) == (4, 0.75, 0.5)


def test_without_decided_ideas_the_rates_are_none_and_the_summary_says_why():
    empty = summarize_judge(JUDGE, []).to_dict()
    assert empty["win_rate"] is empty["consistency"] is empty["agreement"] is None
    assert empty["summary"] == "openai/judge: no idea decided by the judge yet"
    biased = summarize_judge(JUDGE, [pair(n, "A", "A") for n in range(3)]).to_dict()
    assert (biased["ties"], biased["win_rate"], biased["consistency"]) == (3, None, 0.0)
    assert biased["summary"] == "openai/judge: the judge separated no idea (3 ties)"


def test_verdicts_about_other_records_or_another_judge_are_not_used():
    zero, few = make_record(uid="z0", backend="zero-shot", quality=0.5), make_record(uid="f0", quality=0.75)
    rows = [PairedRow(0, 0, "idea", "", zero_shot=zero, few_shot=few), PairedRow(1, 0, "idea 2", "", zero_shot=zero)]
    stale = JudgeVerdict("e1", 0, 0, JUDGE, "few-shot", "z0", "an-older-record", "answered", "A")
    other_judge = JudgeVerdict("e1", 0, 0, "openai/other", "zero-shot", "z0", "f0", "answered", "A")
    mine = said("zero-shot", "B")
    (judged,) = pair_verdicts(rows, [mine, stale, other_judge], JUDGE)
    assert judged.zero_shot_first is mine and judged.few_shot_first is None
    assert judged.quality_difference == 0.25 and judged.outcome == "pending"


@pytest.mark.parametrize("text, choice", [
    ("A", "A"), ("b", "B"), ("**B**", "B"), ("Candidate A.", "A"), ('"tie"', "tie"), ("B is better", "B"),
    ("Tie — both are fine", "tie"), ("Equal", "tie"), ("Both A and B", "tie"), ("[[A]]", "A"), ("a tie", "tie"), ("Option B", "B"),
])
def test_a_judge_answer_is_read_leniently(text, choice):
    assert parse_choice(text) == choice


@pytest.mark.parametrize("text", ["", "A or B", "I prefer A", "The second one", "{preferred}", None])
def test_an_answer_that_is_not_a_choice_is_not_read_as_one(text):
    assert parse_choice(text) is None
