"""The outbox file: durable appends, records read back intact, crash leftovers kept aside, no interleaving."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest

from pipeline.outbox import Outbox
from store.record import BackendType
from tests.support.builders import make_record


@pytest.fixture
def outbox(tmp_path: Path) -> Outbox:
    return Outbox(tmp_path / "data" / "history.db.outbox.jsonl")


def test_an_appended_record_is_one_json_line_with_its_fields_and_the_reason(outbox):
    record = make_record()
    outbox.append(record, "database is locked")
    lines = outbox.path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    data = json.loads(lines[0])
    assert data["uid"] == record.uid
    assert data["improved_prompt"] == record.improved_prompt
    assert data["guardrails"] == list(record.guardrails)
    assert data["outbox"]["reason"] == "database is locked"


def test_pending_rebuilds_records_with_their_uid_timestamp_and_every_field(outbox):
    first = make_record(guardrails=("one\nwith a newline", "two"), confidence=None, backend=BackendType.ZERO_SHOT)
    second = make_record(original_idea="Summarise the quarterly sales report", quality=0.5, id=7)
    outbox.append(first, "store down")
    outbox.append(second, "store down")
    assert outbox.pending() == [first, second.__class__(**{**_fields(second), "id": None})]
    assert outbox.count() == 2


def _fields(record) -> dict:
    return {name: getattr(record, name) for name in record.__dataclass_fields__}


def test_an_empty_or_missing_outbox_has_nothing_pending(outbox):
    assert outbox.pending() == []
    assert outbox.count() == 0


def test_a_truncated_last_line_is_kept_aside_in_the_corrupt_file_not_dropped(outbox):
    kept = make_record()
    outbox.append(kept, "store down")
    torn = json.dumps(make_record(original_idea="Draft a privacy policy").to_dict())[:57]
    with open(outbox.path, "a", encoding="utf-8") as handle:
        handle.write(torn)  # a crash in the middle of a write: no newline, half a JSON object

    assert outbox.pending() == [kept]
    corrupt = [json.loads(line) for line in outbox.corrupt_path.read_text(encoding="utf-8").splitlines()]
    assert [entry["line"] for entry in corrupt] == [torn]
    assert outbox.path.read_text(encoding="utf-8").count("\n") == 1


def test_an_append_after_a_torn_line_starts_on_a_new_line(outbox):
    outbox.path.parent.mkdir(parents=True)
    outbox.path.write_text('{"uid": "torn', encoding="utf-8")
    record = make_record()
    outbox.append(record, "store down")
    assert outbox.pending() == [record]
    corrupt = [json.loads(line) for line in outbox.corrupt_path.read_text(encoding="utf-8").splitlines()]
    assert [entry["line"] for entry in corrupt] == ['{"uid": "torn']


def _append_many(path: str, worker: int, count: int) -> None:
    box = Outbox(path)
    for index in range(count):
        box.append(make_record(original_idea=f"Idea from worker {worker} number {index} " + "x" * 3000), "down")


def test_concurrent_processes_never_interleave_lines(outbox):
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append_many, args=(str(outbox.path), worker, 40)) for worker in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [worker.exitcode for worker in workers] == [0, 0, 0, 0]

    records = outbox.pending()
    assert len(records) == 160
    assert len({record.uid for record in records}) == 160
    assert not outbox.corrupt_path.exists()


def test_a_record_that_cannot_be_encoded_is_an_outbox_error_and_leaves_the_file_intact(outbox):
    from pipeline.outbox import OutboxError

    outbox.append(make_record(), "database is locked")
    before = outbox.path.read_bytes()
    broken = make_record(role="Caf\udce9 owner")  # a lone surrogate: not encodable as UTF-8

    with pytest.raises(OutboxError, match=broken.uid):
        outbox.append(broken, "database is locked")

    assert outbox.path.read_bytes() == before
