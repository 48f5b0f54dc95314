"""A pairwise judge's verdict on one experiment pair, in one order: the record the judge cache is made of.

A Compare experiment can ask a judge model which of a pair's two outputs (zero-shot and few-shot, for the
same idea and repeat) better serves the idea. Each pair is asked twice, once with each backend shown as
candidate A, to cancel the judge's position bias. One `JudgeVerdict` is the latest answer to one of those
questions, keyed by (experiment, item, repeat, judge model, the backend shown first); it also names the
two history records it judged, so a verdict about other records is never reused. Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from store.errors import InvalidRecord
from store.record import BackendType
from store.timestamps import utc_now

# answered: the judge chose A, B or tie. unparsed: it answered, but not as A, B or tie (kept: it is the
# judge's answer, and asking again would cost a call and likely give the same). failed: the call itself
# failed (HTTP error, timeout); retried on the next run.
VERDICT_STATUSES = ("answered", "unparsed", "failed")
CHOICES = ("A", "B", "tie")
MAX_TEXT_CHARS = 2_000
# The stored columns, in the order both adapters (SQLite, PostgreSQL) select and insert them.
VERDICT_COLUMNS = ("experiment_id", "item_index", "repeat", "judge_model", "first_backend", "zero_shot_uid",
                   "few_shot_uid", "status", "choice", "reason", "error", "created")
TIE = "tie"


@dataclass(frozen=True, slots=True)
class JudgeVerdict:
    """The judge's latest answer about one pair, shown in one order.

    Attributes:
        experiment_id, item_index, repeat: the pair.
        judge_model: the judge's model string (JUDGE_MODEL).
        first: the backend shown as candidate A (the other one is B).
        zero_shot_uid, few_shot_uid: the history records that were judged.
        status: `answered`, `unparsed` or `failed`.
        choice: `A`, `B` or `tie` when answered, else None.
        reason: the judge's short reason, if any.
        error: why the call failed, or (unparsed) the start of what the judge said.
    """

    experiment_id: str
    item_index: int
    repeat: int
    judge_model: str
    first: BackendType
    zero_shot_uid: str
    few_shot_uid: str
    status: str
    choice: str | None = None
    reason: str | None = None
    error: str | None = None
    created: datetime = field(default_factory=utc_now)

    def __post_init__(self) -> None:
        object.__setattr__(self, "first", BackendType.parse(self.first))
        if self.status not in VERDICT_STATUSES:
            raise InvalidRecord(f"verdict status must be one of {VERDICT_STATUSES}, got {self.status!r}")
        if (self.status == "answered") != (self.choice is not None):
            raise InvalidRecord(f"a verdict has a choice exactly when it is answered; got status {self.status!r} "
                                f"with choice {self.choice!r}")
        if self.choice is not None and self.choice not in CHOICES:
            raise InvalidRecord(f"verdict choice must be one of {CHOICES}, got {self.choice!r}")
        if self.item_index < 0 or self.repeat < 0:
            raise InvalidRecord(f"item_index and repeat must be >= 0, got {self.item_index}, {self.repeat}")
        for name in ("judge_model", "zero_shot_uid", "few_shot_uid"):
            if not getattr(self, name):
                raise InvalidRecord(f"a verdict needs a non-empty {name}")
        for name in ("reason", "error"):
            text = getattr(self, name)
            if text is not None and len(text) > MAX_TEXT_CHARS:
                object.__setattr__(self, name, text[: MAX_TEXT_CHARS - 1] + "…")
        if self.created.utcoffset() is None:
            raise InvalidRecord(f"created must be timezone-aware, got {self.created!r}")

    @classmethod
    def from_row(cls, row: tuple, created: datetime | None = None) -> JudgeVerdict:
        """A verdict from a row selected with VERDICT_COLUMNS (`created` given when the adapter converts it)."""
        values = dict(zip(VERDICT_COLUMNS, row))
        values["first"] = values.pop("first_backend")
        if created is not None:
            values["created"] = created
        return cls(**values)

    @property
    def key(self) -> tuple[int, int, str, BackendType]:
        """What identifies the verdict within its experiment."""
        return (self.item_index, self.repeat, self.judge_model, self.first)

    @property
    def preferred(self) -> BackendType | str | None:
        """The backend the judge preferred, `tie`, or None when it did not answer with a choice."""
        if self.choice is None:
            return None
        if self.choice == TIE:
            return TIE
        second = BackendType.FEW_SHOT if self.first is BackendType.ZERO_SHOT else BackendType.ZERO_SHOT
        return self.first if self.choice == "A" else second

    def judges(self, zero_shot_uid: str | None, few_shot_uid: str | None) -> bool:
        """Whether this verdict is about exactly these two records."""
        return (self.zero_shot_uid, self.few_shot_uid) == (zero_shot_uid, few_shot_uid)
