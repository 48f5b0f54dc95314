"""The repository contract: the SQLite adapter and the in-memory fake must answer exactly alike."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from store import InMemoryPromptRepository, RepositoryConnectionError, RepositoryConstraintError
from store.errors import InvalidRecord
from store.sqlite.migrations import migrate
from store.record import BackendType
from store.sqlite.repository import SQLitePromptRepository
from store.timestamps import utc_now
from tests.support.builders import make_record

T0 = datetime(2026, 1, 3, 10, 0, 0, tzinfo=timezone.utc)


@pytest.fixture(params=["sqlite", "memory", pytest.param("postgres", marks=pytest.mark.postgres)])
def repo(request: pytest.FixtureRequest, db_path: Path):
    """A fresh, empty repository of each implementation (PostgreSQL: a new database on the test cluster)."""
    if request.param == "memory":
        yield InMemoryPromptRepository()
        return
    if request.param == "postgres":
        from store.postgres.migrations import migrate as migrate_postgres
        from store.postgres.repository import PostgresPromptRepository

        url = request.getfixturevalue("postgres_url")
        migrate_postgres(url)
        with PostgresPromptRepository(url) as postgres_repo:
            yield postgres_repo
        return
    migrate(db_path)
    with SQLitePromptRepository(db_path) as sqlite_repo:
        yield sqlite_repo


def at(minutes: float):
    return T0 + timedelta(minutes=minutes)


# -- save -------------------------------------------------------------------------------------------


def test_save_returns_the_record_with_ids_counting_from_one(repo):
    first = make_record(timestamp=at(0))
    saved = [repo.save(first), repo.save(make_record(timestamp=at(1)))]
    assert [record.id for record in saved] == [1, 2]
    assert saved[0] == replace(first, id=1)


def test_get_returns_exactly_what_was_saved(repo):
    saved = repo.save(make_record(guardrails=("one", "two\nlines"), confidence=None, latency_ms=None, reasoning=None))
    assert repo.get(saved.id) == saved


def test_get_of_an_unknown_id_is_none(repo):
    assert repo.get(12345) is None


def test_saving_the_same_uid_twice_stores_it_once_and_returns_the_stored_record(repo):
    original = repo.save(make_record(original_idea="the first version of this idea"))
    replay = repo.save(make_record(uid=original.uid, original_idea="a replayed copy of the idea"))
    assert replay == original
    assert repo.health().row_count == 1


def test_save_many_streams_batches_and_counts_only_new_records(repo):
    generated = (make_record(timestamp=at(i)) for i in range(25))
    assert repo.save_many(generated, batch_size=10) == 25
    existing = repo.find_recent(limit=3)
    assert repo.save_many(existing + [make_record()], batch_size=2) == 1
    assert repo.health().row_count == 26


def test_save_many_stores_a_uid_repeated_inside_one_batch_once(repo):
    record = make_record()
    assert repo.save_many([record, record]) == 1


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, True])
def test_save_many_refuses_a_batch_size_that_is_not_a_positive_integer(repo, batch_size):
    with pytest.raises(ValueError, match="batch_size"):
        repo.save_many([make_record()], batch_size=batch_size)


# -- listing ----------------------------------------------------------------------------------------


def test_find_recent_lists_newest_first_whatever_the_saving_order(repo):
    for minutes in (5, 1, 9, 3):
        repo.save(make_record(timestamp=at(minutes)))
    assert [r.timestamp for r in repo.find_recent()] == [at(9), at(5), at(3), at(1)]


def test_records_with_the_same_timestamp_list_the_later_saved_first(repo):
    ids = [repo.save(make_record(timestamp=T0)).id for _ in range(3)]
    assert [r.id for r in repo.find_recent()] == ids[::-1]


def test_listings_leave_experiment_runs_out_only_when_asked(repo):
    own = repo.save(make_record(timestamp=at(1)))
    run = repo.save(make_record(timestamp=at(2), experiment_id="e1"))
    assert [r.id for r in repo.find_recent()] == [run.id, own.id]
    assert [r.id for r in repo.find_recent(include_experiments=False)] == [own.id]
    assert [r.id for r in repo.find_by_date_range(at(0), at(3), include_experiments=False)] == [own.id]
    assert [r.id for r in repo.find_by_date_range(at(0), at(3))] == [run.id, own.id]


def test_find_recent_pages_with_limit_and_offset(repo):
    for minutes in range(10):
        repo.save(make_record(timestamp=at(minutes)))
    page = repo.find_recent(limit=3, offset=2)
    assert [r.timestamp for r in page] == [at(7), at(6), at(5)]
    assert repo.find_recent(limit=0) == []
    assert repo.find_recent(limit=5, offset=50) == []


def test_find_recent_filters_by_backend_given_as_enum_or_text(repo):
    repo.save(make_record(backend=BackendType.ZERO_SHOT, timestamp=at(1)))
    repo.save(make_record(backend=BackendType.FEW_SHOT, timestamp=at(2)))
    assert [r.backend for r in repo.find_recent(backend=BackendType.ZERO_SHOT)] == [BackendType.ZERO_SHOT]
    assert [r.backend for r in repo.find_recent(backend="few_shot")] == [BackendType.FEW_SHOT]


def test_an_unknown_backend_filter_is_refused_by_name(repo):
    with pytest.raises(InvalidRecord, match="chain-of-thought"):
        repo.find_recent(backend="chain-of-thought")


@pytest.mark.parametrize(
    "limit, offset, bad", [(-1, 0, "-1"), (10, -5, "-5"), ("10", 0, "'10'"), (2**63, 0, str(2**63)), (1, 2**64, str(2**64))]
)
def test_a_negative_or_non_integer_page_is_refused_with_the_value(repo, limit, offset, bad):
    with pytest.raises(ValueError, match=bad):
        repo.find_recent(limit=limit, offset=offset)
    with pytest.raises(ValueError, match=bad):
        repo.search("idea", limit=limit, offset=offset)


def test_date_range_includes_the_start_and_excludes_the_end(repo):
    for minutes in (0, 10, 20, 30):
        repo.save(make_record(timestamp=at(minutes)))
    found = repo.find_by_date_range(at(10), at(30))
    assert [r.timestamp for r in found] == [at(20), at(10)]


def test_date_range_compares_instants_whatever_the_bounds_time_zone(repo):
    repo.save(make_record(timestamp=at(0)))
    paris = timezone(timedelta(hours=1))
    start = at(-1).astimezone(paris)
    assert len(repo.find_by_date_range(start, start + timedelta(minutes=2))) == 1


def test_date_range_filters_by_backend_and_pages(repo):
    for minutes in range(6):
        backend = BackendType.ZERO_SHOT if minutes % 2 else BackendType.FEW_SHOT
        repo.save(make_record(timestamp=at(minutes), backend=backend))
    found = repo.find_by_date_range(at(0), at(10), backend=BackendType.ZERO_SHOT, limit=2, offset=1)
    assert [r.timestamp for r in found] == [at(3), at(1)]


def test_date_range_refuses_naive_or_reversed_bounds(repo):
    with pytest.raises(ValueError, match="timezone-aware"):
        repo.find_by_date_range(datetime(2026, 1, 1), at(0))
    with pytest.raises(ValueError, match="after end"):
        repo.find_by_date_range(at(10), at(0))


# -- search ---------------------------------------------------------------------------------------


def test_search_matches_idea_or_prompt_ignoring_case(repo):
    repo.save(make_record(original_idea="Draft a Newsletter intro", improved_prompt="Write it", timestamp=at(1)))
    repo.save(make_record(original_idea="Plan a sprint review", improved_prompt="You write a NEWSLETTER", timestamp=at(2)))
    repo.save(make_record(original_idea="Something unrelated", improved_prompt="Nothing here", timestamp=at(3)))
    assert [r.timestamp for r in repo.search("newsletter")] == [at(2), at(1)]


def test_search_takes_wildcards_in_the_text_literally(repo):
    repo.save(make_record(original_idea="Raise prices by 100% now", timestamp=at(1)))
    repo.save(make_record(original_idea="Raise prices by 1000 now", timestamp=at(2)))
    repo.save(make_record(original_idea="Use snake_case names", timestamp=at(3)))
    repo.save(make_record(original_idea="Use snakeXcase names", timestamp=at(4)))
    repo.save(make_record(original_idea=r"Escape C:\temp paths", timestamp=at(5)))
    assert [r.timestamp for r in repo.search("100%")] == [at(1)]
    assert [r.timestamp for r in repo.search("snake_case")] == [at(3)]
    assert [r.timestamp for r in repo.search("%")] == [at(1)]
    assert [r.timestamp for r in repo.search("\\temp")] == [at(5)]


def test_search_folds_case_of_non_ascii_letters(repo):
    repo.save(make_record(original_idea="Menu du CAFÉ de la gare", timestamp=at(1)))
    repo.save(make_record(original_idea="Straße bauen und planen", timestamp=at(2)))
    assert [r.timestamp for r in repo.search("café")] == [at(1)]
    assert [r.timestamp for r in repo.search("STRASSE")] == []  # ASCII text folds ASCII letters only
    assert [r.timestamp for r in repo.search("STRAẞE")] == [at(2)]


def test_search_filters_by_backend_and_refuses_non_text(repo):
    repo.save(make_record(original_idea="Shared words here", backend="zero-shot", timestamp=at(1)))
    repo.save(make_record(original_idea="Shared words there", backend="few-shot", timestamp=at(2)))
    assert [r.timestamp for r in repo.search("shared", backend="zero-shot")] == [at(1)]
    with pytest.raises(ValueError, match="string"):
        repo.search(None)


# -- statistics -------------------------------------------------------------------------------------


def test_statistics_of_an_empty_history(repo):
    stats = repo.get_statistics()
    assert (stats.total_count, stats.average_confidence, stats.average_latency_ms) == (0, None, None)
    assert stats.backend_distribution == {"zero-shot": 0, "few-shot": 0}


def test_statistics_average_known_values_and_count_backends_in_the_window(repo):
    repo.save(make_record(timestamp=at(0), confidence=0.2, latency_ms=100.0, backend="zero-shot"))
    repo.save(make_record(timestamp=at(1), confidence=0.6, latency_ms=None, backend="few-shot"))
    repo.save(make_record(timestamp=at(2), confidence=None, latency_ms=300.0, backend="few-shot"))
    repo.save(make_record(timestamp=at(9), confidence=1.0, latency_ms=900.0, backend="zero-shot"))
    everything = repo.get_statistics()
    assert everything.total_count == 4
    assert everything.average_confidence == pytest.approx(0.6)
    assert everything.average_latency_ms == pytest.approx(1300 / 3)
    window = repo.get_statistics(start=at(0), end=at(5))
    assert window.total_count == 3
    assert window.average_confidence == pytest.approx(0.4)
    assert window.average_latency_ms == pytest.approx(200.0)
    assert window.backend_distribution == {"zero-shot": 1, "few-shot": 2}
    assert repo.get_statistics(start=at(2)).total_count == 2
    assert repo.get_statistics(end=at(2)).total_count == 2


# -- retention ---------------------------------------------------------------------------------------


def _history_around_the_cutoff(repo) -> None:
    now = utc_now()
    for age_days in (40, 31, 29, 1):
        repo.save(make_record(timestamp=now - timedelta(days=age_days), original_idea=f"{age_days} days old"))


def test_prune_keeps_records_inside_the_window(repo):
    _history_around_the_cutoff(repo)
    assert repo.count_older_than(30) == 2
    assert repo.delete_older_than(30) == 2
    assert sorted(r.original_idea for r in repo.find_recent()) == ["1 days old", "29 days old"]
    assert repo.count_older_than(30) == 0


def test_prune_bumps_the_prune_generation_only_when_it_deletes(repo):
    _history_around_the_cutoff(repo)
    assert repo.get_setting("prune_generation") == "0"
    repo.delete_older_than(365)
    assert repo.get_setting("prune_generation") == "0"
    repo.delete_older_than(30)
    repo.delete_older_than(10)
    assert repo.get_setting("prune_generation") == "2"


def test_ids_are_not_reused_after_a_prune(repo):
    _history_around_the_cutoff(repo)
    repo.delete_older_than(0)
    assert repo.save(make_record()).id == 5


@pytest.mark.parametrize("days", [36_500_000, 10**20])
def test_prune_further_back_than_year_one_counts_and_deletes_nothing(repo, days):
    _history_around_the_cutoff(repo)
    assert repo.count_older_than(days) == 0
    assert repo.delete_older_than(days) == 0
    assert len(repo.find_recent()) == 4


@pytest.mark.parametrize("days", [-1, 1.5, "30", None])
def test_prune_refuses_days_that_are_not_a_non_negative_integer(repo, days):
    with pytest.raises(ValueError, match="days"):
        repo.count_older_than(days)
    with pytest.raises(ValueError, match="days"):
        repo.delete_older_than(days)


def test_prune_with_an_existing_backup_file_deletes_nothing(repo, tmp_path):
    _history_around_the_cutoff(repo)
    existing = tmp_path / "backup.db"
    existing.write_bytes(b"an earlier backup")
    with pytest.raises(RepositoryConnectionError, match="already exists"):
        repo.delete_older_than(30, backup_to=existing)
    assert repo.health().row_count == 4
    assert existing.read_bytes() == b"an earlier backup"


def test_prune_with_a_backup_writes_it_before_deleting(repo, tmp_path):
    _history_around_the_cutoff(repo)
    assert repo.delete_older_than(30, backup_to=tmp_path / "backups" / "before-prune") == 2
    assert (tmp_path / "backups" / "before-prune").stat().st_size > 0


# -- settings and health ---------------------------------------------------------------------------


def test_settings_are_stored_and_overwritten(repo):
    assert repo.get_setting("retention_days") is None
    repo.set_setting("retention_days", "30")
    repo.set_setting("retention_days", "7")
    assert repo.get_setting("retention_days") == "7"


@pytest.mark.parametrize("value", [None, 30, 0.5])
def test_a_setting_value_that_is_not_text_is_a_constraint_error(repo, value):
    with pytest.raises(RepositoryConstraintError, match="value"):
        repo.set_setting("retention_days", value)
    assert repo.get_setting("retention_days") is None


def test_health_counts_rows_and_reports_a_healthy_store(repo):
    repo.save_many(make_record() for _ in range(3))
    health = repo.health()
    assert (health.row_count, health.quick_check) == (3, "ok")


def test_a_closed_repository_still_works(repo):
    # The composition roots close a repository when a command ends; a summary printed afterwards still reads.
    repo.save(make_record())
    if hasattr(repo, "close"):  # the in-memory fake holds nothing to close
        repo.close()
    assert repo.save(make_record()).id == 2
    assert repo.health().row_count == 2


# -- rescore: stale scores, updated in place ---------------------------------------------------------


def test_records_to_rescore_are_those_not_scored_by_the_version_oldest_id_first(repo):
    current = repo.save(make_record(timestamp=at(0), quality=0.8, metric_version=2))
    older = repo.save(make_record(timestamp=at(1), quality=0.8, metric_version=1))
    unscored = repo.save(make_record(timestamp=at(2), quality=None))
    unversioned = repo.save(make_record(timestamp=at(3), quality=0.4))
    assert [r.id for r in repo.records_to_rescore(2)] == [older.id, unscored.id, unversioned.id]
    assert [r.id for r in repo.records_to_rescore(2, after_id=older.id, limit=1)] == [unscored.id]
    assert [r.id for r in repo.records_to_rescore(2, since=at(2))] == [unscored.id, unversioned.id]
    assert repo.count_to_rescore(2) == 3 and repo.count_to_rescore(2, since=at(3)) == 1
    assert current.id not in [r.id for r in repo.records_to_rescore(2)]


def test_update_quality_sets_score_and_version_and_signals_a_change(repo):
    record = repo.save(make_record(quality=0.9, metric_version=1))
    generation = repo.get_setting("prune_generation")
    assert repo.update_quality([(record.id, 0.45, 2), (9999, 0.5, 2)]) == 1  # an unknown id is skipped
    stored = repo.get(record.id)
    assert (stored.quality, stored.metric_version) == (0.45, 2)
    assert stored == replace(record, quality=0.45, metric_version=2)  # nothing else changed
    assert int(repo.get_setting("prune_generation")) == int(generation) + 1  # the read model must rebuild
    assert repo.records_to_rescore(2) == []


@pytest.mark.parametrize("score", [(1, 1.5, 2), (1, 0.5, 0), (1, float("nan"), 2), (1, 0.5, True)])
def test_update_quality_refuses_a_bad_score_or_version_and_changes_nothing(repo, score):
    record = repo.save(make_record(quality=0.9, metric_version=1))
    with pytest.raises(RepositoryConstraintError):
        repo.update_quality([(record.id, 0.3, 2), score])
    assert repo.get(record.id) == record
