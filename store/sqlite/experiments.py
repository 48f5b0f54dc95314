"""The SQLite adapter of the experiment repository (tables from migrations 3 and 6 in `store/sqlite/schema.py`).

One short-lived connection per operation, `BEGIN IMMEDIATE` for writes, the store's error translation.
Standard library only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path

from store.errors import InvalidRecord
from store.experiments import EXPERIMENT_STATUSES, Experiment, ExperimentNotFound, ExperimentRun
from store.judge_verdicts import VERDICT_COLUMNS, JudgeVerdict
from store.record import PromptHistory
from store.sqlite.connection import SELECT_COLUMNS, connect, row_to_record, translate_errors
from store.timestamps import from_iso, to_iso, utc_now

_EXPERIMENT_COLUMNS = (
    "id", "name", "created", "eval_set_hash", "model_version", "program_version_zero_shot",
    "program_version_few_shot", "repeats", "status", "planned", "succeeded", "failed", "items",
)
_RUN_COLUMNS = ("experiment_id", "item_index", "repeat", "backend", "status", "idea", "context", "record_uid", "error")


def _row_to_experiment(row: tuple) -> Experiment:
    values = dict(zip(_EXPERIMENT_COLUMNS, row))
    values["created"] = from_iso(values["created"])
    values["items"] = tuple(tuple(pair) for pair in json.loads(values["items"]))
    return Experiment(**values)


class SQLiteExperimentRepository:
    """The SQLite adapter: one short-lived connection per operation, `BEGIN IMMEDIATE` for writes.

    The database must already be migrated (`store.sqlite.migrations.migrate`, run by the composition root).
    """

    def __init__(self, db_path: Path | str, busy_timeout_ms: int = 5_000) -> None:
        self.db_path = Path(db_path)
        self.busy_timeout_ms = busy_timeout_ms

    def _read(self, sql: str, params: Iterable = ()) -> list[tuple]:
        with translate_errors(self.db_path), closing(connect(self.db_path, self.busy_timeout_ms)) as conn:
            return conn.execute(sql, tuple(params)).fetchall()

    def _write(self, statements: Iterable[tuple[str, tuple]]) -> None:
        with translate_errors(self.db_path), closing(connect(self.db_path, self.busy_timeout_ms)) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                for sql, params in statements:
                    conn.execute(sql, params)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def create(self, experiment: Experiment) -> Experiment:
        """Store a new experiment. Raises RepositoryError if the id is taken."""
        params = (
            experiment.id, experiment.name, to_iso(experiment.created), experiment.eval_set_hash,
            experiment.model_version, experiment.program_version_zero_shot, experiment.program_version_few_shot,
            experiment.repeats, experiment.status, experiment.planned, experiment.succeeded, experiment.failed,
            json.dumps([list(pair) for pair in experiment.items], ensure_ascii=False),
        )
        sql = (
            f"INSERT INTO experiments ({', '.join(_EXPERIMENT_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in _EXPERIMENT_COLUMNS)})"
        )
        self._write([(sql, params)])
        return experiment

    def get(self, experiment_id: str) -> Experiment | None:
        """The experiment with this id (counts up to date), or None."""
        rows = self._read(f"SELECT {', '.join(_EXPERIMENT_COLUMNS)} FROM experiments WHERE id = ?", (experiment_id,))
        return _row_to_experiment(rows[0]) if rows else None

    def list_experiments(self, limit: int = 100) -> list[Experiment]:
        """Experiments, newest first."""
        rows = self._read(
            f"SELECT {', '.join(_EXPERIMENT_COLUMNS)} FROM experiments ORDER BY created DESC, id LIMIT ?", (limit,)
        )
        return [_row_to_experiment(row) for row in rows]

    def _check_exists(self, experiment_id: str) -> None:
        if not self._read("SELECT 1 FROM experiments WHERE id = ?", (experiment_id,)):
            raise ExperimentNotFound(f"no experiment with id {experiment_id!r} in {self.db_path}")

    def record_run(self, run: ExperimentRun) -> None:
        """Store a run, replacing an earlier attempt of the same (item, repeat, backend)."""
        self._check_exists(run.experiment_id)
        sql = (
            f"INSERT INTO experiment_runs ({', '.join(_RUN_COLUMNS)}, updated) "
            f"VALUES ({', '.join('?' for _ in _RUN_COLUMNS)}, ?) "
            "ON CONFLICT (experiment_id, item_index, repeat, backend) DO UPDATE SET "
            "status = excluded.status, idea = excluded.idea, context = excluded.context, "
            "record_uid = excluded.record_uid, error = excluded.error, updated = excluded.updated"
        )
        params = (
            run.experiment_id, run.item_index, run.repeat, run.backend.value, run.status, run.idea, run.context,
            run.record_uid, run.error, to_iso(utc_now()),
        )
        self._write([(sql, params)])

    def runs(self, experiment_id: str) -> list[ExperimentRun]:
        """Every run of the experiment, ordered by item, repeat, backend."""
        rows = self._read(
            f"SELECT {', '.join(_RUN_COLUMNS)} FROM experiment_runs WHERE experiment_id = ? "
            "ORDER BY item_index, repeat, backend",
            (experiment_id,),
        )
        return [ExperimentRun(**dict(zip(_RUN_COLUMNS, row))) for row in rows]

    def set_status(self, experiment_id: str, status: str) -> Experiment:
        """Set the status, recount succeeded/failed from the runs; return the experiment (or ExperimentNotFound)."""
        if status not in EXPERIMENT_STATUSES:
            raise InvalidRecord(f"experiment status must be one of {EXPERIMENT_STATUSES}, got {status!r}")
        self._write([(
            "UPDATE experiments SET status = ?, "
            "succeeded = (SELECT count(*) FROM experiment_runs WHERE experiment_id = ? AND status = 'succeeded'), "
            "failed = (SELECT count(*) FROM experiment_runs WHERE experiment_id = ? AND status = 'failed') "
            "WHERE id = ?",
            (status, experiment_id, experiment_id, experiment_id),
        )])
        experiment = self.get(experiment_id)
        if experiment is None:
            raise ExperimentNotFound(f"no experiment with id {experiment_id!r} in {self.db_path}")
        return experiment

    def records(self, experiment_id: str) -> dict[str, PromptHistory]:
        """The history records tagged with this experiment, by uid."""
        rows = self._read(
            f"SELECT {', '.join(SELECT_COLUMNS)} FROM prompt_history WHERE experiment_id = ?", (experiment_id,)
        )
        return {record.uid: record for record in map(row_to_record, rows)}

    def record_verdict(self, verdict: JudgeVerdict) -> None:
        """Store a judge verdict, replacing an earlier one with the same key (or ExperimentNotFound)."""
        self._check_exists(verdict.experiment_id)
        replaced = ", ".join(f"{c} = excluded.{c}" for c in VERDICT_COLUMNS[5:])
        sql = (
            f"INSERT INTO judge_verdicts ({', '.join(VERDICT_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in VERDICT_COLUMNS)}) "
            f"ON CONFLICT (experiment_id, item_index, repeat, judge_model, first_backend) DO UPDATE SET {replaced}"
        )
        params = (
            verdict.experiment_id, verdict.item_index, verdict.repeat, verdict.judge_model, verdict.first.value,
            verdict.zero_shot_uid, verdict.few_shot_uid, verdict.status, verdict.choice, verdict.reason,
            verdict.error, to_iso(verdict.created),
        )
        self._write([(sql, params)])

    def verdicts(self, experiment_id: str) -> list[JudgeVerdict]:
        """Every judge verdict of the experiment, ordered by judge model, item, repeat, backend shown first."""
        rows = self._read(
            f"SELECT {', '.join(VERDICT_COLUMNS)} FROM judge_verdicts WHERE experiment_id = ? "
            "ORDER BY judge_model, item_index, repeat, first_backend",
            (experiment_id,),
        )
        return [JudgeVerdict.from_row(row, from_iso(row[-1])) for row in rows]
