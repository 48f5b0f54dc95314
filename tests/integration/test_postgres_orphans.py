"""A test session killed before its teardown leaves its PostgreSQL server running; the next session stops
it and deletes its directory, and never touches the cluster of a session that is still running."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.postgres import find_binary, remove_orphans

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
# A session that starts its cluster, says where, and then waits to be killed.
SESSION = """
import sys, time
from tests.support.postgres import PostgresCluster
cluster = PostgresCluster(sys.argv[1], sys.argv[2])
cluster.init()
cluster.start()
print(cluster.root, cluster.port, flush=True)
time.sleep(600)
"""


def accepts(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1.0)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def binaries() -> tuple[str, str]:
    initdb, pg_ctl = find_binary("initdb"), find_binary("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.skip("PostgreSQL's initdb/pg_ctl are not installed (apt-get install postgresql)")
    return initdb, pg_ctl


def test_a_killed_sessions_cluster_is_stopped_and_deleted_and_a_live_one_is_kept(binaries, postgres_cluster):
    initdb, pg_ctl = binaries
    session = subprocess.Popen(
        [sys.executable, "-c", SESSION, initdb, pg_ctl], cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    try:
        root, port = session.stdout.readline().split()
        root, port = Path(root), int(port)
        assert accepts(port)
        os.kill(session.pid, signal.SIGKILL)  # no teardown: the server keeps running
        session.wait(timeout=30)
        assert accepts(port)

        removed = remove_orphans(pg_ctl, root.parent)

        assert root in removed
        assert not root.exists()
        deadline = time.monotonic() + 10
        while accepts(port) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not accepts(port)
        # This session's own cluster has a live owner: untouched, still serving.
        assert postgres_cluster.root not in removed
        assert postgres_cluster.root.exists() and accepts(postgres_cluster.port)
    finally:
        session.kill()
        session.wait(timeout=30)
