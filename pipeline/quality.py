"""The quality metric: the rubric's criteria (`pipeline/metrics.py`) plus the degeneracy flags
(`pipeline/degeneracy.py`), as one versioned, reusable object.

Build a `QualityMetric` once and call `evaluate` per answer: construction reads the shipped few-shot
demonstrations and precomputes what copying is checked against, so scoring itself is pure computation
(about a tenth of a millisecond per answer; see bench/bench_score.py). A flagged answer scores at most
`FLAG_CAP` (below 0.5) whatever its shape. `METRIC_VERSION` is stored with every record's quality; raise
it whenever a change here or in the criteria can change a score, so old scores are never mixed with new
ones silently (`prompt-improver rescore` brings stored records up to date).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from pipeline import degeneracy
from pipeline.degeneracy import words
from pipeline.metrics import PLACEHOLDER_CAP, WEIGHTS, coverage, criteria_scores, key_terms
from pipeline.normalize import ImprovedPrompt

# 1: the rubric's criteria alone. 2: with the degeneracy flags.
METRIC_VERSION = 2
FLAG_CAP = 0.45
COPY_NGRAM = 6
COPIED_SHARE = 0.3  # of the prompt's 6-grams found in one demonstration's prompt
SAME_TASK_COVERAGE = 0.6  # a demonstration whose idea's key terms the idea mostly names is the same task
FLAG_NAMES = (
    "placeholder", "repetition", "code_or_metadata", "echo", "copied_demonstration", "meta_answer",
    "truncated", "off_topic", "non_letters",
)


@dataclass(frozen=True, slots=True)
class QualityResult:
    """One answer's score in [0, 1], each criterion's score, and the names of the flags it raised."""

    quality: float
    criteria: Mapping[str, float]
    flags: tuple[str, ...] = ()
    version: int = METRIC_VERSION

    def __post_init__(self) -> None:
        if not 0.0 <= self.quality <= 1.0:
            raise ValueError(f"quality must be in [0, 1], got {self.quality!r}")
        unknown = [flag for flag in self.flags if flag not in FLAG_NAMES]
        if unknown:
            raise ValueError(f"unknown flags {unknown!r}; known: {', '.join(FLAG_NAMES)}")
        object.__setattr__(self, "criteria", MappingProxyType(dict(self.criteria)))

    def to_dict(self) -> dict:
        """JSON-ready: quality, criteria, flags and the metric version."""
        return {"quality": self.quality, "criteria": dict(self.criteria), "flags": list(self.flags),
                "metric_version": self.version}


def _ngrams(tokens: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


@dataclass(frozen=True, slots=True)
class _Demonstration:
    terms: tuple[str, ...]
    fields: frozenset[str]  # normalised role, directive and guardrails
    prompt_grams: frozenset[tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class DemonstrationIndex:
    """What copying is checked against: each demonstration's idea terms, fields and prompt 6-grams."""

    demonstrations: tuple[_Demonstration, ...] = field(default=())

    @classmethod
    def build(cls, records: Iterable[Mapping]) -> DemonstrationIndex:
        """Index demonstration dicts (the shipped file's shape: original_idea, improved_prompt, role…)."""
        built = []
        for record in records:
            texts = [record.get("role", ""), record.get("directive", ""), *record.get("guardrails", ())]
            built.append(_Demonstration(
                terms=tuple(key_terms(record.get("original_idea", ""))),
                fields=frozenset(" ".join(words(text)) for text in texts if len(words(text)) >= 3),
                prompt_grams=frozenset(_ngrams(words(record.get("improved_prompt", "")), COPY_NGRAM)),
            ))
        return cls(tuple(built))

    def copied(self, original_idea: str, improved: ImprovedPrompt) -> bool:
        """Whether the answer copies a demonstration made for another task: its role or directive, two of its
        guardrails, or 30% of the prompt's 6-grams."""
        fields = [" ".join(words(text)) for text in (improved.role, improved.directive, *improved.guardrails)]
        prompt_grams = _ngrams(words(improved.improved_prompt), COPY_NGRAM)
        for demo in self.demonstrations:
            if demo.terms and coverage(list(demo.terms), original_idea) >= SAME_TASK_COVERAGE:
                continue  # the user asked for the demonstration's own task: resemblance is expected
            head = sum(text in demo.fields for text in fields[:2])
            rules = sum(text in demo.fields for text in fields[2:])
            if head or rules >= 2:
                return True
            if prompt_grams and len(prompt_grams & demo.prompt_grams) >= COPIED_SHARE * len(prompt_grams):
                return True
        return False


class QualityMetric:
    """The versioned quality metric. Build once (it indexes the demonstrations), then `evaluate` per answer.

    Args:
        demonstrations: demonstration dicts to check copying against; default: the shipped set.
    """

    version = METRIC_VERSION

    def __init__(self, demonstrations: Iterable[Mapping] | None = None) -> None:
        if demonstrations is None:
            from pipeline.demonstrations import read_demonstration_records

            demonstrations = read_demonstration_records()
        self._demonstrations = DemonstrationIndex.build(demonstrations)

    def flags(self, original_idea: str, improved: ImprovedPrompt, context: str = "") -> tuple[str, ...]:
        """The names of the degeneracy flags this answer raises, in `FLAG_NAMES` order."""
        material = f"{original_idea}\n{context}"
        raised = {
            "placeholder": degeneracy.own_field_placeholder(improved),
            "repetition": degeneracy.repetition(improved),
            "code_or_metadata": degeneracy.code_or_metadata(improved, material),
            "echo": degeneracy.echo(original_idea, improved),
            "copied_demonstration": self._demonstrations.copied(original_idea, improved),
            "meta_answer": degeneracy.meta_answer(improved),
            "truncated": degeneracy.truncated(improved),
            "off_topic": degeneracy.off_topic(original_idea, improved),
            "non_letters": degeneracy.mostly_non_letters(improved, material),
        }
        return tuple(name for name in FLAG_NAMES if raised[name])

    def evaluate(self, original_idea: str, improved: ImprovedPrompt, context: str = "") -> QualityResult:
        """Score one answer: the weighted criteria, capped at 0.6 for template filler and at `FLAG_CAP`
        when any degeneracy flag is raised; rounded to 4 places."""
        criteria = criteria_scores(original_idea, improved)
        total = sum(WEIGHTS[name] * value for name, value in criteria.items())
        if criteria["no_placeholder"] == 0.0:
            total = min(total, PLACEHOLDER_CAP)
        flags = self.flags(original_idea, improved, context)
        if flags:
            total = min(total, FLAG_CAP)
        return QualityResult(round(max(0.0, min(1.0, total)), 4), criteria, flags)
