"""A real local model for the end-to-end tier, started once per session (see `tests.support.local_model`).

Without the serve script (a user's clone) every test here is skipped, with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.local_model import LocalModelFailed, local_model, missing_reason, serve_script


@pytest.fixture(scope="session")
def local_model_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL (`http://127.0.0.1:PORT/v1`) of a running local model; stopped after the session."""
    script = serve_script()
    if reason := missing_reason(script):
        pytest.skip(reason)
    try:
        with local_model(script, tmp_path_factory.mktemp("local-model") / "server.log") as url:
            yield url
    except LocalModelFailed as error:
        pytest.fail(str(error))


@pytest.fixture
def real_model_env(local_model_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Settings for the local model, small enough to keep each call short; returns the database path."""
    db = tmp_path / "history.db"
    for name, value in {
        "LLM_MODEL": "openai/smollm2", "LLM_API_BASE": local_model_url, "LLM_API_KEY": "",
        "LLM_MAX_TOKENS": "200", "LLM_TIMEOUT_S": "150", "LLM_TOTAL_TIMEOUT_S": "160", "LLM_MAX_RETRIES": "0",
        "LLM_CONCURRENCY": "1", "DSPY_FEWSHOT_K": "1", "SQLITE_DB_PATH": str(db),
        "DSPY_PROGRAM_DIR": str(tmp_path / "programs"), "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }.items():
        monkeypatch.setenv(name, value)
    return db
