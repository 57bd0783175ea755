"""The register's day is Amsterdam's: a partner's nightly export uploaded between midnight and
02:00 Dutch time (22:00-24:00 UTC in summer) is delivered on the Dutch date. A cancellation
without PP_EXPDAT ends on it, a full delivery removes missing policies on it, and a child born
on it is not born in the future (the UTC date of the upload is the day before)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.models.coverage import CoverageParams, CoverageQuestion
from chalicelib.rules.coverage import assess
from chalicelib.services.coverage import policy_facts
from tests.support.ingest import csv_bytes, portfolio
from tests.support.memory import FakeClock, MemoryRegister

pytestmark = pytest.mark.unit

PARTNER = "demo-volmacht"
# 00:30 on 2 July 2026 in Amsterdam (CEST, UTC+2)
NIGHT_UPLOAD = datetime(2026, 7, 1, 22, 29, 0, tzinfo=UTC)
DUTCH_DELIVERY_DAY = "2026-07-02"


def test_a_cancellation_uploaded_after_dutch_midnight_ends_on_the_dutch_delivery_day():
    # given a policy, and the partner's nightly mutation file cancelling it (no PP_EXPDAT),
    # uploaded at 00:30 Dutch time
    register = MemoryRegister(clock=FakeClock(datetime(2026, 6, 1, 9, 0, tzinfo=UTC)))
    rows = portfolio(2)
    register.upload(f"incoming/{PARTNER}/full/portfolio.csv", csv_bytes(rows))
    register.drain()
    register.clock.moment = NIGHT_UPLOAD
    register.upload(
        f"incoming/{PARTNER}/mutation/nightly.csv", csv_bytes([dict(rows[1], PP_VRWRKCD="2")])
    )
    register.drain()

    # then its cover ends on the day it was delivered in the Netherlands
    policy = register.policy("P00001", PARTNER)
    assert policy is not None
    assert policy["status"] == "cancelled"
    assert policy["ended_on"] == DUTCH_DELIVERY_DAY, policy["ended_on"]

    # and an event on that day is covered (the end date is the last day of cover)
    facts = policy_facts(policy, [])
    question = CoverageQuestion(
        event_date=datetime.fromisoformat(DUTCH_DELIVERY_DAY).date(),
        reported_date=datetime.fromisoformat(DUTCH_DELIVERY_DAY).date(),
        legal_area="consument",
    )
    assessment = assess(facts, question, None, CoverageParams(waiting_period_months=0))
    assert assessment.decision == "covered", [(r.rule, r.outcome) for r in assessment.reasons]


def test_a_full_delivery_uploaded_after_dutch_midnight_removes_on_the_dutch_delivery_day():
    # given ten policies, and a nightly full delivery without one of them at 00:30 Dutch time
    register = MemoryRegister(clock=FakeClock(datetime(2026, 6, 1, 9, 0, tzinfo=UTC)))
    register.upload(f"incoming/{PARTNER}/full/june.csv", csv_bytes(portfolio(10)))
    register.drain()
    register.clock.moment = NIGHT_UPLOAD
    register.upload(f"incoming/{PARTNER}/full/july.csv", csv_bytes(portfolio(9)))
    register.drain()

    # then the missing policy is removed with the Dutch delivery date
    policy = register.policy("P00009", PARTNER)
    assert policy is not None
    assert policy["status"] == "removed_from_portfolio"
    assert policy["ended_on"] == DUTCH_DELIVERY_DAY, policy["ended_on"]


def test_a_child_born_on_the_dutch_delivery_day_is_not_born_in_the_future():
    # given the nightly file of 2 July (00:30 Dutch time) adding a child born on 2 July
    register = MemoryRegister(clock=FakeClock(NIGHT_UPLOAD))
    parent = portfolio(1)[0]
    child = dict(parent, ENTITEIT="KN", VOORL="B.", GEBDAT=DUTCH_DELIVERY_DAY.replace("-", ""))
    register.upload(f"incoming/{PARTNER}/full/nightly.csv", csv_bytes([parent, child]))

    # when it is delivered
    register.drain()

    # then both rows are stored (the register's today is Amsterdam's)
    report = register.report(PARTNER)
    assert report["error_counts"] == {}, report["error_counts"]
    assert report["rows_accepted"] == 2
