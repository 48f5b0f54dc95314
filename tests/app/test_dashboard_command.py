"""`prompt-improver dashboard` from a directory that is not the repository, in a real browser.

It must bind 127.0.0.1 only, apply the project's theme, show no exposure warning, and no request may leave
the machine while every page is used: Chromium records every request the pages make (scripts, fonts,
icons, the favicon) and each must go to the app's own server. Skipped without Chromium or playwright.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from prompt_improver.settings import load_settings
from prompt_improver.wiring import open_repository
from prompt_improver.demo import generate_demo_records
from tests.app.test_browser import CHROMIUM, assert_no_error_box, open_page, page, wait_for_run  # noqa: F401 - page: the Chromium page fixture
from tests.support.streamlit_server import StreamlitServer

SCRIPT = Path(sys.executable).with_name("prompt-improver")
PAGES = [("history", "History"), ("analytics", "Analytics"), ("compare", "Compare zero-shot and few-shot"),
         ("settings", "Settings"), ("", "Improve a prompt")]
SIDEBAR_BACKGROUND = "rgb(244, 245, 251)"  # the theme's secondaryBackgroundColor #F4F5FB (Streamlit's own: #F0F2F6)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)"),
]


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """A working directory with no `.streamlit/`, as a user's home or project folder would be."""
    folder = tmp_path / "somewhere-else"
    folder.mkdir()
    return folder


@pytest.fixture
def app(tmp_path: Path, elsewhere: Path) -> Iterator[StreamlitServer]:
    db = tmp_path / "history.db"
    open_repository(load_settings(sqlite_db_path=db)).save_many(generate_demo_records(200, days=30, seed=5))
    env = {"SQLITE_DB_PATH": str(db), "HOME": str(tmp_path)}  # no ~/.streamlit either
    with StreamlitServer(env, cwd=elsewhere, log_path=tmp_path / "streamlit.log",
                         command=lambda port: [str(SCRIPT), "dashboard", "--port", str(port)]) as server:
        yield server


def _non_loopback_address() -> str | None:
    try:
        addresses = subprocess.run(["hostname", "-I"], capture_output=True, text=True, check=False).stdout.split()
    except OSError:
        return None
    return next((address for address in addresses if "." in address and not address.startswith("127.")), None)


def test_the_dashboard_command_listens_on_loopback_only(app: StreamlitServer) -> None:
    address = _non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address to try")
    with pytest.raises(ConnectionRefusedError), socket.create_connection((address, app.port), timeout=5):
        pass


def test_no_request_leaves_the_machine_and_the_theme_applies_from_any_directory(app: StreamlitServer, page) -> None:  # noqa: F811
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(app.url)
    wait_for_run(page, "Improve a prompt")
    for path, heading in PAGES:
        open_page(page, path, heading)
        assert_no_error_box(page, heading)
        assert page.get_by_text("anyone who can reach this machine").count() == 0
    icons = page.locator('link[rel~="icon"]')
    favicons = [page.evaluate("href => new URL(href, document.baseURI).href", icons.nth(i).get_attribute("href"))
                for i in range(icons.count())]
    sidebar = page.locator('[data-testid="stSidebar"]').evaluate("e => getComputedStyle(e).backgroundColor")

    assert favicons and all(urlsplit(href).netloc == f"127.0.0.1:{app.port}" for href in favicons), favicons
    outside = sorted({url for url in requested
                      if urlsplit(url).scheme not in ("data", "blob") and urlsplit(url).netloc != f"127.0.0.1:{app.port}"})
    assert len(requested) > 20  # the recording saw the app load (scripts, styles, fonts)
    assert outside == [], f"requests left the machine: {outside}"
    assert sidebar == SIDEBAR_BACKGROUND
