"""The app writes through sqlite3 while its analytics run in the worker process: both succeed.

DuckDB's sqlite scanner must never attach the file in the process that writes it (two SQLite copies in
one process do not see each other's locks). This test uses the app's own collaborators — the cached
repository the Improve page saves through and the cached analytics worker the pages query — from two
threads at once, then renders the Analytics page, which must count every record.
"""

from __future__ import annotations

import os
import threading
from datetime import timedelta
from pathlib import Path

from dashboard import composition
from store.timestamps import utc_now
from tests.app._support import open_app
from tests.support.builders import make_record

WRITES = 300


def test_the_app_keeps_writing_while_its_analytics_worker_answers(app_db: Path) -> None:
    at = open_app("views/analytics.py")  # builds the app's repository and starts its worker
    assert not at.exception
    repo = composition.services(composition.settings()).repository
    worker = composition.analytics_worker(str(app_db))
    assert worker.pid is not None and worker.pid != os.getpid()

    errors: list[BaseException] = []
    saved: list[int] = []
    done = threading.Event()

    def write() -> None:
        try:
            now = utc_now()
            for index in range(WRITES):
                saved.append(repo.save(make_record(timestamp=now - timedelta(seconds=index))).id)
        except BaseException as error:  # noqa: BLE001 — surfaced by the assertion below
            errors.append(error)
        finally:
            done.set()

    writer = threading.Thread(target=write)
    writer.start()
    answers = []
    while not done.is_set() or not answers:
        answers.append(worker.kpis(None, None)["count"])
        worker.history_page(None, None, limit=20, offset=0)
    writer.join()

    assert errors == []
    assert len(saved) == WRITES
    assert answers == sorted(answers)  # every answer saw a consistent, growing history
    assert worker.kpis(None, None)["count"] == WRITES  # a record saved is visible to the next query

    composition.data_version(str(app_db)).bump()  # what the Improve page does after its save
    at.run()
    assert not at.exception
    assert at.metric[0].value == str(WRITES)
