"""Turn what a model said into an `ImprovedPrompt` fit for a record, or a precise `ImprovementFailed`.

Models answer loosely: a confidence of "85%", guardrails as one bulleted string, an empty role. Everything
here is standard library only, so importing it costs nothing; the DSPy signature reuses the coercions
(`coerce_confidence`, `split_guardrails`) so loose answers reach this module instead of failing in the adapter.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from pipeline.errors import ImprovementFailed
from store.record import MAX_FIELD_CHARS, MAX_GUARDRAIL_CHARS, MAX_GUARDRAILS, MAX_PROMPT_CHARS

logger = logging.getLogger(__name__)

REQUIRED_FIELDS = ("improved_prompt", "role", "directive", "framework")
EXCERPT_CHARS = 200

_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)")
_FRACTION = re.compile(r"^\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+))\s*/\s*(\d+(?:\.\d*)?)\s*$")
# A bullet or a number is stripped only when it is one: "3.5 s at most" and "-5% tolerance" keep theirs.
# Lone surrogates: a JSON "\udce9" escape from a model or server decodes to one. No UTF-8 encoder takes
# them, so SQLite and the outbox (and any later request) would fail on the record.
_SURROGATE = re.compile("[\ud800-\udfff]")
_BULLET = re.compile(r"^\s*(?:[-*•‣▪◦–—]+(?![\d.])|\(?\d{1,3}[.):](?=\s)|\(?[a-zA-Z][.)](?=\s))\s*")


@dataclass(frozen=True, slots=True)
class ImprovedPrompt:
    """The structured prompt a program produced, normalised and within the record's limits."""

    improved_prompt: str
    role: str
    directive: str
    framework: str
    guardrails: tuple[str, ...] = ()
    confidence: float | None = None
    reasoning: str | None = None


def excerpt(text: object, limit: int = EXCERPT_CHARS) -> str:
    """`text` on one line, at most `limit` characters (an ellipsis marks a cut)."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def coerce_confidence(value: object) -> float:
    """Read a confidence as a number without judging it: "85%" → 0.85, "0.85" → 0.85, "85" → 85.0.

    Used as the signature's before-validator so a loose answer parses; words, percentages outside 0–100 and
    fractions above 1 become NaN, which `normalize_confidence` turns into None with a warning.
    """
    if isinstance(value, bool):
        return math.nan
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip().rstrip(".").strip()
    percent = text.endswith("%")
    if percent:
        text = text[:-1].strip()
    if match := _FRACTION.match(text):
        numerator, denominator = float(match.group(1)), float(match.group(2))
        return numerator / denominator if denominator and 0 <= numerator <= denominator else math.nan
    if not _NUMBER.fullmatch(text):
        # "Confidence: 0.9" or "0.9 (high)": take a single number written inside a short answer.
        numbers = _NUMBER.findall(text)
        if len(numbers) != 1 or len(text) > 40:
            return math.nan
        percent = percent or "%" in text
        text = numbers[0]
    number = float(text)
    if percent:
        # Judged here, while we still know it was a percentage: 250% must not pass as 2.5 → 0.025.
        return number / 100 if 0 <= number <= 100 else math.nan
    return number


def normalize_confidence(value: object) -> float | None:
    """A confidence in [0, 1], or None (with a logged warning) when the value is impossible.

    Fractions in [0, 1] are kept; numbers in (1, 100] are percentages; negative numbers, numbers above 100,
    NaN, infinity and words are impossible.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number = coerce_confidence(value)
    if not math.isfinite(number) or number < 0 or number > 100:
        logger.warning("model gave an impossible confidence %r; recording it as None", value)
        return None
    return number / 100 if number > 1 else number


def _strip_bullet(item: str) -> str:
    return _BULLET.sub("", item, count=1).strip()


def split_guardrails(value: object) -> list[str]:
    """Guardrails as a list of non-empty strings, bullets and numbering removed.

    Accepts a list, a JSON array in a string, or one string separated by newlines, semicolons or bullets.
    """
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
            if isinstance(parsed, list):
                return split_guardrails(parsed)
        if "\n" in text:
            items = text.splitlines()
        elif ";" in text:
            items = text.split(";")
        elif text.count("•") > 1:
            items = text.split("•")
        else:
            items = [text]
    elif isinstance(value, (list, tuple)):
        items = [item if isinstance(item, str) else json.dumps(item) if isinstance(item, dict) else str(item)
                 for item in value if item is not None]
    else:
        items = [json.dumps(value, default=str) if isinstance(value, dict) else str(value)]
    return [cleaned for item in items if (cleaned := _strip_bullet(item))]


def _clean_text(name: str, value: object, limit: int) -> str:
    text = "" if value is None else str(value)
    if "\x00" in text:
        text = text.replace("\x00", "")  # a NUL would make the record (and SQLite text) reject the row
    if _SURROGATE.search(text):
        logger.warning("model output for %s holds text that is not valid Unicode; replaced with U+FFFD", name)
        text = _SURROGATE.sub("\ufffd", text)
    text = text.strip()
    if len(text) > limit:
        logger.warning("model output for %s is %d characters; keeping the first %d", name, len(text), limit)
        text = text[:limit]
    return text


def _get(prediction: object, name: str) -> object:
    if isinstance(prediction, Mapping):
        return prediction.get(name)
    getter = getattr(prediction, "get", None)
    if callable(getter):
        try:
            return getter(name, None)
        except TypeError:
            pass
    return getattr(prediction, name, None)


def _what_the_model_said(prediction: object) -> str:
    parts = []
    for name in (*REQUIRED_FIELDS, "guardrails", "confidence", "reasoning"):
        value = _get(prediction, name)
        if value not in (None, "", [], ()):
            parts.append(f"{name}: {value}")
    return excerpt("; ".join(parts) if parts else repr(prediction))


def normalize_prediction(prediction: object) -> ImprovedPrompt:
    """Normalise a program's prediction (a `dspy.Prediction`, a mapping or any object with the fields).

    Returns:
        An `ImprovedPrompt`: text stripped and capped to the record limits, guardrails a tuple (at most 50),
        confidence in [0, 1] or None.

    Raises:
        ImprovementFailed: a required field (improved_prompt, role, directive, framework) is missing or
            empty; `excerpt` holds up to 200 characters of what the model did say.
    """
    limits = {"improved_prompt": MAX_PROMPT_CHARS}
    values = {name: _clean_text(name, _get(prediction, name), limits.get(name, MAX_FIELD_CHARS))
              for name in REQUIRED_FIELDS}
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise ImprovementFailed(
            f"the model's answer has no {', '.join(missing)}; try again or use a more capable model",
            excerpt=_what_the_model_said(prediction),
        )
    guardrails = split_guardrails(_get(prediction, "guardrails"))
    if len(guardrails) > MAX_GUARDRAILS:
        logger.warning("model gave %d guardrails; keeping the first %d", len(guardrails), MAX_GUARDRAILS)
        guardrails = guardrails[:MAX_GUARDRAILS]
    guardrails = [_clean_text("guardrail", item, MAX_GUARDRAIL_CHARS) for item in guardrails]
    reasoning = _clean_text("reasoning", _get(prediction, "reasoning"), MAX_FIELD_CHARS) or None
    return ImprovedPrompt(
        improved_prompt=values["improved_prompt"],
        role=values["role"],
        directive=values["directive"],
        framework=values["framework"],
        guardrails=tuple(item for item in guardrails if item),
        confidence=normalize_confidence(_get(prediction, "confidence")),
        reasoning=reasoning,
    )


def translate_model_error(exc: BaseException, context: object = None) -> ImprovementFailed:
    """Our `ImprovementFailed` for a model-call exception (see `pipeline.model_errors.translate_model_error`)."""
    from pipeline.model_errors import translate_model_error as translate

    return translate(exc, context)  # type: ignore[arg-type]
