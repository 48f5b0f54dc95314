"""Where a command may write a file the user named: never over the history, its companions or the outbox.

`export -o` and `compile-fewshot --output` both write a user-chosen path; pointed at the database (or its
-wal/-shm/-journal, the analytics snapshot, the outbox, or a link to any of them) either would destroy
history that exists nowhere else, so both refuse it with the same message.
"""

from __future__ import annotations

from pathlib import Path

from prompt_improver.errors import UsageError


def refuse_history_target(option: str, output: Path, db_path: Path, outbox_path: Path, what: str) -> None:
    """Refuse `output` when it is one of the history's files.

    Args:
        option: the option that named the path (`-o`, `--output`), for the message.
        what: what would be written (`the CSV`, `the program`), for the message.

    Raises:
        UsageError: naming the path, the database, and the fix.
    """
    from pipeline.outbox import Outbox
    from store.analytics.history_file import is_history_file

    if is_history_file(output, db_path, also=Outbox(outbox_path).files()):
        raise UsageError(
            f"{option} {output} is the history database {db_path} (or one of its files, or the outbox "
            f"{outbox_path}); writing {what} there would destroy the history: name another file"
        )
