"""Bookmarked addresses opened cold: each test starts its own `streamlit run` and a fresh Chromium session,
and the bookmark is the server's very first request.

A folder named `pages/` beside app.py used to put exactly this request into Streamlit's legacy multipage
mode (the page script ran alone: no router, no sidebar of ours, another menu). The pages now live in
`dashboard/views/`; these tests hold the router to its promise without any private Streamlit API: the page
opens through `st.navigation` (our sidebar, our menu at the same addresses as before) with the state the
URL carries. Skipped without Chromium or playwright, like the other browser tests.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.app.test_browser import (  # noqa: F401 - seeded_db: the fixture
    CHROMIUM,
    assert_no_error_box,
    chromium_page,
    seeded_db,
    sync_api,
    tile_value,
    wait_for_run,
)
from tests.support.streamlit_server import StreamlitServer

# The menu's addresses before the pages moved from `pages/` to `views/`: bookmarks rely on them.
MENU = {"Improve": "/", "History": "/history", "Analytics": "/analytics", "Compare": "/compare",
        "Settings": "/settings"}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)"),
]


@pytest.fixture
def fresh_server(seeded_db: Path, tmp_path: Path) -> Iterator[StreamlitServer]:  # noqa: F811
    """A server that has not answered any page yet (no model configured: these pages need none)."""
    env = {"SQLITE_DB_PATH": str(seeded_db), "DSPY_PROGRAM_DIR": str(tmp_path / "programs")}
    with StreamlitServer(env, log_path=tmp_path / "streamlit.log") as server:
        yield server


def assert_opened_through_the_router(page: sync_api.Page) -> None:
    """Our sidebar (model and database) and our menu, each page at its usual address."""
    sidebar = page.locator('[data-testid="stSidebar"]')
    sync_api.expect(sidebar.get_by_text("DATABASE", exact=True)).to_be_visible()
    links = page.locator('[data-testid="stSidebarNav"] a')
    sync_api.expect(links).to_have_count(len(MENU))
    # A link's text is its Material icon's name, then its title
    menu = {links.nth(i).inner_text().split()[-1]: urlsplit(links.nth(i).get_attribute("href") or "").path or "/"
            for i in range(links.count())}
    assert menu == MENU, f"the menu is not the router's: {menu}"


def count(db_path: Path, first_day: date, last_day: date, backend: str) -> int:
    """Records of `backend` whose UTC day is in [first_day, last_day], counted with plain SQL."""
    with closing(sqlite3.connect(db_path)) as conn:
        return conn.execute(
            "SELECT count(*) FROM prompt_history WHERE substr(timestamp, 1, 10) BETWEEN ? AND ? AND backend = ?",
            (first_day.isoformat(), last_day.isoformat(), backend),
        ).fetchone()[0]


def test_a_bookmarked_analytics_view_opens_cold_with_its_range_and_backend(
    fresh_server: StreamlitServer, seeded_db: Path  # noqa: F811
) -> None:
    today = datetime.now(timezone.utc).date()
    first, last = today - timedelta(days=20), today - timedelta(days=5)
    query = f"range=custom&from={first}&to={last}&backend=few-shot"
    with chromium_page() as page:
        page.goto(f"{fresh_server.url}/analytics?{query}")
        wait_for_run(page, "Analytics")
        assert_opened_through_the_router(page)
        expect = sync_api.expect
        expect(page.get_by_role("radio", name="Custom", exact=True)).to_have_attribute("aria-checked", "true")
        expect(page.get_by_text(f"Custom range ({first} – {last}, UTC) · few-shot · times in UTC")).to_be_visible()
        expect(tile_value(page, "Improvements")).to_have_text(f"{count(seeded_db, first, last, 'few-shot'):,}")
        expect(page).to_have_url(re.compile(rf"/analytics\?{re.escape(query)}$"))  # the bookmark is kept
        assert_no_error_box(page, "Analytics")


def test_a_bookmarked_demo_history_opens_cold_on_the_demo_database(fresh_server: StreamlitServer) -> None:
    with chromium_page() as page:
        page.goto(f"{fresh_server.url}/history?demo=1")
        wait_for_run(page, "History")
        assert_opened_through_the_router(page)
        sync_api.expect(page.get_by_text("Demo mode", exact=False).first).to_be_visible()
        sync_api.expect(page.get_by_text("records 1–50 of 20,000, newest first", exact=False)).to_be_visible()
        sync_api.expect(page).to_have_url(re.compile(r"/history\?demo=1$"))
        assert_no_error_box(page, "History")


def test_a_bookmarked_settings_page_opens_cold(fresh_server: StreamlitServer, seeded_db: Path) -> None:  # noqa: F811
    with chromium_page() as page:
        page.goto(f"{fresh_server.url}/settings")
        wait_for_run(page, "Settings")
        assert_opened_through_the_router(page)
        with closing(sqlite3.connect(seeded_db)) as conn:
            stored = conn.execute("SELECT count(*) FROM prompt_history").fetchone()[0]
        sync_api.expect(tile_value(page, "Records")).to_have_text(f"{stored:,}")
        assert_no_error_box(page, "Settings")
