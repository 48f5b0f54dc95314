"""The Improve page, driven through AppTest against the fake OpenAI-compatible server."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from dashboard._ui import plain_md
from tests.app._support import open_app, texts
from tests.support.fake_openai import FakeOpenAIServer, good_fields, reply, status

IDEA = "Write a launch announcement for our new public API"


@pytest.fixture
def model_env(monkeypatch: pytest.MonkeyPatch):
    def configure(server: FakeOpenAIServer) -> None:
        monkeypatch.setenv("LLM_MODEL", "openai/fake-model")
        monkeypatch.setenv("LLM_API_BASE", server.base_url)
        monkeypatch.setenv("LLM_API_KEY", "test-key")
        monkeypatch.setenv("LLM_MAX_RETRIES", "0")
        monkeypatch.setenv("LLM_TIMEOUT_S", "20")

    return configure


def _submit(at, idea: str, backend: str = "zero-shot"):
    at.text_area(key="improve_idea").input(idea)
    at.text_area(key="improve_context").input("Audience: backend developers")
    at.radio(key="improve_backend").set_value(backend)
    at.button[0].click()  # the form's submit button
    return at.run()


def test_without_a_model_the_page_explains_how_to_configure_one(app_db: Path) -> None:
    at = open_app()
    assert not at.exception
    page = texts(at)
    assert "No language model is configured" in page
    assert not at.text_area  # no form that would fail
    assert any("LLM_API_BASE=http://127.0.0.1:11434/v1" in code.value for code in at.code)


def test_an_improvement_is_shown_and_saved_with_its_id(app_db: Path, model_env) -> None:
    with FakeOpenAIServer(default=reply(good_fields(IDEA))) as server:
        model_env(server)
        at = open_app("views/analytics.py")  # caches the empty analytics first
        at.switch_page("views/improve.py").run()
        assert at.radio(key="improve_backend").value == "few-shot"  # DSPY_FEWSHOT_ENABLED defaults to true
        at = _submit(at, IDEA)
    assert not at.exception
    with closing(sqlite3.connect(app_db)) as conn, conn:
        rows = conn.execute("SELECT id, backend, original_idea, model_version FROM prompt_history").fetchall()
    assert len(rows) == 1
    record_id, backend, idea, model = rows[0]
    assert (backend, idea, model) == ("zero-shot", IDEA, "openai/fake-model")
    assert f"Saved as #{record_id}" in texts(at)
    assert any("Your task: write a launch announcement" in code.value for code in at.code)
    assert [m.label for m in at.metric][:4] == ["Confidence", "Quality", "Latency", "Backend"]
    assert at.metric[0].value == "0.86"
    at.switch_page("views/analytics.py").run()  # this app's write shows at once, not after the cache's TTL
    assert at.metric[0].label == "Improvements" and at.metric[0].value == "1"


def test_a_failing_model_shows_the_providers_message_without_an_exception(app_db: Path, model_env) -> None:
    with FakeOpenAIServer(default=status(500, "the fake provider is down")) as server:
        model_env(server)
        at = _submit(open_app(), IDEA)
    assert not at.exception
    assert any("the fake provider is down" in error.value for error in at.error)
    with closing(sqlite3.connect(app_db)) as conn, conn:
        assert conn.execute("SELECT count(*) FROM prompt_history").fetchone()[0] == 0


def test_an_invalid_idea_is_refused_before_any_model_call(app_db: Path, model_env) -> None:
    with FakeOpenAIServer() as server:
        model_env(server)
        at = _submit(open_app(), "hi")
        assert server.requests == []
    assert not at.exception
    assert any("at least 5 non-blank characters" in error.value for error in at.error)


def test_with_an_unopenable_database_the_improvement_is_kept_in_the_outbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_env
) -> None:
    not_a_db = tmp_path / "history.db"
    not_a_db.write_text("this is not a database\n" * 100)
    monkeypatch.setenv("SQLITE_DB_PATH", str(not_a_db))
    with FakeOpenAIServer(default=reply(good_fields(IDEA))) as server:
        model_env(server)
        at = _submit(open_app(), IDEA)
    assert not at.exception
    assert "Kept in the outbox" in texts(at)
    assert any("Your task" in code.value for code in at.code)  # the user still gets the prompt
    outbox = tmp_path / "history.db.outbox.jsonl"
    assert IDEA in outbox.read_text()
    at.switch_page("views/settings.py").run()  # the health view counts what waits for replay
    assert not at.exception
    assert {metric.label: metric.value for metric in at.metric}["Outbox"] == "1 waiting"


def test_after_a_failure_the_previous_result_is_listed_as_earlier_not_shown_as_the_answer(
    app_db: Path, model_env
) -> None:
    with FakeOpenAIServer(default=reply(good_fields(IDEA))) as server:
        model_env(server)
        at = _submit(open_app(), IDEA)
        assert "Improved prompt" in texts(at) and f"For: {plain_md(IDEA)}" in texts(at)
        server.enqueue(status(500, "the fake provider is down"))
        at = _submit(at, "Summarize the quarterly sales report for the board")
    assert not at.exception
    assert any("the fake provider is down" in error.value for error in at.error)
    page = texts(at)
    assert "Improved prompt" not in page  # no result card for the idea that failed
    assert "Earlier in this session" in page
    assert any(expander.label.startswith(plain_md(IDEA)) for expander in at.expander)


def test_the_outbox_notice_says_where_the_record_went_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_env
) -> None:
    monkeypatch.setenv("SQLITE_DB_PATH", str(tmp_path))  # a directory: the database cannot be opened
    with FakeOpenAIServer(default=reply(good_fields(IDEA))) as server:
        model_env(server)
        at = _submit(open_app(), IDEA)
    assert not at.exception
    notice = next(warning.value for warning in at.warning if "Kept in the outbox" in warning.value)
    assert "is a directory" in notice
    assert notice.count("will be saved when the database works") == 1, notice
    assert "It will be stored when the database is back" not in notice  # the same promise, not twice


def test_an_idea_with_dollar_signs_is_shown_as_typed_not_as_latex(app_db: Path, model_env) -> None:
    idea = "Compare plans that cost $5 and $10 a month for *busy* teams"
    with FakeOpenAIServer(default=reply(good_fields(idea))) as server:
        model_env(server)
        at = _submit(open_app(), idea)
    assert not at.exception
    caption = next(c.value for c in at.caption if c.value.startswith("For: "))
    assert caption == r"For: Compare plans that cost \$5 and \$10 a month for \*busy\* teams"


def test_the_models_text_is_shown_as_written_not_as_latex_or_markdown(app_db: Path, model_env) -> None:
    fields = good_fields(IDEA) | {"directive": "Plan a budget between $500 and $1,000", "guardrails": ["Use *no* jargon"]}
    with FakeOpenAIServer(default=reply(fields)) as server:
        model_env(server)
        at = _submit(open_app(), IDEA)
    assert not at.exception
    shown = [m.value for m in at.markdown]
    assert r"**Directive**  " "\n" r"Plan a budget between \$500 and \$1,000" in shown
    assert r"- Use \*no\* jargon" in shown


def test_an_improvement_neither_stored_nor_kept_says_so_and_offers_the_only_copy(tmp_path, model_env, monkeypatch):
    # Both stores fail for real: the database path is a directory, the outbox's folder is a regular file.
    monkeypatch.setenv("SQLITE_DB_PATH", str(tmp_path))
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("OUTBOX_PATH", str(tmp_path / "a-file" / "outbox.jsonl"))
    with FakeOpenAIServer(default=reply(good_fields(IDEA))) as server:
        model_env(server)
        at = _submit(open_app(), IDEA)
    assert not at.exception
    page = texts(at)
    assert "Kept in the outbox" not in page
    (error,) = [e.value for e in at.error if "Not saved anywhere" in e.value]
    assert "the outbox failed too" in error and "it is lost when this session ends" in error
    (button,) = [b for b in at.get("download_button") if "Download this improvement" in b.proto.label]
    assert any("Your task: write a launch announcement" in code.value for code in at.code)


def test_a_model_chosen_from_a_local_server_is_used_for_the_session_and_its_settings_shown(
    app_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LLM_MODEL", raising=False)
    with FakeOpenAIServer(default=reply(good_fields(IDEA)), model="qwen2.5") as server:
        at = open_app()
        assert "No language model is configured" in texts(at)
        # what the "Use qwen2.5 from Ollama" button stores
        at.session_state["improve_chosen_model"] = {"LLM_MODEL": "openai/qwen2.5", "LLM_API_BASE": server.base_url}
        at.switch_page("views/improve.py").run()
        assert any(f"LLM_MODEL=openai/qwen2.5\nLLM_API_BASE={server.base_url}" == code.value for code in at.code)
        at = _submit(at, IDEA)
        assert server.requests and server.requests[0]["model"] == "qwen2.5"
    assert not at.exception
    with closing(sqlite3.connect(app_db)) as conn:
        assert conn.execute("SELECT model_version FROM prompt_history").fetchall() == [("openai/qwen2.5",)]


def test_a_model_that_times_out_is_reported_with_the_attempts_and_nothing_is_recorded(
    app_db: Path, model_env, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.fake_openai import hang

    with FakeOpenAIServer(default=hang(5)) as server:
        model_env(server)
        monkeypatch.setenv("LLM_TIMEOUT_S", "0.5")
        monkeypatch.setenv("LLM_MAX_RETRIES", "1")
        at = _submit(open_app(), IDEA)
    assert not at.exception
    assert any("LLM_TIMEOUT_S=0.5 s" in error.value and "after 2 attempts" in error.value for error in at.error)
    with closing(sqlite3.connect(app_db)) as conn:
        assert conn.execute("SELECT count(*) FROM prompt_history").fetchone()[0] == 0
