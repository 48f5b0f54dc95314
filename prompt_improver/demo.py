"""Synthetic but plausible prompt history for trying the dashboard (`prompt-improver demo-data`).

Standard library only; the words it draws from are in `prompt_improver.demo_vocabulary`. Every record is a real, validated `PromptHistory`; the generator stays fast by
building the text of a few thousand improvements once per call and drawing from that pool, so the
per-row work is a handful of random numbers, a timestamp and the record's own validation.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from datetime import datetime, time, timedelta, timezone

from prompt_improver.demo_vocabulary import (
    CONTEXTS,
    DOMAINS,
    FRAMEWORKS,
    GENERIC_GUARDRAILS,
    HOUR_WEIGHTS,
    REASONINGS,
    WEEKDAY_WEIGHTS,
)
from store.record import BackendType, PromptHistory
from store.timestamps import utc_now

DEMO_MODEL_VERSION = "demo"
MAX_DAYS = 36_500
POOL_SIZE = 4_096  # distinct improvements per backend (a power of two: drawn with getrandbits)
MEASUREMENT_TABLE_SIZE = 16_384  # (confidence, latency, quality) draws per backend, also a power of two


def _build_pool(rng: random.Random, size: int, *, few_shot: bool) -> list[tuple]:
    # Each entry: (idea, context, improved_prompt, role, directive, framework, guardrails, reasoning).
    domains = list(DOMAINS.values())
    pool = []
    for _ in range(size):
        ideas, topics, audiences, roles, frameworks, formats = rng.choice(domains)
        topic, audience = rng.choice(topics), rng.choice(audiences)
        template = rng.choice(ideas)
        task = template.format(topic=topic, audience=audience)
        # Rough ideas as people type them: mostly lower case, sometimes with a flourish.
        idea = task if rng.random() < 0.7 else task[0].upper() + task[1:] + rng.choice((".", " please", " asap", "?"))
        context = rng.choice(CONTEXTS).format(audience=audience)
        role = rng.choice(roles)
        framework = rng.choice(frameworks) if rng.random() < 0.85 else rng.choice(list(FRAMEWORKS))
        output_format = rng.choice(formats)
        for_whom = "" if "{audience}" in template else f" for {audience}"
        directive = f"{task[0].upper()}{task[1:]}{for_whom} as {output_format}"
        count = rng.randint(4, 6) if few_shot else rng.randint(3, 5)
        guardrails = tuple(rng.sample(GENERIC_GUARDRAILS, count))
        lines = [
            f"Role: {role}.",
            "",
            f"Task: {directive}.",
        ]
        if context:
            lines += ["", f"Context: {context}"]
        lines += ["", f"Structure your answer with {framework} ({FRAMEWORKS[framework]})."]
        lines += ["", "Constraints:"] + [f"- {guardrail}" for guardrail in guardrails]
        if few_shot:
            lines += ["", f"Follow the style of the example answers: specific, {output_format}, no filler."]
        lines += ["", f"Output: {output_format}."]
        reasoning = rng.choice(REASONINGS).format(framework=framework, desc=FRAMEWORKS[framework].lower())
        pool.append((idea, context, "\n".join(lines), role, directive, framework, guardrails, reasoning))
    return pool


def _hour_slot_weights(rng: random.Random, start: datetime, days: int) -> list[float]:
    # Daily and weekly rhythm, day-to-day noise and a gentle growth trend (the tool gets adopted).
    weights = []
    for day in range(days):
        day_start = start + timedelta(days=day)
        day_factor = rng.uniform(0.75, 1.25) * (0.6 + 0.8 * day / max(days - 1, 1))
        for hour in range(24):
            moment = day_start + timedelta(hours=hour)
            weights.append(
                WEEKDAY_WEIGHTS[moment.weekday()] * HOUR_WEIGHTS[moment.hour] * day_factor * rng.uniform(0.85, 1.15)
            )
    return weights


def generate_demo_records(
    rows: int, *, days: int = 90, seed: int = 0, now: datetime | None = None
) -> Iterator[PromptHistory]:
    """Yield `rows` synthetic records, oldest first, spread over the `days` days before `now`.

    Both backends appear (few-shot more often later in the window, with somewhat higher confidence and
    quality and slightly higher latency); confidence is beta-distributed, latency log-normal. The output
    is the same for the same `rows`, `days`, `seed` and `now`; uids embed seed and `now`, so a second
    run at another time adds rows instead of colliding with the first.

    Raises:
        ValueError: if `rows` is negative, `days` is outside 1..36,500, or `now` is naive.
    """
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
        raise ValueError(f"rows must be a whole number >= 0, got {rows!r}")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be a whole number from 1 to {MAX_DAYS:,}, got {days!r}")
    now = utc_now() if now is None else now
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got {now!r}")
    return _generate(rows, days, seed, now.astimezone(timezone.utc))


def _measurements(rng: random.Random, size: int, *, few_shot: bool) -> list[tuple[float | None, float, float]]:
    # (confidence, latency_ms, quality) triples. Drawing them once into a table keeps the per-row cost
    # to one lookup (a beta draw alone costs ~2.5 µs) while quality stays correlated with the other two.
    alpha, beta = (8.5, 2.5) if few_shot else (6.0, 3.0)
    # Median latency ~3.2 s few-shot (longer prompts with demonstrations), ~2.4 s zero-shot.
    mu = math.log(3_200 if few_shot else 2_400)
    bonus = 0.04 if few_shot else 0.0
    table = []
    for _ in range(size):
        confidence = rng.betavariate(alpha, beta)
        latency = min(rng.lognormvariate(mu, 0.7), 90_000.0)
        quality = 0.12 + 0.78 * confidence + bonus + rng.gauss(0.0, 0.07) - min(latency / 200_000, 0.1)
        quality = min(max(quality, 0.0), 1.0)
        # The model sometimes returns no usable confidence.
        stored_confidence = None if rng.random() < 0.005 else round(confidence, 3)
        table.append((stored_confidence, round(latency, 1), round(quality, 3)))
    return table


def _generate(rows: int, days: int, seed: int, now: datetime) -> Iterator[PromptHistory]:
    rng = random.Random(seed)
    # `days` calendar days in UTC, today included (what "Last 7 days" and a 7-day retention mean), up to now.
    start = datetime.combine(now.date() - timedelta(days=days - 1), time(), timezone.utc)
    start_epoch, now_epoch = start.timestamp(), now.timestamp()
    few, zero = BackendType.FEW_SHOT, BackendType.ZERO_SHOT
    # Small runs get small tables (building the full ones takes a noticeable fraction of a second).
    pool_bits = min(POOL_SIZE.bit_length() - 1, max(4, rows.bit_length()))
    table_bits = min(MEASUREMENT_TABLE_SIZE.bit_length() - 1, max(6, rows.bit_length() + 2))
    # Per backend: (pool, measurements, program version before and after the mid-window recompile).
    profiles = {
        zero: (_build_pool(rng, 1 << pool_bits, few_shot=False), _measurements(rng, 1 << table_bits, few_shot=False),
               ("demo-zs-5e1f0c2a", "demo-zs-5e1f0c2a")),
        few: (_build_pool(rng, 1 << pool_bits, few_shot=True), _measurements(rng, 1 << table_bits, few_shot=True),
              ("demo-fs-9b3d71e4", "demo-fs-c02a6f18")),
    }
    weights = _hour_slot_weights(rng, start, days)[: max(1, math.ceil((now_epoch - start_epoch) / 3600))]
    slots = len(weights)
    recompiled_slot = slots * 2 // 3
    step = sum(weights) / rows if rows else 0.0
    phase = rng.random()
    uid_prefix = f"demo-{seed & 0xFFFFFFFF:x}-{int(now.timestamp() * 1_000_000):x}-"
    random_, getrandbits = rng.random, rng.getrandbits
    index = 0
    cumulative = 0.0
    for slot, weight in enumerate(weights):
        if index >= rows:
            break
        cumulative += weight
        # Systematic sampling: row j sits at cumulative weight (phase + j) * step.
        upto = rows if slot == slots - 1 else min(rows, max(0, math.ceil(cumulative / step - phase)))
        if upto <= index:
            continue
        share_few = 0.35 + 0.3 * slot / slots  # adoption of the compiled program grows over time
        version_index = 1 if slot >= recompiled_slot else 0
        slot_epoch = start_epoch + slot * 3600
        span = min(3600.0, now_epoch - slot_epoch)  # the hour in progress ends now: no record in the future
        for offset in sorted(random_() for _ in range(upto - index)):
            backend = few if random_() < share_few else zero
            pool, measurements, versions = profiles[backend]
            idea, context, prompt, role, directive, framework, guardrails, reasoning = pool[getrandbits(pool_bits)]
            confidence, latency, quality = measurements[getrandbits(table_bits)]
            yield PromptHistory(
                original_idea=idea,
                context=context,
                improved_prompt=prompt,
                role=role,
                directive=directive,
                framework=framework,
                guardrails=guardrails,
                backend=backend,
                confidence=confidence,
                reasoning=reasoning,
                latency_ms=latency,
                model_version=DEMO_MODEL_VERSION,
                program_version=versions[version_index],
                quality=quality,
                timestamp=datetime.fromtimestamp(slot_epoch + offset * span, timezone.utc),
                uid=uid_prefix + format(index, "08x"),  # fixed width: uids ascend, the index appends
            )
            index += 1
