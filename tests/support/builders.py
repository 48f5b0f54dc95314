"""Data builders: small, explicit records for tests (`make_record(**overrides)`)."""

from __future__ import annotations

from datetime import datetime, timezone

from store.record import BackendType, PromptHistory


def make_record(**overrides) -> PromptHistory:
    """A valid PromptHistory; any field can be overridden by keyword."""
    fields = dict(
        original_idea="Write a product announcement for our new API",
        context="B2B developers audience",
        improved_prompt="You are a developer-relations writer. Write a 200-word announcement...",
        role="Developer-relations writer",
        directive="Write a concise product announcement",
        framework="AIDA",
        guardrails=("Keep it under 200 words", "No unverifiable claims", "Include one code sample"),
        backend=BackendType.FEW_SHOT,
        confidence=0.82,
        reasoning="The idea names an audience and a product; AIDA fits an announcement.",
        latency_ms=1234.5,
        model_version="openai/gpt-4o-mini",
        program_version="abc123def456",
        quality=0.75,
        experiment_id=None,
        timestamp=datetime(2026, 1, 3, 10, 15, 42, 123456, tzinfo=timezone.utc),
    )
    fields.update(overrides)
    return PromptHistory(**fields)
