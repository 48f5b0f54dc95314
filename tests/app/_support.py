"""Helpers for the dashboard's AppTests (the fixtures are in conftest.py)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
# Every page's script, as AppTest's switch_page names it (relative to app.py), in the sidebar's order.
PAGES = ["views/improve.py", "views/history.py", "views/analytics.py", "views/compare.py", "views/settings.py"]
TIMEOUT = 60  # the first run imports pandas/altair; the analytics worker process needs a few seconds


def open_app(page: str | None = None) -> AppTest:
    """Run the app once, then (if given) switch to `page` (e.g. "views/history.py") and run it."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    if page is not None:
        at.switch_page(page).run()
    return at


def texts(at: AppTest) -> str:
    """Every markdown, caption, alert and title text on the page, joined (for "the user sees …" checks)."""
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "error", "warning", "info", "success"):
        parts.extend(str(element.value) for element in getattr(at, kind))
    return "\n".join(parts)
