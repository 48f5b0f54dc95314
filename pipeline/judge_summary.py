"""What the pairwise judge says about an experiment: win rate, position consistency, agreement with the rubric.

Every pair (an idea's repeat through both backends) is judged twice: once with zero-shot shown as A and
once with few-shot shown as A. Per pair:

- both answers name the same backend → that backend **wins** the pair;
- the answers differ (the judge followed the position, or said tie once) or both say tie → a **tie**;
- either answer could not be read as A, B or tie → **unparsed**: left out of every rate below, and counted;
- an order not judged yet (or whose call failed) → **pending**: left out, and counted.

Per idea (repeats are not independent pairs, as for the rubric): the mean of its judged pairs with win = 1,
tie = ½, loss = 0; above ½ few-shot wins the idea, below ½ zero-shot does, exactly ½ is a tie.

- **Win rate** = few-shot's idea wins / (few-shot wins + zero-shot wins), ties left out, with a 95% Wilson
  interval. A tie says the judge could not separate the two (often: it changed its mind with the order);
  counting it as half a win would pull the rate to ½ with a falsely narrow interval, so ties are shown
  beside the rate instead.
- **Position consistency** = pairs whose two answers name the same side (or both say tie) / judged pairs.
- **Agreement with the rubric** = ideas where the judge's outcome equals the rubric's (the sign of the mean
  quality difference over the same pairs; zero is a tie) / ideas with both.

No I/O and no DSPy; `pipeline.experiment_results` builds the pairs, `pipeline.judging` fills the verdicts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from statistics import fmean
from typing import Any

from pipeline.statistics import wilson_interval
from store.judge_verdicts import TIE, JudgeVerdict
from store.record import BackendType

FEW, ZERO = BackendType.FEW_SHOT.value, BackendType.ZERO_SHOT.value
UNPARSED, PENDING = "unparsed", "pending"
_POINTS = {FEW: 1.0, TIE: 0.5, ZERO: 0.0}
ORDERS = (BackendType.ZERO_SHOT, BackendType.FEW_SHOT)  # the backend shown as candidate A


def _side(verdict: JudgeVerdict) -> str:
    preferred = verdict.preferred
    return preferred.value if isinstance(preferred, BackendType) else str(preferred)


@dataclass(frozen=True, slots=True)
class JudgedPair:
    """One pair's two verdicts (None until asked) and the rubric's quality difference (few − zero)."""

    item_index: int
    repeat: int
    zero_shot_first: JudgeVerdict | None = None
    few_shot_first: JudgeVerdict | None = None
    quality_difference: float | None = None

    @property
    def verdicts(self) -> tuple[JudgeVerdict | None, JudgeVerdict | None]:
        """(zero-shot shown as A, few-shot shown as A)."""
        return (self.zero_shot_first, self.few_shot_first)

    @property
    def outcome(self) -> str:
        """`few-shot`, `zero-shot`, `tie`, `unparsed` or `pending` (see the module docstring)."""
        if any(v is not None and v.status == UNPARSED for v in self.verdicts):
            return UNPARSED
        if any(v is None or v.status != "answered" for v in self.verdicts):
            return PENDING
        first, second = (_side(v) for v in self.verdicts if v is not None)
        return first if first == second else TIE

    @property
    def consistent(self) -> bool | None:
        """Whether both orders gave the same side (None unless both were answered)."""
        if self.outcome not in (FEW, ZERO, TIE):
            return None
        first, second = (_side(v) for v in self.verdicts if v is not None)
        return first == second

    def order_side(self, first: BackendType) -> str | None:
        """What the judge said with `first` shown as A: a backend, `tie`, `unparsed`, `failed`, or None."""
        verdict = self.zero_shot_first if first is BackendType.ZERO_SHOT else self.few_shot_first
        if verdict is None:
            return None
        return _side(verdict) if verdict.status == "answered" else verdict.status


def pair_verdicts(rows: Iterable[Any], verdicts: Iterable[JudgeVerdict], judge_model: str) -> list[JudgedPair]:
    """The complete pairs of `rows` (`PairedRow`s) with this judge model's verdicts about exactly their records."""
    by_key = {(v.item_index, v.repeat, v.first): v for v in verdicts if v.judge_model == judge_model}
    pairs = []
    for row in rows:
        if row.zero_shot is None or row.few_shot is None:
            continue
        zero_uid, few_uid = row.zero_shot.uid, row.few_shot.uid
        found = [by_key.get((row.item_index, row.repeat, first)) for first in ORDERS]
        zero_first, few_first = (v if v is not None and v.judges(zero_uid, few_uid) else None for v in found)
        if row.zero_shot.quality is None or row.few_shot.quality is None:
            difference = None
        else:
            difference = row.few_shot.quality - row.zero_shot.quality
        pairs.append(JudgedPair(row.item_index, row.repeat, zero_first, few_first, difference))
    return pairs


def _side_of(score: float) -> str:
    return FEW if score > 0.5 else ZERO if score < 0.5 else TIE


def _rate(successes: int, n: int) -> tuple[float | None, float | None, float | None]:
    if n == 0:
        return None, None, None
    low, high = wilson_interval(successes, n)
    return successes / n, low, high


@dataclass(frozen=True, slots=True)
class JudgeSummary:
    """The judge's numbers for one experiment and one judge model (see the module docstring)."""

    judge_model: str
    pairs: list[JudgedPair] = field(default_factory=list)

    def _judged(self) -> list[JudgedPair]:
        return [p for p in self.pairs if p.outcome in (FEW, ZERO, TIE)]

    def item_outcomes(self) -> dict[int, tuple[str, str | None]]:
        """item index → (the judge's outcome, the rubric's outcome or None), over the item's judged pairs."""
        by_item: dict[int, list[JudgedPair]] = {}
        for pair in self._judged():
            by_item.setdefault(pair.item_index, []).append(pair)
        outcomes = {}
        for index, judged in sorted(by_item.items()):
            judge_side = _side_of(fmean(_POINTS[p.outcome] for p in judged))
            differences = [p.quality_difference for p in judged if p.quality_difference is not None]
            rubric = None
            if differences:
                mean = fmean(differences)
                rubric = FEW if mean > 0 else ZERO if mean < 0 else TIE
            outcomes[index] = (judge_side, rubric)
        return outcomes

    def to_dict(self) -> dict[str, Any]:
        """The `judge` object of `compare --json` (every key always present; rates None without data)."""
        judged = self._judged()
        outcomes = self.item_outcomes()
        sides = [judge for judge, _ in outcomes.values()]
        wins, losses, ties = sides.count(FEW), sides.count(ZERO), sides.count(TIE)
        win_rate, win_low, win_high = _rate(wins, wins + losses)
        consistent = sum(bool(p.consistent) for p in judged)
        consistency, consistency_low, consistency_high = _rate(consistent, len(judged))
        compared = [(judge, rubric) for judge, rubric in outcomes.values() if rubric is not None]
        agreeing = sum(judge == rubric for judge, rubric in compared)
        agreement, agreement_low, agreement_high = _rate(agreeing, len(compared))
        verdicts = [v for p in self.pairs for v in p.verdicts if v is not None]
        unparsed_pairs = sum(p.outcome == UNPARSED for p in self.pairs)
        unparsed_answers = sum(v.status == UNPARSED for v in verdicts)
        pending_pairs = sum(p.outcome == PENDING for p in self.pairs)
        failed_calls = sum(v.status == "failed" for v in verdicts)
        return {
            "model": self.judge_model,
            "pairs": len(self.pairs),
            "judged_pairs": len(judged),
            "pending_pairs": pending_pairs, "unparsed_pairs": unparsed_pairs,
            "unparsed_answers": unparsed_answers, "failed_calls": failed_calls,
            "items": len(outcomes),
            "few_shot_wins": wins, "ties": ties, "zero_shot_wins": losses,
            "win_rate": win_rate, "win_rate_low": win_low, "win_rate_high": win_high,
            "consistent_pairs": consistent, "consistency": consistency,
            "consistency_low": consistency_low, "consistency_high": consistency_high,
            "rubric_items": len(compared), "agreeing_items": agreeing, "agreement": agreement,
            "agreement_low": agreement_low, "agreement_high": agreement_high,
            "summary": self.sentence(wins, ties, losses, win_rate, win_low, win_high),
            "not_counted": _not_counted(unparsed_pairs, unparsed_answers, pending_pairs, failed_calls),
        }

    def sentence(self, wins: int, ties: int, losses: int, rate: float | None, low: float | None,
                 high: float | None) -> str:
        """One line: who the judge preferred, in how many ideas, with the interval."""
        if rate is None:
            decided = "no idea decided by the judge yet" if not wins + ties + losses else (
                f"the judge separated no idea ({ties} tie{'s' if ties != 1 else ''})")
            return f"{self.judge_model}: {decided}"
        return (f"{self.judge_model}: few-shot won {wins} of {wins + losses} ideas the judge decided "
                f"(win rate {rate:.2f} [{low:.2f}, {high:.2f}]), {ties} tie{'s' if ties != 1 else ''}")


def _not_counted(unparsed_pairs: int, unparsed_answers: int, pending_pairs: int, failed_calls: int) -> str | None:
    """The pairs left out of the rates and why, in words (None when none was)."""
    parts = []
    if unparsed_pairs:
        parts.append(f"{unparsed_pairs} pair(s) with an answer that is not A, B or tie ({unparsed_answers} answer(s))")
    if pending_pairs:
        failed = f", {failed_calls} failed call(s)" if failed_calls else ""
        parts.append(f"{pending_pairs} pair(s) not judged in both orders yet{failed}")
    return "; ".join(parts) or None


def summarize_judge(judge_model: str, pairs: Sequence[JudgedPair]) -> JudgeSummary:
    """The judge's summary over `pairs` (from `pair_verdicts`)."""
    return JudgeSummary(judge_model, list(pairs))
