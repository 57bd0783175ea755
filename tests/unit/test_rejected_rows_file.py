"""The rejected-rows file holds every rejected row (the JSON report only the first
MAX_REPORT_ERRORS): written in parts at every checkpoint, so a delivery that runs out of time,
is killed mid-file or is notified twice ends with each line exactly once."""

from __future__ import annotations

import csv
import io

import pytest

from chalicelib.config import reset_settings
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
