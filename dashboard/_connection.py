"""The Settings page's "Test connection": the same probe as `prompt-improver doctor`.

A model listing (unreachable server, refused credentials) and one completion of a few tokens, within a few
seconds; the answer and its round-trip time, or what is wrong and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass

from prompt_improver.models import ModelFactory


@dataclass(frozen=True, slots=True)
class ConnectionResult:
    """What the probe found: the model's answer and round-trip time, or the problem and its fix."""

    ok: bool
    message: str
    latency_ms: float | None = None


def check_connection(models: ModelFactory) -> ConnectionResult:
    """Probe the configured model (see `ModelFactory.probe`)."""
    result = models.probe()
    if result.usable:
        return ConnectionResult(True, (result.answer or "").strip()[:200] or "(an empty answer)", result.latency_ms)
    listed = f" The server lists: {', '.join(result.models[:10])}." if result.models else ""
    fix = f" — {result.fix}" if result.fix else ""
    return ConnectionResult(False, f"{result.state}: {result.message}{fix}.{listed}")
