"""The curated few-shot demonstrations that ship with the package (`pipeline/data/demonstrations.json`).

Each demonstration is a complete target output for one idea: improved prompt, role, directive, framework,
guardrails, confidence and a short reasoning. The file's order is curated so that any prefix spans
different domains (the few-shot program takes the first k).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import dspy

DATA_PACKAGE = "pipeline"
DATA_FILE = "data/demonstrations.json"
INPUT_FIELDS = ("original_idea", "context")
OUTPUT_FIELDS = ("reasoning", "improved_prompt", "role", "directive", "framework", "guardrails", "confidence")
REQUIRED_KEYS = ("domain", *INPUT_FIELDS, *OUTPUT_FIELDS)


def read_demonstration_records() -> list[dict]:
    """The demonstrations as plain dicts (with their `domain`), read with `importlib.resources`.

    Raises:
        ValueError: the packaged file is not a JSON list of complete demonstrations (names the entry).
    """
    text = resources.files(DATA_PACKAGE).joinpath(DATA_FILE).read_text(encoding="utf-8")
    records = json.loads(text)
    if not isinstance(records, list):
        raise ValueError(f"{DATA_FILE} must hold a JSON list of demonstrations")
    for index, record in enumerate(records):
        missing = [key for key in REQUIRED_KEYS if key not in record] if isinstance(record, dict) else REQUIRED_KEYS
        if missing:
            raise ValueError(f"{DATA_FILE}: demonstration {index} lacks {', '.join(missing)}")
    return records


def load_demonstrations() -> list[dspy.Example]:
    """The demonstrations as `dspy.Example`s whose inputs are `original_idea` and `context`."""
    import dspy

    return [
        dspy.Example(**{key: record[key] for key in (*INPUT_FIELDS, *OUTPUT_FIELDS)}).with_inputs(*INPUT_FIELDS)
        for record in read_demonstration_records()
    ]
