"""Run an operation as an ordinary user, so file permissions apply (tests run as root, which ignores them)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable

NOBODY = 65534


def run_as_nobody(operation: Callable[[], object]) -> object:
    """Run `operation` and return its JSON-able result; as root, in a forked child that drops to `nobody`.

    An exception the operation does not handle comes back as `{"unexpected": "Class: message"}`, so the
    calling test fails with the reason instead of hanging or passing.
    """
    if os.geteuid() != 0:
        try:
            return operation()
        except BaseException as error:  # noqa: BLE001 - reported like the child's, for the test to fail on
            return {"unexpected": f"{type(error).__name__}: {error}"}
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop privileges, run, report through the pipe, never return to pytest
        status = 0
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            try:
                report = operation()
            except BaseException as error:  # noqa: BLE001 - reported to the parent, which fails the test
                report = {"unexpected": f"{type(error).__name__}: {error}"}
            os.write(write_end, json.dumps(report).encode())
        except BaseException:  # noqa: BLE001
            status = 1
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        report = pipe.read().decode()
    os.waitpid(pid, 0)
    assert report, "the unprivileged child crashed before reporting"
    return json.loads(report)
