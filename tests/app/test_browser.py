"""The dashboard in a real browser: `streamlit run dashboard/app.py` on 127.0.0.1, driven by Chromium.

One test walks the app the way a user does, against a seeded SQLite history: it opens a bookmarked
Analytics view as the server's first request, improves a prompt on the Improve page against a fake
OpenAI-compatible server (and finds the row in SQLite), then opens History, Analytics, Compare and
Settings through the sidebar, checking what each page must show and that no error box appears.
Another waits on a model that answers only when the test lets it: the Improve page counts the attempts,
its Cancel button stops the wait, and the answer that arrives after the cancel is not recorded.
A full-page screenshot of every page goes to `artifacts/screenshots/` (git-ignored) for a human to look at.

Playwright drives Debian's Chromium (`/usr/bin/chromium`, installed by `.ci/run`); no browser is
downloaded. Without Chromium or the playwright package the test is skipped, saying which is missing.
Waits are Playwright's `expect` polls on what the user sees and on Streamlit's own run state, never sleeps."""

from __future__ import annotations

import json
import math
import re
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

from prompt_improver.demo import generate_demo_records
from store.sqlite.migrations import migrate
from store.sqlite.repository import SQLitePromptRepository
from tests.support.fake_openai import FakeOpenAIServer, Scripted, good_fields, reply, status
from tests.support.streamlit_server import ROOT, StreamlitServer

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is not installed (pip install -e '.[dev]')"
)

CHROMIUM = "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else shutil.which("chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
SEEDED = 400
IDEA = "Write a migration guide from REST to GraphQL for our mobile team"
TIMEOUT_MS = 60_000  # a cold page run on a loaded 2-core CI machine; the waits end as soon as the page is ready

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)"),
]


@pytest.fixture
def seeded_db(tmp_path: Path) -> Path:
    """A history of SEEDED demo records over the last 60 days, both backends, written through sqlite3."""
    path = tmp_path / "data" / "history.db"
    path.parent.mkdir()
    migrate(path)
    with SQLitePromptRepository(path) as repo:
        repo.save_many(generate_demo_records(SEEDED, days=60, seed=11))
    return path


@pytest.fixture
def model_server() -> Iterator[FakeOpenAIServer]:
    """The model provider: every call answers a good structured prompt for IDEA."""
    with FakeOpenAIServer(default=reply(good_fields(IDEA))) as server:
        yield server


@pytest.fixture
def app(seeded_db: Path, model_server: FakeOpenAIServer, tmp_path: Path) -> Iterator[StreamlitServer]:
    """The dashboard served by `streamlit run` against the seeded database and the fake model."""
    env = {
        "SQLITE_DB_PATH": str(seeded_db),
        "LLM_MODEL": "openai/fake-model",
        "LLM_API_BASE": model_server.base_url,
        "LLM_API_KEY": "test-key-1234",
        "LLM_CACHE": "false",
        "LLM_MAX_RETRIES": "0",
        "DSPY_FEWSHOT_ENABLED": "true",
        "DSPY_PROGRAM_DIR": str(tmp_path / "programs"),
    }
    with StreamlitServer(env, log_path=tmp_path / "streamlit.log") as server:
        yield server


@contextmanager
def chromium_page() -> Iterator[sync_api.Page]:
    """A Chromium page at a 1400 x 1000 viewport; the browser is closed afterwards."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.set_default_timeout(TIMEOUT_MS)
            sync_api.expect.set_options(timeout=TIMEOUT_MS)
            yield context.new_page()
        finally:
            browser.close()


@pytest.fixture
def page(app: StreamlitServer) -> Iterator[sync_api.Page]:
    """A Chromium page for `app` (started first)."""
    with chromium_page() as page:
        yield page


def wait_for_run(page: sync_api.Page, heading: str) -> None:
    """Wait until the page titled `heading` is shown and Streamlit has finished running its script."""
    sync_api.expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    sync_api.expect(page.locator('[data-testid="stApp"]')).to_have_attribute("data-test-script-state", "notRunning")
    sync_api.expect(page.locator('[data-testid="stApp"] [data-stale="true"]')).to_have_count(0)


def open_page(page: sync_api.Page, path: str, heading: str) -> None:
    """Follow the sidebar link to `path` (e.g. "history"; "" for Improve) and wait for the page to finish."""
    page.locator(f'[data-testid="stSidebarNav"] a[href$="/{path}"]').click()
    sync_api.expect(page).to_have_url(re.compile(rf"/{path}(\?.*)?$"))  # "" is the default page, at "/"
    wait_for_run(page, heading)


def assert_no_error_box(page: sync_api.Page, name: str) -> None:
    errors = page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]')
    texts = [errors.nth(i).inner_text() for i in range(errors.count())]
    assert not texts, f"the {name} page shows an error: {texts}"


def screenshot(page: sync_api.Page, name: str) -> None:
    """Save the whole page: Streamlit scrolls inside its main area, so the viewport grows to the content first."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    viewport = page.viewport_size
    height = page.locator('[data-testid="stMain"]').evaluate("main => main.scrollHeight")
    page.set_viewport_size({"width": viewport["width"], "height": max(viewport["height"], int(height))})
    try:
        sync_api.expect(page.locator('[data-testid="stApp"]')).to_have_attribute("data-test-script-state", "notRunning")
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True, animations="disabled")
    finally:
        page.set_viewport_size(viewport)


def stored_idea(db_path: Path, record_id: int) -> tuple[str, str, str] | None:
    with closing(sqlite3.connect(db_path)) as conn:
        return conn.execute(
            "SELECT original_idea, backend, improved_prompt FROM prompt_history WHERE id = ?", (record_id,)
        ).fetchone()


def count_between(db_path: Path, first_day: str, last_day: str) -> int:
    """Records whose UTC day is in [first_day, last_day] (ISO dates), counted with plain SQL."""
    with closing(sqlite3.connect(db_path)) as conn:
        return conn.execute(
            "SELECT count(*) FROM prompt_history WHERE substr(timestamp, 1, 10) BETWEEN ? AND ?",
            (first_day, last_day),
        ).fetchone()[0]


def shown_range(page: sync_api.Page, label: str) -> tuple[str, str]:
    """The dates of the Analytics caption, e.g. "Last 30 days (2026-10-28 – 2026-11-26, UTC)"."""
    caption = page.get_by_text(re.compile(rf"^{label} \(\d{{4}}-\d\d-\d\d – \d{{4}}-\d\d-\d\d, UTC\)"))
    sync_api.expect(caption).to_be_visible()
    first, last = re.search(r"(\d{4}-\d\d-\d\d) – (\d{4}-\d\d-\d\d)", caption.inner_text()).groups()
    return first, last


def tile_value(page: sync_api.Page, label: str) -> sync_api.Locator:
    return page.locator('[data-testid="stMetric"]').filter(has_text=label).locator('[data-testid="stMetricValue"]')


def test_every_page_works_in_a_real_browser_and_an_improvement_is_saved(
    page: sync_api.Page, app: StreamlitServer, seeded_db: Path, model_server: FakeOpenAIServer
) -> None:
    expect = sync_api.expect

    # A bookmarked Analytics view as the server's very first request still goes through the router.
    page.goto(f"{app.url}/analytics?range=90d")
    wait_for_run(page, "Analytics")
    expect(page.locator('[data-testid="stSidebarNav"]')).to_contain_text("Improve")
    expect(page.get_by_role("radio", name="90 days", exact=True)).to_have_attribute("aria-checked", "true")
    first, last = shown_range(page, "Last 90 days")
    expect(tile_value(page, "Improvements")).to_have_text(f"{count_between(seeded_db, first, last):,}")
    assert_no_error_box(page, "Analytics")

    open_page(page, "", "Improve a prompt")
    form = page.locator('[data-testid="stForm"]')
    expect(form.get_by_role("textbox", name="Idea")).to_be_visible()
    expect(form.get_by_role("radio", name="few-shot")).to_be_checked()
    expect(form).to_contain_text("openai/fake-model")
    assert_no_error_box(page, "Improve")

    form.get_by_role("textbox", name="Idea").fill(IDEA)
    form.get_by_role("button", name="Improve").click()
    saved = page.locator('[data-testid="stAlertContentSuccess"]').filter(has_text="Saved as #")
    expect(saved).to_be_visible()
    wait_for_run(page, "Improve a prompt")
    expect(page.locator('[data-testid="stMain"] [data-testid="stCode"]').first).to_contain_text(
        "Your task: write a migration guide from REST to GraphQL"
    )
    expect(page.get_by_text("Senior subject-matter expert and technical writer")).to_be_visible()
    expect(page.get_by_text("Keep the answer under 600 words")).to_be_visible()
    assert_no_error_box(page, "Improve")
    record_id = int(re.search(r"Saved as #(\d+)", saved.inner_text()).group(1))
    assert [IDEA in json.dumps(body) for body in model_server.requests] == [True], "one model call, with the idea"
    assert stored_idea(seeded_db, record_id) == (IDEA, "few-shot", good_fields(IDEA)["improved_prompt"]), (
        "the row in SQLite is not the improvement the page reported as saved"
    )
    screenshot(page, "improve")

    open_page(page, "history", "History")
    expect(page.get_by_text(f"{SEEDED + 1:,} matching record(s)")).to_be_visible()
    table = page.locator('[data-testid="stDataFrame"]')
    expect(table).to_be_visible()
    expect(table.locator("canvas").first).to_be_visible()  # the grid draws its cells on a canvas
    expect(page.get_by_role("button", name="Prepare CSV")).to_be_enabled()
    pages = math.ceil((SEEDED + 1) / 50)  # 50 rows per page by default
    expect(page.get_by_text(f"Page 1 of {pages} · records 1–50 of {SEEDED + 1:,}, newest first")).to_be_visible()
    assert_no_error_box(page, "History")
    screenshot(page, "history")

    open_page(page, "analytics", "Analytics")
    page.get_by_role("radio", name="30 days", exact=True).click()
    expect(page).to_have_url(re.compile(r"/analytics$"))  # the default view needs no parameters
    wait_for_run(page, "Analytics")
    first, last = shown_range(page, "Last 30 days")
    expect(tile_value(page, "Improvements")).to_have_text(f"{count_between(seeded_db, first, last):,}")
    for label in ("Avg confidence", "Avg quality"):
        expect(tile_value(page, label)).to_have_text(re.compile(r"^0\.\d{3}$"))
    for label in ("p50 latency", "p95 latency"):
        expect(tile_value(page, label)).to_have_text(re.compile(r"^[\d,.]+ (ms|s)$"))
    expect(page.locator('[data-testid="stMetric"]')).to_have_count(5)
    charts = page.locator('[data-testid="stVegaLiteChart"]')
    expect(charts.first).to_be_visible()
    assert charts.count() >= 6, f"the Analytics page shows {charts.count()} chart(s)"
    for index in range(charts.count()):  # Vega draws into a canvas or an svg once the chart has rendered
        expect(charts.nth(index).locator("canvas, svg").first).to_be_visible()
    expect(page.get_by_role("button", name="Summary report (CSV)")).to_be_visible()
    assert_no_error_box(page, "Analytics")
    screenshot(page, "analytics")
    page.get_by_role("radio", name="7 days", exact=True).click()
    expect(page).to_have_url(re.compile(r"/analytics\?range=7d$"))  # the view is in the URL, to bookmark
    wait_for_run(page, "Analytics")
    first, last = shown_range(page, "Last 7 days")
    expect(tile_value(page, "Improvements")).to_have_text(f"{count_between(seeded_db, first, last):,}")
    assert_no_error_box(page, "Analytics")

    open_page(page, "compare", "Compare zero-shot and few-shot")
    expect(page.get_by_role("tab", name="Experiments")).to_be_visible()
    expect(page.get_by_role("button", name="Start experiment")).to_be_visible()
    expect(page.get_by_text("No experiments yet.")).to_be_visible()
    assert_no_error_box(page, "Compare")
    screenshot(page, "compare")

    open_page(page, "settings", "Settings")
    for heading in ("Retention", "Database health", "Model"):
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    expect(tile_value(page, "Records")).to_have_text(f"{SEEDED + 1:,}")
    expect(tile_value(page, "Integrity (quick_check)")).to_have_text("ok")
    expect(page.get_by_role("button", name="Test connection")).to_be_enabled()
    expect(page.get_by_text("test-key-1234")).to_have_count(0)  # the key is masked
    expect(page.get_by_text("••••••••1234")).to_be_visible()
    assert_no_error_box(page, "Settings")
    screenshot(page, "settings")


def test_an_invalid_setting_shows_its_message_at_a_bookmarked_address_without_a_page_not_found_dialog(
    tmp_path: Path,
) -> None:
    env = {"SQLITE_DB_PATH": str(tmp_path / "history.db"), "SQLITE_RETENTION_DAYS": "0"}
    with StreamlitServer(env, log_path=tmp_path / "streamlit.log") as server, chromium_page() as page:
        for path in ("/analytics?range=90d", "/settings"):  # the first is the fresh server's first request
            page.goto(f"{server.url}{path}")
            wait_for_run(page, "Prompt Improver cannot start")
            sync_api.expect(page.get_by_text("SQLITE_RETENTION_DAYS")).to_be_visible()
            sync_api.expect(page.get_by_text("Page not found")).to_have_count(0)
            sync_api.expect(page.locator('[data-testid="stException"]')).to_have_count(0)


def test_the_history_tables_toolbar_has_no_download_of_its_own_and_leaves_ours_clickable(
    page: sync_api.Page, app: StreamlitServer
) -> None:
    expect = sync_api.expect
    page.goto(f"{app.url}/history")
    wait_for_run(page, "History")
    table = page.locator('[data-testid="stDataFrame"]')
    expect(table.locator("canvas").first).to_be_visible()
    table.hover()  # the grid's toolbar appears on hover, above the table's top-right corner
    toolbar = page.locator('[data-testid="stElementToolbar"]')
    expect(toolbar.get_by_role("button").first).to_be_visible()
    labels = [toolbar.get_by_role("button").nth(i).get_attribute("aria-label") or "" for i in
              range(toolbar.get_by_role("button").count())]
    assert labels and not [label for label in labels if "download" in label.lower()], (
        f"the table's own toolbar still offers a download (no formula neutralisation): {labels}"
    )
    prepare = page.get_by_role("button", name="Prepare CSV")
    prepare.click(trial=True)  # actionable: visible, enabled, and not covered by the toolbar
    screenshot(page, "history-toolbar")
    prepare.click()
    expect(page.get_by_text("CSV ready:", exact=False)).to_be_visible()  # the progress bar, complete
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    assert download.value.suggested_filename == "prompt-history.csv"
    lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("id,") and len(lines) > 1  # the header and the records


def test_demo_mode_survives_a_reload_and_a_bookmark_through_the_url(page: sync_api.Page, app: StreamlitServer) -> None:
    expect = sync_api.expect
    banner = page.get_by_text("Demo mode", exact=False)
    page.goto(f"{app.url}/analytics?range=7d&demo=1")  # a bookmark of a demo view, in a new session
    wait_for_run(page, "Analytics")
    expect(banner.first).to_be_visible()
    expect(page.get_by_role("radio", name="7 days", exact=True)).to_have_attribute("aria-checked", "true")
    open_page(page, "history", "History")
    expect(page).to_have_url(re.compile(r"/history\?demo=1$"))  # the page switch keeps it in the URL
    page.reload()
    wait_for_run(page, "History")
    expect(banner.first).to_be_visible()
    expect(page.get_by_text("records 1–50 of 20,000, newest first", exact=False)).to_be_visible()
    page.get_by_role("button", name="Back to my history").click()
    wait_for_run(page, "History")
    expect(banner).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/history$"))
    page.reload()  # and the way back sticks
    wait_for_run(page, "History")
    expect(banner).to_have_count(0)


class Gates:
    """A responder that holds the n-th model call until the test opens gate n, then answers `answers[n]`.

    `arrived[n]` is set when call n reaches the server; calls beyond `answers` fall through to the default.
    A gate left closed opens by itself after GATE_TIMEOUT_S, so a failing test cannot pin a handler thread.
    """

    GATE_TIMEOUT_S = 60.0

    def __init__(self, *answers: Scripted) -> None:
        self.answers = answers
        self.arrived = [threading.Event() for _ in answers]
        self._gates = [threading.Event() for _ in answers]
        self._calls = 0
        self._lock = threading.Lock()

    def __call__(self, body: dict) -> Scripted | None:
        with self._lock:
            index, self._calls = self._calls, self._calls + 1
        if index >= len(self.answers):
            return None
        self.arrived[index].set()
        self._gates[index].wait(self.GATE_TIMEOUT_S)
        return self.answers[index]

    def open(self, index: int) -> None:
        self._gates[index].set()

    def open_all(self) -> None:
        for gate in self._gates:
            gate.set()


def test_the_improve_page_counts_attempts_and_cancel_stops_the_wait_and_records_nothing(tmp_path: Path) -> None:
    expect = sync_api.expect
    later_idea = "Draft a friendly reminder email for customers with an unpaid invoice"
    db_path = tmp_path / "history.db"
    migrate(db_path)
    # Attempt 1 fails with a 503 (retryable); attempt 2 answers a good prompt, but only after the user cancelled.
    gates = Gates(status(503, "the model is loading"), reply(good_fields(IDEA)))
    with FakeOpenAIServer(responder=gates) as model_server:
        env = {
            "SQLITE_DB_PATH": str(db_path),
            "LLM_MODEL": "openai/fake-model",
            "LLM_API_BASE": model_server.base_url,
            "LLM_CACHE": "false",
            "LLM_TIMEOUT_S": "60",  # the held call must still be in flight when its answer comes
            "LLM_MAX_RETRIES": "2",
            "DSPY_PROGRAM_DIR": str(tmp_path / "programs"),
        }
        try:
            with StreamlitServer(env, log_path=tmp_path / "streamlit.log") as app, chromium_page() as page:
                page.goto(app.url)
                wait_for_run(page, "Improve a prompt")
                form = page.locator('[data-testid="stForm"]')
                form.get_by_role("textbox", name="Idea").fill(IDEA)
                form.get_by_role("button", name="Improve").click()

                waiting = page.locator('[data-testid="stAlertContentInfo"]').filter(has_text="Waiting for openai/fake-model")
                expect(waiting).to_contain_text("attempt 1 of 3")
                assert gates.arrived[0].wait(TIMEOUT_MS / 1000), "attempt 1 never reached the model server"
                gates.open(0)  # the 503: the page moves on to the next attempt
                expect(waiting).to_contain_text("attempt 2 of 3")
                assert gates.arrived[1].wait(TIMEOUT_MS / 1000), "attempt 2 never reached the model server"

                cancel = page.locator('[data-testid="stMain"]').get_by_role("button", name="Cancel")
                cancel.click()
                expect(page.get_by_text("The last improvement was cancelled; nothing was recorded.")).to_be_visible()
                wait_for_run(page, "Improve a prompt")
                expect(waiting).to_have_count(0)
                expect(cancel).to_have_count(0)
                assert_no_error_box(page, "Improve")

                # The answer to the cancelled call arrives now; then the user improves another idea, which is
                # saved. By the time it is, the cancelled call's answer (received first) has been dropped.
                gates.open(1)
                form.get_by_role("textbox", name="Idea").fill(later_idea)
                form.get_by_role("button", name="Improve").click()
                expect(page.locator('[data-testid="stAlertContentSuccess"]').filter(has_text="Saved as #")).to_be_visible()
                wait_for_run(page, "Improve a prompt")
                expect(page.get_by_text("The last improvement was cancelled")).to_have_count(0)
                expect(cancel).to_have_count(0)  # nothing left to cancel once the answer is in
        finally:
            gates.open_all()  # before the server stops: it joins its handler threads
    with closing(sqlite3.connect(db_path)) as conn:
        stored = conn.execute("SELECT original_idea FROM prompt_history").fetchall()
    assert stored == [(later_idea,)], "the cancelled improvement was recorded (or the later one was not)"
    sent = [later_idea if later_idea in json.dumps(body) else IDEA if IDEA in json.dumps(body) else "?"
            for body in model_server.requests]
    assert sent == [IDEA, IDEA, later_idea], "the cancelled improvement made another attempt after the cancel"
