"""The domain record: one prompt improvement, validated on construction. Standard library only."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum

from store.errors import InvalidRecord
from store.timestamps import to_iso, utc_now

MIN_IDEA_CHARS = 5
MAX_IDEA_CHARS = 20_000
MAX_CONTEXT_CHARS = 20_000
MAX_PROMPT_CHARS = 100_000
MAX_GUARDRAILS = 50
MAX_GUARDRAIL_CHARS = 2_000
MAX_FIELD_CHARS = 20_000  # role, directive, framework, reasoning, model and program versions
LATENCY_PENALTY_PER_MS = 1 / 10_000
MAX_LATENCY_PENALTY = 0.3


class BackendType(str, Enum):
    """Which program produced a record."""

    ZERO_SHOT = "zero-shot"
    FEW_SHOT = "few-shot"

    @classmethod
    def parse(cls, value: BackendType | str) -> BackendType:
        """Accept an enum member or its text (`zero-shot`, `zero_shot`, `ZERO_SHOT`, `zeroshot` alike)."""
        if isinstance(value, cls):
            return value
        text = str(value).strip().lower().replace("_", "-")
        if text in ("zeroshot", "zero"):
            text = "zero-shot"
        if text in ("fewshot", "few"):
            text = "few-shot"
        try:
            return cls(text)
        except ValueError:
            raise InvalidRecord(f"backend must be 'zero-shot' or 'few-shot', got {value!r}") from None


def _check_text(name: str, value: object, limit: int, *, required: bool = False) -> None:
    if not isinstance(value, str):
        raise InvalidRecord(f"{name} must be a string, got {type(value).__name__}")
    if "\x00" in value:
        raise InvalidRecord(f"{name} contains a NUL character (\\x00) at index {value.index(chr(0))}; remove it")
    if len(value) > limit:
        raise InvalidRecord(f"{name} is {len(value):,} characters; the limit is {limit:,}")
    if required and not value.strip():
        raise InvalidRecord(f"{name} must not be empty")


def _check_unit_interval(name: str, value: float | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise InvalidRecord(f"{name} must be a number in [0, 1] or None, got {value!r}")
    if not 0.0 <= value <= 1.0:
        raise InvalidRecord(f"{name} must be in [0, 1], got {value!r}")


@dataclass(frozen=True, slots=True)
class PromptHistory:
    """One improvement of an idea into a structured prompt.

    `guardrails` is stored as a tuple (any sequence of str is accepted) so the record stays immutable.
    `uid` identifies the record across the outbox and the database, which makes replay exactly-once.
    """

    original_idea: str
    improved_prompt: str
    backend: BackendType
    model_version: str
    context: str = ""
    role: str = ""
    directive: str = ""
    framework: str = ""
    guardrails: tuple[str, ...] = ()
    confidence: float | None = None
    reasoning: str | None = None
    latency_ms: float | None = None
    program_version: str | None = None
    quality: float | None = None
    experiment_id: str | None = None
    metric_version: int | None = None  # which quality metric computed `quality` (pipeline/quality.py)
    timestamp: datetime = field(default_factory=utc_now)
    id: int | None = None
    uid: str = field(default_factory=lambda: uuid.uuid4().hex)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "backend", BackendType.parse(self.backend))
        _check_text("original_idea", self.original_idea, MAX_IDEA_CHARS, required=True)
        if len("".join(self.original_idea.split())) < MIN_IDEA_CHARS:
            raise InvalidRecord(
                f"original_idea needs at least {MIN_IDEA_CHARS} non-blank characters, got {self.original_idea!r}"
            )
        _check_text("context", self.context, MAX_CONTEXT_CHARS)
        _check_text("improved_prompt", self.improved_prompt, MAX_PROMPT_CHARS, required=True)
        for name in ("role", "directive", "framework", "model_version"):
            _check_text(name, getattr(self, name), MAX_FIELD_CHARS)
        for name in ("reasoning", "program_version", "experiment_id"):
            if getattr(self, name) is not None:
                _check_text(name, getattr(self, name), MAX_FIELD_CHARS)
        if isinstance(self.guardrails, str):
            raise InvalidRecord("guardrails must be a list of strings, got a single string")
        guardrails = tuple(self.guardrails)
        if len(guardrails) > MAX_GUARDRAILS:
            raise InvalidRecord(f"guardrails has {len(guardrails)} items; the limit is {MAX_GUARDRAILS}")
        for index, guardrail in enumerate(guardrails):
            _check_text(f"guardrails[{index}]", guardrail, MAX_GUARDRAIL_CHARS)
        set_(self, "guardrails", guardrails)
        _check_unit_interval("confidence", self.confidence)
        _check_unit_interval("quality", self.quality)
        if self.confidence is not None:
            set_(self, "confidence", float(self.confidence))
        if self.quality is not None:
            set_(self, "quality", float(self.quality))
        version = self.metric_version
        if version is not None and (isinstance(version, bool) or not isinstance(version, int) or version < 1):
            raise InvalidRecord(f"metric_version must be a positive integer or None, got {version!r}")
        if version is not None and self.quality is None:
            raise InvalidRecord(f"metric_version is {version} but there is no quality it versions; give both or neither")
        if self.latency_ms is not None:
            latency = self.latency_ms
            if isinstance(latency, bool) or not isinstance(latency, (int, float)) or not math.isfinite(latency):
                raise InvalidRecord(f"latency_ms must be a finite number >= 0 or None, got {latency!r}")
            if latency < 0:
                raise InvalidRecord(f"latency_ms must be >= 0, got {latency!r}")
            set_(self, "latency_ms", float(latency))
        if not isinstance(self.timestamp, datetime) or self.timestamp.utcoffset() is None:
            raise InvalidRecord(f"timestamp must be a timezone-aware datetime, got {self.timestamp!r}")
        set_(self, "timestamp", self.timestamp.astimezone(timezone.utc))
        if self.id is not None and (isinstance(self.id, bool) or not isinstance(self.id, int) or self.id < 1):
            raise InvalidRecord(f"id must be a positive integer or None, got {self.id!r}")
        _check_text("uid", self.uid, 64, required=True)

    @property
    def quality_score(self) -> float | None:
        """Confidence minus a latency penalty of 0.1 per second, the penalty capped at 0.3, floored at 0.

        The original design wrote `self.latency_ms or 0 / 10000`, which parses as
        `self.latency_ms or (0 / 10000)` and subtracted whole milliseconds; this is the intended formula.
        """
        if self.confidence is None:
            return None
        penalty = min((self.latency_ms or 0.0) * LATENCY_PENALTY_PER_MS, MAX_LATENCY_PENALTY)
        return max(0.0, self.confidence - penalty)

    def to_dict(self) -> dict:
        """The record as JSON-ready plain data: field names as keys, guardrails a list, timestamp ISO-8601."""
        return {
            "id": self.id,
            "uid": self.uid,
            "timestamp": to_iso(self.timestamp),
            "original_idea": self.original_idea,
            "context": self.context,
            "improved_prompt": self.improved_prompt,
            "role": self.role,
            "directive": self.directive,
            "framework": self.framework,
            "guardrails": list(self.guardrails),
            "backend": self.backend.value,
            "confidence": self.confidence,
            "reasoning": self.reasoning,
            "latency_ms": self.latency_ms,
            "model_version": self.model_version,
            "program_version": self.program_version,
            "quality": self.quality,
            "experiment_id": self.experiment_id,
            "metric_version": self.metric_version,
        }
