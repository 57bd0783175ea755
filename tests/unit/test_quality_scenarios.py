"""Field quality and check-only deliveries through the real ingest service on in-memory stores."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.config import reset_settings
from tests.support.ingest import csv_bytes, portfolio
from tests.support.memory import MemoryRegister
from tests.unit.test_ingest_scenarios import DiesOnce, Interrupted, TimeRunsLow

pytestmark = pytest.mark.unit

PARTNER = "demo-volmacht"


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
