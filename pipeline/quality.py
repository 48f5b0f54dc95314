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

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from pipeline import degeneracy
from pipeline.degeneracy import ngrams, words
from pipeline.metrics import PLACEHOLDER_CAP, WEIGHTS, criteria_scores, key_terms
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


@dataclass(frozen=True, slots=True)
class DemonstrationIndex:
    """What copying is checked against, indexed for lookup: which demonstrations hold each normalised
    role, directive or guardrail and each 6-gram of their prompts, and each one's idea key terms."""

    terms: tuple[tuple[str, ...], ...] = ()
    fields: Mapping[str, frozenset[int]] = field(default_factory=dict)
    grams: Mapping[tuple[str, ...], frozenset[int]] = field(default_factory=dict)

    @classmethod
    def build(cls, records: Iterable[Mapping]) -> DemonstrationIndex:
        """Index demonstration dicts (the shipped file's shape: original_idea, improved_prompt, role…)."""
        terms: list[tuple[str, ...]] = []
        fields: dict[str, set[int]] = {}
        grams: dict[tuple[str, ...], set[int]] = {}
        for index, record in enumerate(records):
            terms.append(tuple(key_terms(record.get("original_idea", ""))))
            for text in (record.get("role", ""), record.get("directive", ""), *record.get("guardrails", ())):
                if len(words(text)) >= 3:
                    fields.setdefault(" ".join(words(text)), set()).add(index)
            for gram in set(ngrams(words(record.get("improved_prompt", "")), COPY_NGRAM)):
                grams.setdefault(gram, set()).add(index)
        return cls(
            tuple(terms),
            MappingProxyType({key: frozenset(value) for key, value in fields.items()}),
            MappingProxyType({key: frozenset(value) for key, value in grams.items()}),
        )

    def _same_task(self, index: int, idea_words: set[str]) -> bool:
        # `coverage(terms, idea)` with the idea's words read once for every demonstration
        terms = self.terms[index]
        prefixes = {word[:5] for word in idea_words}
        named = sum(term[:5] in prefixes or term in idea_words for term in terms)
        return bool(terms) and named >= SAME_TASK_COVERAGE * len(terms)

    def copied(self, original_idea: str, improved: ImprovedPrompt, prompt_words: list[str] | None = None) -> bool:
        """Whether the answer copies a demonstration made for another task: its role or directive, two of its
        guardrails, or 30% of the prompt's 6-grams."""
        head, rules, shared = Counter(), Counter(), Counter()
        for position, text in enumerate((improved.role, improved.directive, *improved.guardrails)):
            for index in self.fields.get(" ".join(words(text)), ()):
                (head if position < 2 else rules)[index] += 1
        prompt_words = words(improved.improved_prompt) if prompt_words is None else prompt_words
        prompt_grams = set(ngrams(prompt_words, COPY_NGRAM))
        for gram in prompt_grams & self.grams.keys():
            shared.update(self.grams[gram])
        suspects = set(head) | {i for i, n in rules.items() if n >= 2}
        suspects |= {i for i, n in shared.items() if n >= COPIED_SHARE * len(prompt_grams)}
        idea_words = set(words(original_idea))
        # A demonstration of the user's own task may be resembled: that is what it demonstrates.
        return any(not self._same_task(index, idea_words) for index in suspects)


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
        prompt_words = words(improved.improved_prompt)  # read once, used by three checks
        raised = {
            "placeholder": degeneracy.own_field_placeholder(improved),
            "repetition": degeneracy.repetition(improved, prompt_words),
            "code_or_metadata": degeneracy.code_or_metadata(improved, material),
            "echo": degeneracy.echo(original_idea, improved, prompt_words),
            "copied_demonstration": self._demonstrations.copied(original_idea, improved, prompt_words),
            "meta_answer": degeneracy.meta_answer(improved),
            "truncated": degeneracy.truncated(improved),
            "off_topic": degeneracy.off_topic(original_idea, improved, prompt_words),
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
