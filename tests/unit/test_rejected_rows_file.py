"""The rejected-rows file holds every rejected row (the JSON report only the first
MAX_REPORT_ERRORS): written in parts at every checkpoint, so a delivery that runs out of time,
is killed mid-file or is notified twice ends with each line exactly once."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from chalicelib.config import reset_settings
from chalicelib.errors import StoreRefused
from chalicelib.services import ingest
from tests.support.ingest import csv_bytes, portfolio
from tests.support.memory import MemoryRegister
from tests.unit.test_ingest_scenarios import DiesOnce, Interrupted, TimeRunsLow

pytestmark = pytest.mark.unit

PARTNER = "demo-volmacht"


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INGEST_BATCH_ROWS", "25")
    monkeypatch.setenv("MAX_REPORT_ERRORS", "20")
    reset_settings()


def export_with_bad_rows(count: int = 300) -> bytes:
    """`count` policies; every third has a postcode that is no postcode."""
    rows = portfolio(count)
    for i, row in enumerate(rows):
        if i % 3 == 0:
            row["PCODE"] = "1"
    return csv_bytes(rows)


def rejected_rows(register: MemoryRegister) -> list[list[str]]:
    report = register.report(PARTNER)
    data = register.blobs.objects[f"reports/{PARTNER}/{report['delivery_id']}.csv"]
    text = data.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def delivered(kind: str, data: bytes, remaining_ms=None) -> MemoryRegister:
    register = MemoryRegister()
    register.upload(f"incoming/{PARTNER}/{kind}/export.csv", data)
    register.drain(*(() if remaining_ms is None else (remaining_ms,)))
    return register


@pytest.mark.parametrize("kind", ["full", "check"])
def test_the_file_holds_every_rejected_row_and_the_report_the_first_ones(small_batches, kind):
    # given an export of 300 policies of which 100 have a bad postcode
    register = delivered(kind, export_with_bad_rows())

    # then the JSON report keeps the first 20 and counts all, and the file holds all 100
    report = register.report(PARTNER)
    assert (len(report["errors"]), report["errors_truncated"]) == (20, True)
    assert report["error_counts"] == {"invalid_postcode": 100}
    lines = rejected_rows(register)
    assert lines[0] == ["file", "line", "column", "code", "message", "message_en"]
    assert [line[1:4] for line in lines[1:]] == [
        [str(i + 2), "PCODE", "invalid_postcode"] for i in range(0, 300, 3)
    ]
    assert {line[0] for line in lines[1:]} == {"export.csv"}
    # and the report's rows are the file's first rows
    assert [[str(e["line"]), e["code"]] for e in report["errors"]] == [
        [line[1], line[3]] for line in lines[1:21]
    ]


@pytest.mark.parametrize("kind", ["full", "check"])
def test_a_delivery_that_runs_out_of_time_mid_file_writes_each_rejected_row_once(
    small_batches, kind
):
    whole = delivered(kind, export_with_bad_rows())
    interrupted = delivered(kind, export_with_bad_rows(), TimeRunsLow(every=2))
    assert len(interrupted.deliveries.records) == 1
    assert rejected_rows(interrupted) == rejected_rows(whole)


@pytest.mark.parametrize("kind", ["full", "check"])
@pytest.mark.parametrize("dies_at", [1, 2, 4])
def test_a_delivery_killed_mid_file_writes_each_rejected_row_once(
    small_batches, monkeypatch, kind, dies_at
):
    # given parts of the check's file written between its saves (every 7 errors)
    monkeypatch.setattr(ingest, "REJECTED_PART_ROWS", 7)
    whole = delivered(kind, export_with_bad_rows())

    # when the delivery is killed mid-file, after a hand-over, and its message comes back
    killed = MemoryRegister()
    event = killed.upload(f"incoming/{PARTNER}/{kind}/export.csv", export_with_bad_rows())
    killed.queue.messages.clear()
    killed.process(event, TimeRunsLow(every=3))  # hands over once
    resume = killed.queue.messages.pop(0)
    with pytest.raises(Interrupted):
        killed.process(resume, DiesOnce(at=dies_at))
    killed.queue.messages.append(resume)
    killed.clock.advance(hours=1)  # the killed invocation's lease lapses
    killed.drain()

    # then every rejected row is in the file once, in order
    assert rejected_rows(killed) == rejected_rows(whole)
    assert killed.report(PARTNER)["error_counts"] == whole.report(PARTNER)["error_counts"]


def test_a_second_notification_of_a_finished_delivery_leaves_its_file_as_it_is(small_batches):
    register = MemoryRegister()
    event = register.upload(f"incoming/{PARTNER}/full/export.csv", export_with_bad_rows())
    register.drain()
    before = dict(register.blobs.objects)

    register.process(event)

    assert register.blobs.objects == before


# --- a held delivery confirmed after the bucket expired its work parts --------------------------


def held_with_bad_rows(register: MemoryRegister) -> str:
    """A full delivery of 30 of 90 policies, every third row bad: held for review."""
    register.upload(f"incoming/{PARTNER}/full/m1.csv", csv_bytes(portfolio(90)))
    register.drain()
    register.upload(f"incoming/{PARTNER}/full/m2.csv", export_with_bad_rows(30))
    register.drain()
    held = register.report(PARTNER)
    assert (held["status"], held["rows_rejected"]) == ("held_for_review", 10)
    return str(held["delivery_id"])


def expire_work(register: MemoryRegister) -> None:
    """What the bucket's lifecycle rule `expire-work` does a week after the parts were written."""
    work = [key for key in register.blobs.objects if key.startswith(ingest.WORK_PREFIX)]
    assert work
    for key in work:
        del register.blobs.objects[key]


def test_a_held_delivery_confirmed_after_its_work_parts_expired_keeps_its_rejected_rows(
    small_batches,
):
    # given a held delivery with ten rejected rows in its file, whose work parts expired
    register = MemoryRegister()
    delivery_id = held_with_bad_rows(register)
    held_rows = rejected_rows(register)
    expire_work(register)

    # when an administrator confirms it
    register.service().release_held(delivery_id, confirmed_by="admin-user")
    register.drain()

    # then it ends the missing policies and its file still holds every rejected row once
    final = register.report(PARTNER)
    assert (final["status"], final["policies_ended"]) == ("accepted_with_errors", 60)
    assert rejected_rows(register) == held_rows
    assert len(held_rows) == 1 + 10


@pytest.mark.parametrize("held_by_the_previous_version", [False, True])
def test_an_error_after_the_confirm_is_added_once_to_the_file_also_when_the_finish_is_killed(
    small_batches, monkeypatch, held_by_the_previous_version
):
    # given a held delivery whose work parts expired
    register = MemoryRegister()
    delivery_id = held_with_bad_rows(register)
    held_rows = rejected_rows(register)
    expire_work(register)
    if held_by_the_previous_version:  # which did not note what the report's file holds
        record = register.deliveries.records[delivery_id]
        record.progress.rejected_parts_reported = 0
        record.progress.rejected_bytes_reported = None

    # and DynamoDB refuses to end its missing policies
    def refused(*args: object, **kwargs: object) -> None:
        raise StoreRefused("batch_write_item: ValidationException")

    monkeypatch.setattr(register.portfolio, "end", refused)
    # and the invocation is killed once after its file was written, before it was marked final
    real_finish = register.deliveries.finish
    kills: list[str] = []

    def killed_once(delivery_id: str, **kwargs: Any) -> None:
        if not kills:
            kills.append(delivery_id)
            raise Interrupted
        real_finish(delivery_id, **kwargs)

    monkeypatch.setattr(register.deliveries, "finish", killed_once)

    # when an administrator confirms it, and the killed message comes back
    register.service().release_held(delivery_id, confirmed_by="admin-user")
    register.clock.advance(seconds=1)
    with pytest.raises(Interrupted):
        register.process(register.queue.messages.pop(0))
    register.clock.advance(hours=1)  # the killed invocation's lease lapses
    register.service().resume(delivery_id, lambda: 900_000)

    # then the delivery is rejected, and its file holds the held rows and the refusal once each
    assert kills
    assert register.report(PARTNER)["status"] == "rejected"
    final_rows = rejected_rows(register)
    assert final_rows[: len(held_rows)] == held_rows
    assert [row[3] for row in final_rows[len(held_rows) :]] == ["storage_refused"]
