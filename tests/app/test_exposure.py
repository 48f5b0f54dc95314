"""The warning on every page when the dashboard listens beyond this machine without the user choosing it,
and what decides it (`dashboard/exposure.py`). The address is set through Streamlit's own config API, as
`--server.address` or a `.streamlit/config.toml` would set it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit import config as streamlit_config

from dashboard.exposure import CHOSEN_HOST_ENV, exposure_warning, is_loopback
from tests.app._support import PAGES, open_app

WARNING = "anyone who can reach this machine can read and change your prompt history"


@pytest.fixture
def served_on() -> Iterator[callable]:
    before = streamlit_config.get_option("server.address")

    def _set(address: str | None) -> None:
        streamlit_config.set_option("server.address", address)

    yield _set
    streamlit_config.set_option("server.address", before)


def _warnings_per_page(app_db: Path) -> dict[str, list[str]]:
    at = open_app()
    seen = {}
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, f"{page}: {at.exception}"
        seen[page] = [str(warning.value) for warning in at.warning if WARNING in str(warning.value)]
    return seen


@pytest.mark.parametrize("address", ["0.0.0.0", None, "192.0.2.7"])
def test_every_page_warns_when_served_beyond_this_machine_unasked(app_db, served_on, address):
    served_on(address)
    seen = _warnings_per_page(app_db)
    assert all(len(found) == 1 for found in seen.values()), seen
    where = "address 192.0.2.7" if address == "192.0.2.7" else "every network interface"
    assert seen["views/history.py"][0].startswith(f"This dashboard listens on {where}: ")
    assert "`prompt-improver dashboard` (127.0.0.1 only)" in seen["views/history.py"][0]


@pytest.mark.parametrize("address", ["127.0.0.1", "localhost", "::1"])
def test_no_page_warns_on_a_loopback_address(app_db, served_on, address):
    served_on(address)
    assert all(found == [] for found in _warnings_per_page(app_db).values())


def test_no_page_warns_when_the_user_chose_the_address_with_dashboard_host(app_db, served_on, monkeypatch):
    served_on("0.0.0.0")
    monkeypatch.setenv(CHOSEN_HOST_ENV, "0.0.0.0")  # what `prompt-improver dashboard --host 0.0.0.0` sets
    assert all(found == [] for found in _warnings_per_page(app_db).values())


def test_a_choice_of_another_address_does_not_silence_the_warning():
    assert exposure_warning("0.0.0.0", {CHOSEN_HOST_ENV: "192.0.2.7"}) is not None
    assert exposure_warning("", {}) is not None  # Streamlit's default: every interface
    assert [is_loopback(a) for a in ("127.0.0.2", "[::1]", "LOCALHOST", "example.org", "0.0.0.0")] == [
        True, True, True, False, False,
    ]
