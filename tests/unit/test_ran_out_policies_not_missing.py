"""A full delivery that leaves out policies which ran out by their own end date (PP_EXPDAT
before the delivery day) is not held for review: those policies need no ending and are no sign
of a truncated file. They are neither counted as missing nor marked removed_from_portfolio; a
policy still running that is left out is counted and ended as before."""

from __future__ import annotations

import pytest

from tests.support.ingest import csv_bytes, portfolio
from tests.support.memory import MemoryRegister

pytestmark = pytest.mark.unit

PARTNER = "demo-volmacht"


def delivered_with_30_ran_out() -> tuple[MemoryRegister, list[dict[str, str]]]:
    """A register holding a portfolio of 100, of which the last 30 ended on 31 December 2025
    (PP_EXPDAT); the register's clock: 2 March 2026."""
    register = MemoryRegister()
    rows = portfolio(100)
    for row in rows[70:]:
        row["PP_EXPDAT"] = "20251231"
    register.upload(f"incoming/{PARTNER}/full/february.csv", csv_bytes(rows))
    register.drain()
    return register, rows


def deliver_a_month_later(register: MemoryRegister, rows: list[dict[str, str]]) -> None:
    register.clock.advance(days=30)
    register.upload(f"incoming/{PARTNER}/full/march.csv", csv_bytes(rows))
    register.drain()


def test_dropping_policies_that_already_ended_does_not_hold_the_delivery():
    # given a portfolio of 100, of which 30 ended on 31 December 2025 (PP_EXPDAT)
    register, rows = delivered_with_30_ran_out()

    # when the next month's file no longer lists the ended ones
    deliver_a_month_later(register, rows[:70])

    # then it is not held: nothing active is missing
    report = register.report(PARTNER)
    assert report["status"] == "accepted", (report["status"], report["warnings"])
    assert report["policies_pending_removal"] == 0
    assert report["policies_ended"] == 0
    # and the ran-out policies keep their own end, not the delivery day's removal
    ran_out = register.policy("P00075", PARTNER)
    assert ran_out is not None
    assert ran_out["status"] == "active"
    assert ran_out["end_date"] == "2025-12-31"


def test_a_running_policy_left_out_beside_ran_out_ones_is_still_ended():
    # given 100 policies, 30 of which ran out on 31 December 2025
    register, rows = delivered_with_30_ran_out()

    # when the next file leaves out the ran-out ones and one policy still running
    deliver_a_month_later(register, rows[:69])

    # then only the running one is ended, and the delivery is not held (1 of 70)
    report = register.report(PARTNER)
    assert report["status"] == "accepted"
    assert report["policies_ended"] == 1
    ended = register.policy(rows[69]["PP_NUMMER"], PARTNER)
    assert ended is not None
    assert ended["status"] == "removed_from_portfolio"
