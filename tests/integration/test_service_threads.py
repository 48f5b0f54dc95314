"""Eight sessions improving at once, each in its own `dspy.context`, against one SQLite database."""

from __future__ import annotations

import sqlite3
from contextlib import closing
import threading
from pathlib import Path

from dspy.utils.dummies import DummyLM

from pipeline.programs import load_program
from pipeline.service import improve
from store.sqlite.migrations import migrate
from store.record import BackendType
from store.sqlite.repository import SQLitePromptRepository
from tests.support.fake_openai import good_fields

THREADS = 8


def test_eight_threads_each_get_their_own_answer_and_every_record_is_saved(db_path: Path):
    migrate(db_path)
    repo = SQLitePromptRepository(db_path)
    program, version = load_program(BackendType.ZERO_SHOT)
    start = threading.Barrier(THREADS)
    outcomes: dict[int, object] = {}
    errors: list[BaseException] = []

    def session(n: int) -> None:
        idea = f"Write a training plan for new support agents, team {n}"
        fields = {**good_fields(idea), "role": f"Support training lead for team {n}"}
        lm = DummyLM([fields] * 3)
        try:
            start.wait()
            outcomes[n] = improve(
                idea, "", BackendType.ZERO_SHOT, program=program, program_version=version, lm=lm, repo=repo,
                model_version=f"dummy-{n}",
            )
        except BaseException as error:  # noqa: BLE001 - reported below with the thread's number
            errors.append(error)

    threads = [threading.Thread(target=session, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    repo.close()

    assert errors == []
    for n, outcome in outcomes.items():
        assert outcome.saved
        assert outcome.record.role == f"Support training lead for team {n}"
        assert outcome.record.model_version == f"dummy-{n}"
    with closing(sqlite3.connect(db_path)) as conn, conn:
        rows = conn.execute("SELECT role, model_version, original_idea FROM prompt_history").fetchall()
    assert sorted(rows) == sorted(
        (f"Support training lead for team {n}", f"dummy-{n}", f"Write a training plan for new support agents, team {n}")
        for n in range(THREADS)
    )
