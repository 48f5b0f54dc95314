"""The quality metric's fixture set: good improvements, degenerate ones, and real answers of a small model.

Files under tests/fixtures/quality/, one improvement per line in `prompt-improver score`'s input format:
- good.jsonl: hand-written good improvements from varied domains (and the normal cases each check must
  leave alone: user-material slots, the user's code in a fence, a directive restating the idea, French);
- degenerate.jsonl: hand-written degenerate answers, each naming the flag it must raise (`expect_flag`);
- model_answers.jsonl: answers SmolLM2-135M really gave (tests/fixtures/generate_model_answers.py and
  `prompt-improver improve --json`), each reviewed by hand as degenerate; `why` says what is wrong.
"""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.normalize import ImprovedPrompt

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "quality"
GOOD, DEGENERATE, MODEL_ANSWERS = (FIXTURES / name for name in ("good.jsonl", "degenerate.jsonl", "model_answers.jsonl"))


def read_fixture(path: Path) -> list[dict]:
    """The fixture's lines as dicts."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def as_improvement(item: dict) -> ImprovedPrompt:
    """The improvement a fixture line describes."""
    return ImprovedPrompt(
        improved_prompt=item["improved_prompt"], role=item.get("role", ""), directive=item.get("directive", ""),
        framework=item.get("framework", ""), guardrails=tuple(item.get("guardrails", ())),
    )
