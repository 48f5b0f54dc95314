"""Evaluation sets for Compare experiments: the shipped default, a user's CSV/JSONL file, or a history sample.

Every evaluation set is checked against the few-shot demonstrations: an idea the few-shot program has
seen as a demonstration would flatter it, so such an idea is refused by name. Standard library only.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pipeline.errors import InvalidIdea, PipelineError
from pipeline.validation import validate_idea
from store.repository import PromptRepository

MAX_ITEMS = 2_000
HISTORY_SCAN_LIMIT = 5_000  # sample_from_history draws from at most this many recent records


class InvalidEvalSet(PipelineError, ValueError):
    """An evaluation set is empty, malformed, or contains an idea that cannot be used."""


@dataclass(frozen=True, slots=True)
class EvalItem:
    """One idea (with its optional context) to run through both backends."""

    idea: str
    context: str = ""

    def __post_init__(self) -> None:
        idea, context = validate_idea(self.idea, self.context)
        object.__setattr__(self, "idea", idea)
        object.__setattr__(self, "context", context)


def idea_key(text: str) -> str:
    """The form in which two ideas count as equal: case-folded, all whitespace removed."""
    return "".join(str(text).casefold().split())


def _item(idea: Any, context: Any, where: str) -> EvalItem:
    if not isinstance(idea, str):
        raise InvalidEvalSet(f"{where}: 'idea' must be text, got {type(idea).__name__}")
    if context is not None and not isinstance(context, str):
        raise InvalidEvalSet(f"{where}: 'context' must be text, got {type(context).__name__}")
    try:
        return EvalItem(idea, context or "")
    except InvalidIdea as error:
        raise InvalidEvalSet(f"{where}: {error}") from None


def _finish(items: list[EvalItem], source: str, places: list[str]) -> list[EvalItem]:
    if not items:
        raise InvalidEvalSet(f"{source} holds no ideas; add at least one row with an 'idea'")
    if len(items) > MAX_ITEMS:
        raise InvalidEvalSet(f"{source} holds {len(items):,} ideas; the limit is {MAX_ITEMS:,}")
    seen: dict[str, str] = {}
    for item, place in zip(items, places):
        key = idea_key(item.idea)
        if key in seen:
            # A repeated idea would count as two independent pairs; use --repeats for repetitions.
            raise InvalidEvalSet(f"{source}: {place} repeats the idea of {seen[key]} ({item.idea!r})")
        seen[key] = place
    return items


def parse_jsonl(text: str, source: str = "the evaluation set") -> list[EvalItem]:
    """Items from JSON lines: `{"idea": ..., "context": ...}` per line; blank lines are skipped.

    Raises:
        InvalidEvalSet: naming the line of a row that is not such an object, or an unusable idea.
    """
    items, places = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{source} line {number}"
        try:
            row = json.loads(line)
        except ValueError as error:
            raise InvalidEvalSet(f"{where} is not valid JSON ({error.msg})") from None
        if not isinstance(row, dict) or "idea" not in row:
            raise InvalidEvalSet(f'{where} must be an object like {{"idea": "...", "context": "..."}}')
        items.append(_item(row["idea"], row.get("context"), where))
        places.append(f"line {number}")
    return _finish(items, source, places)


def parse_csv(text: str, source: str = "the evaluation set") -> list[EvalItem]:
    """Items from CSV with a header row holding an `idea` column and, optionally, a `context` column.

    Raises:
        InvalidEvalSet: for an empty file, a missing `idea` column, or an unusable idea (naming its row).
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    columns = [name.strip().lower() for name in (reader.fieldnames or [])]
    if not columns:
        raise InvalidEvalSet(f"{source} is empty; it needs a header row with 'idea' and 'context' columns")
    if "idea" not in columns:
        raise InvalidEvalSet(f"{source} has no 'idea' column (found: {', '.join(columns)}); name the header 'idea'")
    reader.fieldnames = columns
    items, places = [], []
    for row in reader:
        # Row numbers count the header as row 1, as a spreadsheet shows them.
        place = f"row {reader.line_num}"
        if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
            continue
        items.append(_item(row.get("idea") or "", row.get("context"), f"{source} {place}"))
        places.append(place)
    return _finish(items, source, places)


def parse_eval_text(text: str, filename: str) -> list[EvalItem]:
    """Items from the text of a `.jsonl`/`.json` or `.csv` file (chosen by `filename`'s extension)."""
    suffix = Path(filename).suffix.lower()
    if suffix in (".jsonl", ".json", ".ndjson"):
        return parse_jsonl(text, filename)
    if suffix == ".csv":
        return parse_csv(text, filename)
    raise InvalidEvalSet(f"{filename}: unknown evaluation-set format {suffix or '(none)'!r}; use .jsonl or .csv")


def load_eval_file(path: Path | str) -> list[EvalItem]:
    """Items from a JSONL or CSV file.

    Raises:
        InvalidEvalSet: the file cannot be read, is not UTF-8, or is malformed (naming the line or row).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise InvalidEvalSet(f"{path} is not UTF-8 text (byte {error.start}); save it as UTF-8") from None
    except OSError as error:
        raise InvalidEvalSet(f"cannot read the evaluation set {path}: {error.strerror}") from None
    return parse_eval_text(text, str(path))


def default_eval_set() -> list[EvalItem]:
    """The evaluation set shipped with the package (`pipeline/data/eval_ideas.jsonl`)."""
    text = resources.files("pipeline").joinpath("data/eval_ideas.jsonl").read_text(encoding="utf-8")
    return parse_jsonl(text, "the default evaluation set")


def sample_from_history(repo: PromptRepository, n: int, seed: int = 0) -> list[EvalItem]:
    """`n` distinct ideas drawn (seeded) from the most recent history, leaving out experiment runs.

    Raises:
        InvalidEvalSet: the history holds no usable idea.
    """
    if n < 1:
        raise InvalidEvalSet(f"the sample size must be at least 1, got {n}")
    pool: dict[str, EvalItem] = {}
    offset = 0
    while offset < HISTORY_SCAN_LIMIT and (batch := repo.find_recent(limit=500, offset=offset)):
        offset += len(batch)
        for record in batch:
            key = idea_key(record.original_idea)
            if record.experiment_id is None and key not in pool:
                try:
                    pool[key] = EvalItem(record.original_idea, record.context)
                except InvalidIdea:
                    continue
    if not pool:
        raise InvalidEvalSet("the history holds no ideas to sample from; improve a few prompts first")
    keys = sorted(pool)  # the draw depends on the seed, not on the history's order
    return [pool[key] for key in random.Random(seed).sample(keys, min(n, len(keys)))]


def check_against_demonstrations(items: Sequence[EvalItem], demonstrations: Iterable[Any]) -> None:
    """Refuse an evaluation idea equal (ignoring case and whitespace) to a demonstration's idea.

    Args:
        demonstrations: objects with an `original_idea` attribute or key (dspy.Example works).

    Raises:
        InvalidEvalSet: naming every such idea.
    """
    shown = set()
    for demo in demonstrations:
        idea = demo.get("original_idea") if hasattr(demo, "get") else getattr(demo, "original_idea", None)
        if idea:
            shown.add(idea_key(idea))
    clashes = [item.idea for item in items if idea_key(item.idea) in shown]
    if clashes:
        named = "; ".join(repr(idea) for idea in clashes)
        raise InvalidEvalSet(
            f"the evaluation set contains {len(clashes)} idea(s) the few-shot program uses as demonstrations, "
            f"which would favour it: {named}; remove or reword them"
        )


def eval_set_hash(items: Sequence[EvalItem]) -> str:
    """A stable 16-hex-digit hash of the ideas and contexts, in order."""
    payload = json.dumps([[item.idea, item.context] for item in items], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]
