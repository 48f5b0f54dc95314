"""The PostgreSQL adapter of the experiment repository (tables from migration 2 in `store/postgres/schema.py`).

It shares the history repository's pool, so one process holds one set of connections to the server.
"""

from __future__ import annotations

from collections.abc import Iterable

from psycopg.types.json import Jsonb

from store.errors import InvalidRecord
from store.experiments import EXPERIMENT_STATUSES, Experiment, ExperimentNotFound, ExperimentRun
from store.judge_verdicts import VERDICT_COLUMNS, JudgeVerdict
from store.postgres.repository import PostgresPromptRepository
from store.postgres.rows import SELECT_SQL, row_to_record
from store.record import PromptHistory
from store.timestamps import utc_now

_EXPERIMENT_COLUMNS = (
    "id", "name", "created", "eval_set_hash", "model_version", "program_version_zero_shot",
    "program_version_few_shot", "repeats", "status", "planned", "succeeded", "failed", "items",
)
_RUN_COLUMNS = ("experiment_id", "item_index", "repeat", "backend", "status", "idea", "context", "record_uid", "error")
_SELECT_EXPERIMENTS = f"SELECT {', '.join(_EXPERIMENT_COLUMNS)} FROM experiments"


def _row_to_experiment(row: tuple) -> Experiment:
    values = dict(zip(_EXPERIMENT_COLUMNS, row))
    values["items"] = tuple(tuple(pair) for pair in values["items"])
    return Experiment(**values)


class PostgresExperimentRepository:
    """Experiments and their runs in the history's PostgreSQL database (already migrated)."""

    def __init__(self, history: PostgresPromptRepository) -> None:
        self._history = history

    def _read(self, sql: str, params: Iterable = ()) -> list[tuple]:
        with self._history.transaction() as conn:  # one pool per database, shared
            return conn.execute(sql, tuple(params)).fetchall()

    def create(self, experiment: Experiment) -> Experiment:
        """Store a new experiment. Raises RepositoryError (a constraint error) if the id is taken."""
        params = (
            experiment.id, experiment.name, experiment.created, experiment.eval_set_hash,
            experiment.model_version, experiment.program_version_zero_shot, experiment.program_version_few_shot,
            experiment.repeats, experiment.status, experiment.planned, experiment.succeeded, experiment.failed,
            Jsonb([list(pair) for pair in experiment.items]),
        )
        with self._history.transaction() as conn:
            conn.execute(
                f"INSERT INTO experiments ({', '.join(_EXPERIMENT_COLUMNS)}) "
                f"VALUES ({', '.join('%s' for _ in _EXPERIMENT_COLUMNS)})",
                params,
            )
        return experiment

    def get(self, experiment_id: str) -> Experiment | None:
        """The experiment with this id (counts up to date), or None."""
        rows = self._read(_SELECT_EXPERIMENTS + " WHERE id = %s", (experiment_id,))
        return _row_to_experiment(rows[0]) if rows else None

    def list_experiments(self, limit: int = 100) -> list[Experiment]:
        """Experiments, newest first."""
        rows = self._read(_SELECT_EXPERIMENTS + " ORDER BY created DESC, id LIMIT %s", (limit,))
        return [_row_to_experiment(row) for row in rows]

    def record_run(self, run: ExperimentRun) -> None:
        """Store a run, replacing an earlier attempt of the same (item, repeat, backend)."""
        with self._history.transaction() as conn:
            if conn.execute("SELECT 1 FROM experiments WHERE id = %s", (run.experiment_id,)).fetchone() is None:
                raise ExperimentNotFound(f"no experiment with id {run.experiment_id!r} in {self._history.db_path}")
            conn.execute(
                f"INSERT INTO experiment_runs ({', '.join(_RUN_COLUMNS)}, updated) "
                f"VALUES ({', '.join('%s' for _ in _RUN_COLUMNS)}, %s) "
                "ON CONFLICT (experiment_id, item_index, repeat, backend) DO UPDATE SET "
                "status = excluded.status, idea = excluded.idea, context = excluded.context, "
                "record_uid = excluded.record_uid, error = excluded.error, updated = excluded.updated",
                (
                    run.experiment_id, run.item_index, run.repeat, run.backend.value, run.status, run.idea,
                    run.context, run.record_uid, run.error, utc_now(),
                ),
            )

    def record_verdict(self, verdict: JudgeVerdict) -> None:
        """Store a judge verdict, replacing an earlier one with the same key (or ExperimentNotFound)."""
        replaced = ", ".join(f"{c} = excluded.{c}" for c in VERDICT_COLUMNS[5:])
        with self._history.transaction() as conn:
            if conn.execute("SELECT 1 FROM experiments WHERE id = %s", (verdict.experiment_id,)).fetchone() is None:
                raise ExperimentNotFound(f"no experiment with id {verdict.experiment_id!r} in {self._history.db_path}")
            conn.execute(
                f"INSERT INTO judge_verdicts ({', '.join(VERDICT_COLUMNS)}) "
                f"VALUES ({', '.join('%s' for _ in VERDICT_COLUMNS)}) "
                f"ON CONFLICT (experiment_id, item_index, repeat, judge_model, first_backend) DO UPDATE SET {replaced}",
                (
                    verdict.experiment_id, verdict.item_index, verdict.repeat, verdict.judge_model,
                    verdict.first.value, verdict.zero_shot_uid, verdict.few_shot_uid, verdict.status, verdict.choice,
                    verdict.reason, verdict.error, verdict.created,
                ),
            )

    def verdicts(self, experiment_id: str) -> list[JudgeVerdict]:
        """Every judge verdict of the experiment, ordered by judge model, item, repeat, backend shown first."""
        rows = self._read(
            f"SELECT {', '.join(VERDICT_COLUMNS)} FROM judge_verdicts WHERE experiment_id = %s "
            'ORDER BY judge_model COLLATE "C", item_index, repeat, first_backend COLLATE "C"',
            (experiment_id,),
        )
        return [JudgeVerdict.from_row(row) for row in rows]

    def runs(self, experiment_id: str) -> list[ExperimentRun]:
        """Every run of the experiment, ordered by item, repeat, backend."""
        rows = self._read(
            f"SELECT {', '.join(_RUN_COLUMNS)} FROM experiment_runs WHERE experiment_id = %s "
            "ORDER BY item_index, repeat, backend COLLATE \"C\"",
            (experiment_id,),
        )
        return [ExperimentRun(**dict(zip(_RUN_COLUMNS, row))) for row in rows]

    def set_status(self, experiment_id: str, status: str) -> Experiment:
        """Set the status, recount succeeded/failed from the runs; return the experiment (or ExperimentNotFound)."""
        if status not in EXPERIMENT_STATUSES:
            raise InvalidRecord(f"experiment status must be one of {EXPERIMENT_STATUSES}, got {status!r}")
        with self._history.transaction() as conn:
            row = conn.execute(
                "UPDATE experiments SET status = %s, "
                "succeeded = (SELECT count(*) FROM experiment_runs WHERE experiment_id = %s AND status = 'succeeded'), "
                "failed = (SELECT count(*) FROM experiment_runs WHERE experiment_id = %s AND status = 'failed') "
                f"WHERE id = %s RETURNING {', '.join(_EXPERIMENT_COLUMNS)}",
                (status, experiment_id, experiment_id, experiment_id),
            ).fetchone()
        if row is None:
            raise ExperimentNotFound(f"no experiment with id {experiment_id!r} in {self._history.db_path}")
        return _row_to_experiment(row)

    def records(self, experiment_id: str) -> dict[str, PromptHistory]:
        """The history records tagged with this experiment, by uid."""
        rows = self._read(SELECT_SQL + " WHERE experiment_id = %s", (experiment_id,))
        return {record.uid: record for record in map(row_to_record, rows)}
