"""A full disk, for real: a small tmpfs filled to the last byte holds the database (and the outbox).

Mounting needs root (CAP_SYS_ADMIN); elsewhere these tests skip, saying so. `improve` and `doctor` run as
the installed console script in a subprocess, as a user runs them, against the fake model server.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from prompt_improver.settings import load_settings
from prompt_improver.wiring import open_repository
from tests.support.fake_openai import FakeOpenAIServer, good_fields, reply

IDEA = "Summarise a support ticket for the on-call engineer"
DISK_BYTES = 1024 * 1024


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A directory on a 1 MB tmpfs holding a history database, the rest of the space filled."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES}", "tmpfs", str(disk)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill (needs root): {mounted.stderr.strip()}")
    try:
        open_repository(load_settings(sqlite_db_path=disk / "history.db")).close()
        _fill(disk / "filler")
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def _fill(path: Path) -> None:
    with open(path, "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 512)
        except OSError as error:
            assert error.errno == errno.ENOSPC
    assert os.statvfs(path.parent).f_bavail == 0


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    script = Path(sys.executable).with_name("prompt-improver")
    return subprocess.run([str(script), *args], capture_output=True, text=True, env=env, timeout=300, check=False)


@pytest.fixture
def env(full_disk: Path, tmp_path: Path) -> Iterator[dict[str, str]]:
    spare = tmp_path / "spare-tmp"  # the system temporary directory the CLI sees: another filesystem
    spare.mkdir()
    with FakeOpenAIServer(default=reply(good_fields(IDEA))) as server:
        yield {
            **os.environ, "SQLITE_DB_PATH": str(full_disk / "history.db"), "LLM_MODEL": "openai/fake-model",
            "LLM_API_BASE": server.base_url, "LLM_API_KEY": "test", "LLM_MAX_RETRIES": "0", "TMPDIR": str(spare),
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        }


def test_improve_on_a_full_disk_exits_non_zero_and_says_where_the_full_text_is(env, tmp_path):
    result = _cli("improve", IDEA, "--backend", "zero-shot", env=env)

    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    assert good_fields(IDEA)["improved_prompt"] in result.stdout
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: the improvement was neither saved nor kept: ")
    (copy,) = (tmp_path / "spare-tmp").glob("prompt-improver-unsaved-*.json")
    assert last.endswith(f"its full text is printed above on stdout and written to {copy}")
    assert json.loads(copy.read_text(encoding="utf-8"))["improved_prompt"] == good_fields(IDEA)["improved_prompt"]
    assert copy.stat().st_mode & 0o777 == 0o600


def test_with_outbox_path_on_another_filesystem_the_record_is_kept(env, tmp_path):
    outbox = tmp_path / "elsewhere" / "outbox.jsonl"
    result = _cli("improve", IDEA, "--backend", "zero-shot", "--json", env={**env, "OUTBOX_PATH": str(outbox)})

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["saved"] is False
    assert f"it is kept in the outbox {outbox}" in result.stderr
    (line,) = outbox.read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["improved_prompt"] == good_fields(IDEA)["improved_prompt"]


def test_doctor_reports_the_free_space_of_the_database_and_the_outbox(env, full_disk, tmp_path):
    outbox = tmp_path / "elsewhere" / "outbox.jsonl"
    result = _cli("doctor", env={**env, "OUTBOX_PATH": str(outbox)})

    assert result.returncode == 1
    assert f"free space (database): 0 B on the filesystem of {full_disk / 'history.db'}" in result.stdout
    assert "free space (outbox): " in result.stdout and f"on the filesystem of {tmp_path}" in result.stdout
    assert f"problem: only 0 B free on the filesystem of the database ({full_disk / 'history.db'})" in result.stderr
    assert "set OUTBOX_PATH to a file on another filesystem" in result.stderr
    assert "the outbox there cannot keep them" not in result.stderr  # the outbox has room
