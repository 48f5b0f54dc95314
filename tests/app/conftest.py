"""Fixtures for the dashboard's AppTests: caches cleared around each test, settings from the environment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st


@pytest.fixture(autouse=True)
def _clear_streamlit_caches() -> Iterator[None]:
    # st.cache_data and st.cache_resource are process-wide and survive across AppTest instances; clearing
    # the resource cache also releases (closes) the analytics worker processes a test started.
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def app_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The database the app under test uses (SQLITE_DB_PATH), not created yet."""
    path = tmp_path / "data" / "prompt_history.db"
    monkeypatch.setenv("SQLITE_DB_PATH", str(path))
    return path
