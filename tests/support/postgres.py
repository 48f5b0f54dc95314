"""A throwaway PostgreSQL cluster for tests: `initdb` + `pg_ctl` as an ordinary user, on 127.0.0.1.

The cluster is started once per test session (fsync off: it is thrown away), on a free port, with a
password, so URLs carry one and the masking is exercised. Each test that asks for `postgres_url` gets a
database of its own. Without the binaries (`initdb`/`pg_ctl` on PATH or in /usr/lib/postgresql/*/bin)
the tests that need it are skipped with the reason.

A session killed before its teardown (SIGKILL, a CI timeout) leaves its server running. Each cluster's
directory names the process that owns it (`owner`), and the next session stops and deletes the clusters
whose owner is gone (`remove_orphans`); a cluster of a session still running is never touched.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.unprivileged import NOBODY

USER = "prompt"
PASSWORD = "s3cret-pw"
PORTS = range(18600, 18700)
PREFIX = "prompt-improver-pg-"


def find_binary(name: str) -> str | None:
    """`name` on PATH, else the newest Debian install's copy, else None."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parts[-3]))
    return str(candidates[-1]) if candidates else None


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1} for the test cluster")


class PostgresCluster:
    """One cluster in a temporary directory, run by `nobody` when the tests run as root."""

    def __init__(self, initdb: str, pg_ctl: str) -> None:
        self.initdb, self.pg_ctl = initdb, pg_ctl
        self.root = Path(tempfile.mkdtemp(prefix=PREFIX))
        self.data = self.root / "data"
        self.port = _free_port()
        self._names = itertools.count(1)
        (self.root / "owner").write_text(f"{os.getpid()}\n")
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            os.chown(self.root, NOBODY, NOBODY)
        self.root.chmod(0o700)

    def _run(self, *command: str) -> None:
        _run_as_owner(command, self.root)

    def init(self) -> None:
        """Create the cluster with a password-protected superuser."""
        pwfile = self.root / "pw"
        pwfile.write_text(PASSWORD + "\n")
        if os.geteuid() == 0:
            os.chown(pwfile, NOBODY, NOBODY)
        self._run(
            self.initdb, "-D", str(self.data), "-U", USER, f"--pwfile={pwfile}", "--auth=scram-sha-256",
            "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
        )

    def start(self) -> None:
        """Start the server (again) on the cluster's port; returns once it accepts connections."""
        options = (
            # fsync off: the OS cache survives a killed server, which is all a test needs. synchronous_commit
            # stays on: an immediate stop would otherwise lose the last commits the tests count.
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off "
            "-c full_page_writes=off -c max_connections=200"
        )
        self._run(self.pg_ctl, "-D", str(self.data), "-l", str(self.root / "log"), "-o", options, "-w", "start")

    def stop(self) -> None:
        """Stop the server at once (connections are cut, as when a server goes down)."""
        self._run(self.pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        """A URL for `database`, password included."""
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database; returns its URL."""
        import psycopg

        name = f"test_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def remove(self) -> None:
        """Stop the server if it runs and delete the cluster's directory."""
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.root, ignore_errors=True)


def _run_as_owner(command: tuple[str, ...], cwd: Path) -> None:
    prefix = ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []
    subprocess.run([*prefix, *command], check=True, capture_output=True, text=True, cwd=cwd)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_orphans(pg_ctl: str, tmp: Path | None = None) -> list[Path]:
    """Stop and delete the clusters whose owning test process is gone; return their directories.

    A directory without an `owner` file (made by an older version of this module) is left alone: whether
    its session still runs cannot be told.
    """
    removed = []
    for root in sorted(Path(tmp or tempfile.gettempdir()).glob(PREFIX + "*")):
        try:
            pid = int((root / "owner").read_text())
        except (OSError, ValueError):
            continue
        if _alive(pid):
            continue
        if (root / "data" / "postmaster.pid").exists():
            try:
                _run_as_owner((pg_ctl, "-D", str(root / "data"), "-m", "immediate", "-w", "stop"), root)
            except subprocess.CalledProcessError:
                pass  # not running any more: only the directory is left
        shutil.rmtree(root, ignore_errors=True)
        removed.append(root)
    return removed


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A running throwaway cluster for the whole session (skipped, saying why, without the binaries)."""
    initdb, pg_ctl = find_binary("initdb"), find_binary("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.skip("PostgreSQL's initdb/pg_ctl are not installed (apt-get install postgresql)")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: PostgreSQL cannot be started as an ordinary user")
    remove_orphans(pg_ctl)
    cluster = PostgresCluster(initdb, pg_ctl)
    try:
        cluster.init()
        cluster.start()
    except subprocess.CalledProcessError as error:
        cluster.remove()
        pytest.fail(f"the test cluster did not start: {error.stderr or error.stdout}")
    yield cluster
    cluster.remove()


@pytest.fixture
def postgres_url(postgres_cluster: PostgresCluster) -> str:
    """The URL of a fresh, empty database of the session's cluster."""
    return postgres_cluster.create_database()
