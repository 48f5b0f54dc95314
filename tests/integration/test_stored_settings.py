"""The shared settings in the database's app_settings table, parsed by one pydantic model."""

from __future__ import annotations

import pytest

from prompt_improver.settings import load_settings
from prompt_improver.stored_settings import InvalidStoredSetting, StoredSettings, store_setting
from prompt_improver.wiring import open_repository
from store.errors import RepositoryError


@pytest.fixture
def repo(db_path):
    with open_repository(load_settings(sqlite_db_path=db_path)) as repo:
        yield repo


def test_absent_values_take_the_environments_defaults(repo, monkeypatch) -> None:
    monkeypatch.setenv("SQLITE_RETENTION_DAYS", "45")
    monkeypatch.setenv("SQLITE_AUTO_CLEANUP", "true")
    assert StoredSettings.load(repo, load_settings()) == StoredSettings(retention_days=45, auto_cleanup=True)


def test_stored_values_win_and_are_parsed(repo) -> None:
    repo.set_setting("retention_days", " 90 ")  # written by hand with sqlite3, say
    repo.set_setting("auto_cleanup", "false")
    assert StoredSettings.load(repo, load_settings(sqlite_auto_cleanup=True)) == StoredSettings(
        retention_days=90, auto_cleanup=False)


@pytest.mark.parametrize(("key", "text", "problem"), [
    ("retention_days", "ninety", "'retention_days' is 'ninety': input should be a valid integer"),
    ("retention_days", "0", "'retention_days' is '0': input should be greater than or equal to 1"),
    ("retention_days", "40000", "'retention_days' is '40000': input should be less than or equal to 36500"),
    ("auto_cleanup", "maybe", "'auto_cleanup' is 'maybe': input should be a valid boolean"),
])
def test_an_invalid_stored_value_is_refused_naming_the_key_the_text_and_the_fix(repo, key, text, problem) -> None:
    repo.set_setting(key, text)
    with pytest.raises(InvalidStoredSetting) as raised:
        StoredSettings.load(repo, load_settings())
    message = str(raised.value)
    assert problem in message and "set it again on the dashboard's Settings page" in message
    assert "\n" not in message
    assert isinstance(raised.value, RepositoryError)  # the pages and the CLI report it as a store problem


def test_store_setting_writes_the_text_form_after_validating_it(repo) -> None:
    store_setting(repo, "retention_days", 60)
    store_setting(repo, "auto_cleanup", True)
    assert (repo.get_setting("retention_days"), repo.get_setting("auto_cleanup")) == ("60", "true")
    assert StoredSettings.load(repo, load_settings()) == StoredSettings(retention_days=60, auto_cleanup=True)


@pytest.mark.parametrize(("key", "value", "problem"), [
    ("retention_days", 0, "'retention_days' cannot be 0"),
    ("auto_cleanup", "perhaps", "'auto_cleanup' cannot be 'perhaps'"),
    ("colour", "blue", "'colour' is not a stored setting"),
])
def test_store_setting_refuses_an_invalid_value_and_stores_nothing(repo, key, value, problem) -> None:
    with pytest.raises(InvalidStoredSetting, match=problem):
        store_setting(repo, key, value)
    assert repo.get_setting(key) is None
