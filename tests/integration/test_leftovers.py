"""What a killed writer leaves: a backup, a CSV report, an analytics snapshot or the outbox's files.

The writers run as real subprocesses (the installed console script) and are killed with SIGKILL; stale
leftovers are files named by a process that no longer exists, and live ones belong to a process that does.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest
from filelock import FileLock, Timeout

from pipeline.outbox import Outbox
from pipeline.service import replay_outbox_at_start
from tests.support.analytics_db import create_history
from tests.support.builders import make_record

ROWS = 3_000


def cli(*args: str, **kwargs) -> subprocess.Popen:
    script = Path(sys.executable).with_name("prompt-improver")
    return subprocess.Popen([str(script), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def run(*args: str) -> subprocess.CompletedProcess:
    process = cli(*args)
    out, err = process.communicate(timeout=300)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def dead_pid() -> int:
    """The id of a process that has exited (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def rows(path: Path) -> int:
    # immutable: a read that leaves no -wal/-shm files behind (the backup is complete, or it is no backup)
    with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return conn.execute("SELECT count(*) FROM prompt_history").fetchone()[0]


@pytest.fixture
def big_history(db_path: Path) -> Path:
    """A history of a few tens of MB, so a backup takes long enough to be killed in the middle."""
    long_text = "a realistic long improved prompt. " * 400
    return create_history(db_path, (make_record(improved_prompt=long_text) for _ in range(ROWS)))


def test_a_killed_prune_backup_leaves_no_file_that_passes_for_a_backup_and_the_rerun_works(big_history, tmp_path):
    backup = tmp_path / "backups" / "before-prune.db"
    backup.parent.mkdir()
    process = cli("prune", "--db", str(big_history), "--older-than-days", "1", "--backup", str(backup))
    seen = []
    while process.poll() is None and not seen:  # kill it the moment anything appears where the backup goes
        seen = list(backup.parent.iterdir())
    process.kill()
    process.wait()
    assert seen, "the prune finished before the backup started"

    # Whatever moment the kill hit, the backup's name is absent or holds a complete copy, never a torn one.
    assert not backup.exists() or rows(backup) == ROWS
    if backup.exists():  # the kill landed after the rename (a fast machine): nothing torn to clean up
        pytest.skip("the backup completed before the kill landed")
    rerun = run("prune", "--db", str(big_history), "--older-than-days", "1", "--backup", str(backup))
    assert rerun.returncode == 0, rerun.stderr
    assert rows(backup) == ROWS
    assert sorted(path.name for path in backup.parent.iterdir()) == [backup.name]  # the leftover is gone


def test_a_live_writers_temporary_is_never_removed_and_a_dead_ones_is(db_path, tmp_path):
    create_history(db_path, [make_record()])
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        snapshot = db_path.with_name(db_path.name + ".analytics.duckdb")
        report = tmp_path / "report.csv"
        stale = [Path(f"{snapshot}.{dead_pid()}.tmp"), Path(f"{snapshot}.{dead_pid()}.tmp.wal"),
                 Path(f"{report}.{dead_pid()}.tmp"), Path(f"{report}.{dead_pid()}.tmp.part7"),
                 tmp_path / "tmp_report.csv"]
        kept = [Path(f"{snapshot}.{live.pid}.tmp"), Path(f"{report}.{live.pid}.tmp"),
                Path(f"{report}.{live.pid}.tmp.part3"), tmp_path / "tmp_other.csv", Path(f"{snapshot}.notapid.tmp"),
                Path(f"{report}.{dead_pid()}.tmp.partial")]
        for path in stale + kept:
            path.write_bytes(b"partial")
        hour_ago = time.time() - 3700  # DuckDB's own temporary name, untouched for an hour: a killed export's
        os.utime(tmp_path / "tmp_report.csv", (hour_ago, hour_ago))
        os.utime(tmp_path / "tmp_other.csv", (hour_ago, hour_ago))  # another file's: not this export's

        result = run("export", "--db", str(db_path), "-o", str(report))
        assert result.returncode == 0, result.stderr

        assert [path for path in stale if path.exists()] == []
        assert [path for path in kept if not path.exists()] == []
        assert report.read_text(encoding="utf-8").count("\n") == 2  # header and the record
    finally:
        live.kill()
        live.wait()


def test_a_fresh_duckdb_temporary_may_be_a_live_export_and_stays(db_path, tmp_path):
    create_history(db_path, [make_record()])
    (tmp_path / "tmp_report.csv").write_bytes(b"being written")
    assert run("export", "--db", str(db_path), "-o", str(tmp_path / "report.csv")).returncode == 0
    assert (tmp_path / "tmp_report.csv").read_bytes() == b"being written"


def test_an_export_killed_mid_write_leaves_the_previous_report_whole(big_history, tmp_path):
    report = tmp_path / "report.csv"
    report.write_text("the previous report\n", encoding="utf-8")
    process = cli("export", "--db", str(big_history), "-o", str(report))
    seen = []
    while process.poll() is None and not seen:
        seen = [path for path in tmp_path.iterdir() if path.name.startswith(("report.csv.", "tmp_report"))]
    process.kill()
    process.wait()
    if not seen:
        pytest.skip("the export finished before its temporary file was seen")
    text = report.read_text(encoding="utf-8")
    assert text == "the previous report\n" or text.count("\n") == ROWS + 1  # never half a report

    assert run("export", "--db", str(big_history), "-o", str(report)).returncode == 0
    assert sorted(path.name for path in tmp_path.iterdir() if "report" in path.name) == ["report.csv"]


def test_a_stale_outbox_lock_and_half_rewrite_are_removed_at_start_and_the_records_kept(tmp_path):
    outbox = Outbox(tmp_path / "history.db.outbox.jsonl")
    outbox.append(make_record(improved_prompt="waiting"), "the database was locked")
    outbox.lock_path.write_bytes(b"")  # what a process killed while holding the lock leaves
    outbox.path.with_name(outbox.path.name + ".tmp").write_text("half a rewr", encoding="utf-8")

    assert replay_outbox_at_start(None, outbox) == 0

    # The `.lock` stays (an empty file the next holder reuses); the half rewrite is gone.
    assert sorted(path.name for path in tmp_path.iterdir()) == ["history.db.outbox.jsonl", "history.db.outbox.jsonl.lock"]
    assert [record.improved_prompt for record in outbox.pending()] == ["waiting"]


def test_a_lock_held_by_a_live_process_is_waited_for_never_removed(tmp_path):
    outbox = Outbox(tmp_path / "history.db.outbox.jsonl")
    rewrite = outbox.path.with_name(outbox.path.name + ".tmp")
    rewrite.write_text("the holder's rewrite in progress", encoding="utf-8")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys\nfrom filelock import FileLock\n"
         f"lock = FileLock({str(outbox.lock_path)!r}); lock.acquire()\n"
         "print('held', flush=True); sys.stdin.readline()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert holder.stdout.readline() == "held\n"
    tidied = threading.Thread(target=outbox.remove_leftovers)
    tidied.start()
    tidied.join(timeout=1.0)
    assert tidied.is_alive() and rewrite.exists()  # waiting for the holder, its files untouched
    with pytest.raises(Timeout):  # and the lock still held by it
        FileLock(outbox.lock_path, blocking=False).acquire()
    holder.stdin.write("\n")
    holder.stdin.close()
    holder.wait(timeout=60)
    tidied.join(timeout=60)
    assert not tidied.is_alive() and not rewrite.exists()


def test_appends_from_processes_lose_nothing(tmp_path):
    script = (
        "import sys\nfrom pipeline.outbox import Outbox\nfrom tests.support.builders import make_record\n"
        "outbox = Outbox(sys.argv[1])\n"
        "for n in range(40):\n    outbox.append(make_record(improved_prompt=f'{sys.argv[2]}-{n}'), 'test')\n"
    )
    path = tmp_path / "history.db.outbox.jsonl"
    root = Path(__file__).resolve().parents[2]
    workers = [subprocess.Popen([sys.executable, "-c", script, str(path), str(worker)], cwd=root)
               for worker in range(4)]
    assert [worker.wait(timeout=120) for worker in workers] == [0, 0, 0, 0]
    lines = [json.loads(line)["improved_prompt"] for line in path.read_text(encoding="utf-8").splitlines()]
    assert sorted(lines) == sorted(f"{worker}-{n}" for worker in range(4) for n in range(40))
