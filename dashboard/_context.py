"""The per-session view of the composition root: which database this session uses and whether it opened.

Demo mode is per session (`st.session_state`): one user exploring the demo database never moves another
session off their own history. It is also kept in the URL (`?demo=1`), so a reload or a bookmark of a demo
view opens the demo again instead of an empty history without the banner. A database that cannot be opened is not an exception here but a message
every page can show, so the rest of the app (the Improve page, the model settings) stays usable.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from dashboard import composition
from prompt_improver.settings import Settings
from store.errors import RepositoryError

DEMO_KEY = "demo_mode"
DEMO_PARAM = "demo"  # the URL's query parameter: `?demo=1`


@dataclass(frozen=True)
class AppContext:
    """What a page needs to know about this session's database."""

    settings: Settings  # pointed at the active database
    user_settings: Settings  # the user's own configuration
    db_path: Path
    demo: bool
    repo: Any | None
    repo_error: str | None
    startup: composition.StartupReport | None

    @property
    def version(self) -> int:
        """The active database's change counter (part of every cached query's key)."""
        return composition.data_version(str(self.db_path)).value

    def changed(self) -> None:
        """Record that this app wrote to the active database, so cached query results expire."""
        composition.data_version(str(self.db_path)).bump()


def in_demo_mode() -> bool:
    """Whether this session looks at the demo database; keeps `?demo=1` in the URL while it does."""
    if st.query_params.get(DEMO_PARAM) == "1":  # a reload or a bookmark of a demo view
        st.session_state[DEMO_KEY] = True
    demo = bool(st.session_state.get(DEMO_KEY, False))
    if demo and st.query_params.get(DEMO_PARAM) != "1":  # a page switch starts with an empty query string
        st.query_params[DEMO_PARAM] = "1"
    return demo


def with_demo_param(params: dict[str, str]) -> dict[str, str]:
    """A page's own query parameters plus `demo=1` in demo mode (for pages that set the whole query string)."""
    return {**params, DEMO_PARAM: "1"} if st.session_state.get(DEMO_KEY, False) else dict(params)


def enter_demo_mode() -> None:
    """Switch this session to the demo database (generated on first use)."""
    st.session_state[DEMO_KEY] = True
    st.query_params[DEMO_PARAM] = "1"


def leave_demo_mode() -> None:
    """Switch this session back to the user's own history."""
    st.session_state[DEMO_KEY] = False
    st.query_params.pop(DEMO_PARAM, None)


def own_store(user: Settings) -> tuple[Any | None, str | None]:
    """The user's own repository (or why it cannot be opened), whatever database the session shows.

    Improvements are real work: made in demo mode they still go to the user's history, never the demo file.
    """
    try:
        repo = composition.repository(
            str(user.sqlite_db_path), user.sqlite_wal_mode, user.sqlite_busy_timeout_ms, user
        )
        composition.startup(str(user.sqlite_db_path), repo, user)
        return repo, None
    except RepositoryError as problem:
        return None, str(problem)


def app_context() -> AppContext:
    """The session's database and its repository.

    Raises:
        SettingsError: a setting is invalid (app.py shows it as the error page).
    """
    user = composition.settings()
    demo = in_demo_mode()
    path = composition.demo_path(user.sqlite_db_path) if demo else Path(user.sqlite_db_path)
    active = composition.settings_for(user, path)
    repo = report = None
    error = None
    try:
        repo = composition.repository(str(path), active.sqlite_wal_mode, active.sqlite_busy_timeout_ms, active)
        if demo:
            composition.demo_database(str(path), active)
        report = composition.startup(str(path), repo, active)
    except RepositoryError as problem:
        error = str(problem)
        repo = None
    return AppContext(active, user, path, demo, repo, error, report)
