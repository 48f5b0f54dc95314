"""Prompt Improver's dashboard: `prompt-improver dashboard`, or `streamlit run dashboard/app.py`.

The router (`st.navigation` over the page scripts in `views/`) and the composition root: `dashboard/composition.py` caches
`prompt_improver.services.build_services` once per configuration (the repository migrated once per process,
or none with SQLITE_ENABLED=false) and runs the outbox replay and the opt-in auto-prune once; each page asks
`dashboard._context.app_context()` for this session's view.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import streamlit as st

# `streamlit run dashboard/app.py` puts dashboard/ on sys.path, not the repository root; without an
# editable install the `dashboard` package would not import.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dashboard import _context, _ui, composition  # noqa: E402
from dashboard.exposure import exposure_warning  # noqa: E402
from prompt_improver.settings import SettingsError  # noqa: E402

# Not `pages/`: Streamlit treats a folder of that name beside the entrypoint as legacy auto-discovered pages,
# and a bookmarked address opened on a fresh server would then run the page script alone, without the router.
VIEWS = Path(__file__).resolve().parent / "views"
FAVICON = Path(__file__).resolve().parent / "static" / "favicon.png"
# (script in views/, title, icon, address): the addresses are spelled out, not inferred from the file names,
# because bookmarks rely on them. The first page is the default one, served at "/".
PAGES = (
    ("improve.py", "Improve", ":material/auto_fix_high:", "improve"),
    ("history.py", "History", ":material/history:", "history"),
    ("analytics.py", "Analytics", ":material/monitoring:", "analytics"),
    ("compare.py", "Compare", ":material/compare_arrows:", "compare"),
    ("settings.py", "Settings", ":material/settings:", "settings"),
)
PAGE_PATHS = [path for *_, path in PAGES[1:]]  # the pages' addresses besides the default one

def _settings_error_page() -> None:
    st.title("Prompt Improver cannot start")
    st.error(f"**A setting is invalid.** {st.session_state.get('_settings_error', '')}", icon=":material/error:")
    st.markdown(
        "Fix the value in your environment or in the `.env` file in the directory you started the app from "
        "(see `.env.example` for every setting and its default), then reload this page."
    )


def main() -> None:
    # Every table's own toolbar download (st.dataframe's "Download as CSV") writes text as it is, formulas
    # included, and on History it covered our *Download CSV*: the pages' download buttons, which neutralise
    # formulas, are the only export (Streamlit's documented switch; it also turns off copying table cells).
    # .streamlit/config.toml sets it before the first run; this covers a start from another directory
    # (where Streamlit applies it from the next run on).
    st.set_option("client.disableDataExport", True)
    st.set_page_config(
        page_title="Prompt Improver",
        # A file served by this server: a Material icon or an emoji here is fetched from a CDN by the browser.
        page_icon=FAVICON,
        layout="wide",
        initial_sidebar_state="expanded",
    )
    exposed = exposure_warning(st.get_option("server.address"), os.environ)
    if exposed:
        st.warning(exposed, icon=":material/public:")
    try:
        context = _context.app_context()
    except SettingsError as error:
        st.session_state["_settings_error"] = str(error)
        # The same error page at every page's address: a bookmarked /analytics must not add Streamlit's
        # "Page not found" dialog on top of the message.
        error_pages = [st.Page(_settings_error_page, title="Configuration problem", icon=":material/error:",
                               default=True)]
        error_pages += [st.Page(_settings_error_page, title="Configuration problem", url_path=path)
                        for path in PAGE_PATHS]
        st.navigation(error_pages, position="hidden").run()
        return

    page = st.navigation([
        st.Page(VIEWS / script, title=title, icon=icon, url_path=path, default=index == 0)
        for index, (script, title, icon, path) in enumerate(PAGES)
    ])

    _ui.sidebar(context)
    _ui.demo_banner(context)
    if context.repo is not None:
        # Start the analytics worker now (it returns at once): it loads its read model while the user is
        # still on the Improve page, so the first visit to History or Analytics does not wait for it.
        composition.analytics_worker(str(context.db_path)).start()
    page.run()


# Streamlit runs this file as `__main__`; the analytics worker is a *spawned* process, which re-imports the
# parent's `__main__` under the name `__mp_main__`. The guard keeps that child from running the app (and
# from opening the database through sqlite3 in the process where DuckDB attaches it).
if __name__ == "__main__":
    main()
