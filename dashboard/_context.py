"""The per-session view of the composition root: which database this session uses and whether it opened.

Demo mode is per session (`st.session_state`): one user exploring the demo database never moves another
session off their own history. It is also kept in the URL (`?demo=1`), so a reload or a bookmark of a demo
view opens the demo again instead of an empty history without the banner. A database that cannot be
opened, or history turned off (SQLITE_ENABLED=false), is not an exception here but a message every page
can show, so the rest of the app (the Improve page, the model settings) stays usable.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from dashboard import composition
from prompt_improver.services import Services
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
    services: Services  # the active database's collaborators
    problem: str | None  # a start-up step (the demo data) that failed
    startup: composition.StartupReport | None

    @property
    def repo(self) -> Any | None:
        """The active database's repository, or None (see `repo_error`)."""
        return None if self.problem else self.services.repository

    @property
    def repo_error(self) -> str | None:
        """Why there is no repository: history is off, or the database cannot be opened."""
        return self.problem or self.services.unavailable

    @property
    def history_off(self) -> bool:
        """Whether history is turned off (SQLITE_ENABLED=false): improvements are shown, never stored."""
        return self.services.history_off

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


def own_services(user: Settings) -> Services:
    """The user's own collaborators (started up), whatever database the session shows.

    Improvements are real work: made in demo mode they still go to the user's history, never the demo file.
    """
    built = composition.services(user)
    composition.startup(built)
    return built


def app_context() -> AppContext:
    """The session's database and its repository.

    Raises:
        SettingsError: a setting is invalid (app.py shows it as the error page).
    """
    user = composition.settings()
    demo = in_demo_mode()
    path = composition.demo_path(user.sqlite_db_path) if demo else Path(user.sqlite_db_path)
    active = composition.settings_for(user, path)
    built = composition.services(active)
    report = problem = None
    try:
        if demo and built.repository is not None:
            composition.demo_database(str(path), built.repository)
        report = composition.startup(built)
    except RepositoryError as error:
        problem = str(error)
    return AppContext(active, user, path, demo, built, problem, report)
