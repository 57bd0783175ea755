"""Field quality and check-only deliveries through the real ingest service on in-memory stores."""

from __future__ import annotations

import gc
import io
from datetime import date
from typing import Any

import pytest

from chalicelib.config import reset_settings
from chalicelib.models.quality import QualityCounts
from chalicelib.rules.quality import FieldTally, summarise
from chalicelib.rules.rows import map_header, validate_row
from chalicelib.services.reader import RawRow, open_rows
from tests.support.ingest import csv_bytes, portfolio
from tests.support.memory import MemoryRegister
from tests.unit.test_ingest_scenarios import DiesOnce, Interrupted, TimeRunsLow

pytestmark = pytest.mark.unit

PARTNER = "demo-volmacht"
PARTNER_PREFIX = f"incoming/{PARTNER}"
TODAY = date(2026, 3, 2)


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INGEST_BATCH_ROWS", "25")
    reset_settings()


def field(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in report["quality"]["fields"] if f["field"] == name)


def rows_with_known_gaps(count: int = 200) -> list[dict[str, str]]:
    """`count` policies: every row has an e-mail except each 4th, and each 10th mobile number
    is invalid (those rows are rejected)."""
    rows = portfolio(count)
    for i, row in enumerate(rows):
        row["EMAIL"] = "" if i % 4 == 0 else f"klant{i}@example.nl"
        row["MOBIEL"] = "12" if i % 10 == 0 else "0612345678"
    return rows


def test_the_report_shows_exactly_the_share_of_rows_without_e_mail_and_with_a_bad_phone():
    register = MemoryRegister()
    register.upload(f"incoming/{PARTNER}/full/gaps.csv", csv_bytes(rows_with_known_gaps()))
    register.drain()
    report = register.report(PARTNER)

    email, phone = field(report, "email"), field(report, "phone")
    assert (email["applicable"], email["filled"], email["completeness"]) == (200, 150, 0.75)
    assert (phone["filled"], phone["valid"], phone["validity"]) == (200, 180, 0.9)
    assert phone["errors"] == {"invalid_phone": 20}
    assert report["rows_rejected"] == 20


def deliver_gaps(register: MemoryRegister, kind: str = "full") -> str:
    data = csv_bytes(rows_with_known_gaps(150))
    return register.upload(f"incoming/{PARTNER}/{kind}/gaps.csv", data, notify=False)


def test_field_counts_survive_running_out_of_time_without_counting_a_row_twice(small_batches):
    expected = MemoryRegister()
    expected.process(deliver_gaps(expected))
    interrupted = MemoryRegister()
    event = deliver_gaps(interrupted)

    clock = TimeRunsLow(every=2)
    interrupted.process(event, clock)
    assert interrupted.drain(clock) >= 2

    assert interrupted.report(PARTNER)["quality"] == expected.report(PARTNER)["quality"]
    assert interrupted.report(PARTNER)["quality"]["rows"] == 150


@pytest.mark.parametrize("kind", ["full", "check"])
def test_field_counts_survive_a_kill_mid_file_without_counting_a_row_twice(small_batches, kind):
    expected = MemoryRegister()
    expected.process(deliver_gaps(expected, kind))
    killed = MemoryRegister()
    event = deliver_gaps(killed, kind)

    dies = DiesOnce(at=3)
    with pytest.raises(Interrupted):
        killed.process(event, dies)
    killed.process(event, dies)

    assert killed.report(PARTNER)["quality"] == expected.report(PARTNER)["quality"]


def test_a_check_only_delivery_is_scored_and_reported_but_stores_nothing():
    # given a register with a partner's portfolio
    register = MemoryRegister()
    register.upload(f"incoming/{PARTNER}/full/m1.csv", csv_bytes(portfolio(30)))
    register.drain()
    before = sorted(register.portfolio.items.items())

    # when the partner checks a new export of other policies, half of them without one
    register.upload(f"incoming/{PARTNER}/check/new-export.csv", csv_bytes(rows_with_known_gaps(40)))
    register.drain()

    # then the register's portfolio is untouched, and the check has a full report
    assert sorted(register.portfolio.items.items()) == before
    report = register.report(PARTNER)
    assert (report["kind"], report["status"]) == ("check", "accepted_with_errors")
    assert (report["rows_total"], report["rows_accepted"], report["rows_rejected"]) == (40, 36, 4)
    assert (report["policies_written"], report["policies_ended"]) == (0, 0)
    assert field(report, "email")["completeness"] == 0.75
    assert register.blobs.objects[f"reports/{PARTNER}/{report['delivery_id']}.csv"]


def test_a_check_only_delivery_that_runs_out_of_time_hands_over_and_ends_identical(small_batches):
    expected = MemoryRegister()
    expected.process(deliver_gaps(expected, "check"))
    interrupted = MemoryRegister()
    event = deliver_gaps(interrupted, "check")

    clock = TimeRunsLow(every=2)
    interrupted.process(event, clock)
    assert interrupted.drain(clock) >= 2

    volatile = {"finished_at"}
    got = {k: v for k, v in interrupted.report(PARTNER).items() if k not in volatile}
    want = {k: v for k, v in expected.report(PARTNER).items() if k not in volatile}
    assert got == want
    assert not interrupted.portfolio.items


def test_a_check_only_file_with_split_policy_rows_reports_them():
    register = MemoryRegister()
    rows = portfolio(3)
    rows.append(dict(rows[0], HUISNR="77"))  # P00000 again, after other policies
    register.upload(f"incoming/{PARTNER}/check/split.csv", csv_bytes(rows))
    register.drain()
    report = register.report(PARTNER)
    assert report["error_counts"] == {"policy_rows_not_adjacent": 1}


def a_partner_export_with_every_kind_of_problem() -> list[dict[str, str]]:
    """120 policies with what real exports hold: rows without e-mail and with a bad phone,
    households, a policy whose rows are split far apart in the file (beyond one batch), twins
    that cannot be told apart, a policy without a policyholder (P00009's partner row, whose
    policyholder row comes two lines later: split too), and an unreadable row."""
    rows = rows_with_known_gaps(120)
    household = [
        dict(rows[5], ENTITEIT="SP", VOORL="B.", GEBDAT="19820202"),
        dict(rows[5], ENTITEIT="KN", VOORL="C.", GEBDAT="20100303"),
    ]
    twins = [dict(rows[7], ENTITEIT="KN", VOORL="D.", GEBDAT="20120404")] * 2
    no_holder = dict(rows[9], ENTITEIT="SP")
    rows[6:7] = [rows[6], *household]
    rows[8:9] = [rows[8], *twins]
    rows[11] = no_holder
    rows.append(dict(rows[1], VOORL="E.", GEBDAT="19900505"))  # P00001 again
    return rows


def export_bytes() -> bytes:
    """The export above as a file, with a line of more fields than the header halfway."""
    lines = csv_bytes(a_partner_export_with_every_kind_of_problem()).splitlines(keepends=True)
    lines.insert(60, b"P09999;092;20240101" + b";" * 20 + b"extra;fields\n")
    return b"".join(lines)


def comparable(report: dict[str, Any]) -> dict[str, Any]:
    """A report without what tells a check from a real delivery by design: which upload it
    was, and what a real delivery writes."""
    volatile = {"delivery_id", "object_key", "kind", "received_at", "finished_at"}
    return {k: v for k, v in report.items() if k not in volatile | {"policies_written"}}


def test_a_check_only_delivery_reports_exactly_what_the_real_delivery_of_the_file_reports(
    small_batches,
):
    # given a partner's export with every kind of problem, policy rows split across batches
    data = export_bytes()

    # when the partner checks it, and (on another register) delivers it for real
    checked, delivered = MemoryRegister(), MemoryRegister()
    checked.upload(f"{PARTNER_PREFIX}/check/export.csv", data)
    delivered.upload(f"{PARTNER_PREFIX}/full/export.csv", data)
    checked.drain()
    delivered.drain()

    # then the check's report is the real one, nothing written aside
    check, real = checked.report(PARTNER), delivered.report(PARTNER)
    assert real["policies_written"] > 100
    assert real["error_counts"]["policy_rows_not_adjacent"] == 2  # P00001 and P00009
    assert {"duplicate_party", "policy_needs_one_policyholder", "too_many_fields"} <= set(
        real["error_counts"]
    )
    assert (check["kind"], check["policies_written"]) == ("check", 0)
    assert comparable(check) == comparable(real)


def test_a_check_only_delivery_that_hands_over_still_finds_a_policys_rows_split_across_it(
    small_batches,
):
    # given an export whose first policy appears again at its end
    data = export_bytes()
    whole = MemoryRegister()
    whole.upload(f"{PARTNER_PREFIX}/check/export.csv", data)
    whole.drain()

    # when the check runs out of time after every other batch and goes on from there
    interrupted = MemoryRegister()
    interrupted.upload(f"{PARTNER_PREFIX}/check/export.csv", data)
    assert interrupted.drain(TimeRunsLow(every=2)) >= 3  # two hand-overs at least

    # then its report is the uninterrupted one: the split rows are found across hand-overs
    report = interrupted.report(PARTNER)
    assert report["error_counts"]["policy_rows_not_adjacent"] == 2
    assert comparable(report) == comparable(whole.report(PARTNER))


def test_a_check_only_delivery_killed_mid_file_ends_with_the_uninterrupted_report(small_batches):
    data = export_bytes()
    whole = MemoryRegister()
    whole.upload(f"{PARTNER_PREFIX}/check/export.csv", data)
    whole.drain()

    killed = MemoryRegister()
    event = killed.upload(f"{PARTNER_PREFIX}/check/export.csv", data, notify=False)
    clock = TimeRunsLow(every=3)
    killed.process(event, clock)  # hands over once
    dies = DiesOnce(at=1)
    resume = killed.queue.messages.pop(0)
    with pytest.raises(Interrupted):
        killed.process(resume, dies)  # dies after its first batch, before any save
    killed.queue.messages.append(resume)
    killed.drain()

    assert comparable(killed.report(PARTNER)) == comparable(whole.report(PARTNER))


def row_by_row_quality(data: bytes) -> dict[str, Any]:
    """The file's field quality counted the plainest way: every row validated and added to the
    tally one at a time, in file order, folded once."""
    reader = open_rows(io.BytesIO(data), filename="export.csv")
    header = map_header(list(reader.format.labels), "full")
    tally, counts = FieldTally(), QualityCounts()
    for item in reader:
        if isinstance(item, RawRow):
            tally.add(validate_row(item.values, header, kind="full", line=item.line, today=TODAY))
    tally.fold_into(counts)
    return summarise(counts).model_dump(mode="json")


@pytest.mark.parametrize("kind", ["check", "full"])
def test_the_reported_field_quality_is_the_row_by_row_count_of_the_file(small_batches, kind):
    # given a partner's export with every kind of problem, and a policy of more rows than a
    # policy may have (refused whole, but every row's fields count)
    rows = a_partner_export_with_every_kind_of_problem()
    rows += [dict(rows[0], PP_NUMMER="P77777", ANAAM=f"Kind{i}") for i in range(104)]
    data = csv_bytes(rows)

    # when it is delivered (the ingest counts each policy's rows when the policy is judged)
    register = MemoryRegister()  # its clock's day is TODAY
    register.upload(f"{PARTNER_PREFIX}/{kind}/export.csv", data)
    register.drain()

    # then its report holds exactly what counting the rows one by one gives
    report = register.report(PARTNER)
    assert report["error_counts"]["too_many_parties"] == 1
    assert report["quality"]["rows"] == len(rows)
    assert report["quality"] == row_by_row_quality(data)


def test_nothing_stays_out_of_the_garbage_collectors_reach_after_a_delivery():
    # given a delivery read and reported
    register = MemoryRegister()
    register.upload(f"{PARTNER_PREFIX}/check/gaps.csv", csv_bytes(rows_with_known_gaps(30)))

    # when it has finished
    register.drain()

    # then what was set aside from full collections while its rows were read is handed back
    assert register.report(PARTNER)["rows_total"] == 30
    assert gc.get_freeze_count() == 0
