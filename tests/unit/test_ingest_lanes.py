"""Partners in parallel, each partner in order: the partner's lane on in-memory stores. (The
lane's conditional writes, concurrent workers and the queue's dead-letter queue are in
tests/integration/test_ingest_concurrency.py.)"""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.config import get_settings, reset_settings
from tests.support.ingest import csv_bytes, person, portfolio
from tests.support.memory import MemoryRegister

pytestmark = pytest.mark.unit

PARTNER = "demo-volmacht"
OTHER = "demo-verzekeraar"


@pytest.fixture
def register(monkeypatch: pytest.MonkeyPatch) -> MemoryRegister:
    monkeypatch.setenv("INGEST_BATCH_ROWS", "25")
    reset_settings()
    return MemoryRegister()


def out_of_time_after_first_batch() -> Any:
    """Plenty of time when the message starts, too little once the first batch is written."""
    calls = {"n": 0}

    def remaining() -> int:
        calls["n"] += 1
        return 900_000 if calls["n"] == 1 else 0

    return remaining


def report_of(register: MemoryRegister, partner: str, name: str) -> dict[str, Any]:
    return next(r for r in register.reports(partner) if r["object_key"].endswith(name))


def pending(register: MemoryRegister) -> list[dict[str, Any]]:
    return [json.loads(body) for body in register.queue.messages]


def test_a_delivery_whose_partner_is_busy_waits_on_the_queue_and_runs_after_it(register):
    # given a first delivery of the partner that ran out of time part-way (it keeps its turn)
    first = register.upload(f"incoming/{PARTNER}/full/first.csv", csv_bytes(portfolio(60)))
    register.queue.messages.remove(first)
    register.process(first, out_of_time_after_first_batch())
    assert [m.get("resume") is not None for m in pending(register)] == [True]

    # when the partner's next delivery arrives
    second = register.upload(
        f"incoming/{PARTNER}/mutation/second.csv", csv_bytes([person("P00001", PP_VRWRKCD="1")])
    )
    register.queue.messages.remove(second)
    register.process(second)

    # then it wrote nothing, is still processing, and went back on the queue with the delay
    waiting = [
        r for r in register.deliveries.records.values() if r.object_key.endswith("second.csv")
    ]
    assert [r.status for r in waiting] == ["processing"]
    assert waiting[0].progress.rows_total == 0
    assert register.queue.delays[-1] == get_settings().ingest_wait_seconds
    assert pending(register)[-1] == {"resume": {"delivery_id": waiting[0].delivery_id}}

    # and once the queue is drained both are done, the first before the second
    register.drain()
    first_report = report_of(register, PARTNER, "first.csv")
    second_report = report_of(register, PARTNER, "second.csv")
    assert (first_report["status"], first_report["rows_accepted"]) == ("accepted", 60)
    assert (second_report["status"], second_report["rows_accepted"]) == ("accepted", 1)
    assert first_report["finished_at"] <= second_report["finished_at"]
    assert register.lanes.lanes[PARTNER]["waiting"] == {}


def test_another_partners_delivery_does_not_wait(register):
    # given a delivery of one partner that holds its turn (ran out of time part-way)
    first = register.upload(f"incoming/{PARTNER}/full/first.csv", csv_bytes(portfolio(60)))
    register.queue.messages.remove(first)
    register.process(first, out_of_time_after_first_batch())

    # when another partner's delivery arrives
    other = register.upload(f"incoming/{OTHER}/full/other.csv", csv_bytes(portfolio(10)))
    register.queue.messages.remove(other)
    register.process(other)

    # then it is written at once, while the first partner's delivery is still processing
    assert report_of(register, OTHER, "other.csv")["rows_accepted"] == 10
    assert register.reports(PARTNER) == []


def test_an_older_delivery_whose_notification_comes_after_a_newer_full_one_is_superseded(
    register,
):
    # given an older mutation that adds a policy and a newer full delivery without it
    older = register.upload(
        f"incoming/{PARTNER}/mutation/older.csv",
        csv_bytes(
            [person("P00001", PP_VRWRKCD="1", ANAAM="Ouder"), person("NEW1", PP_VRWRKCD="1")]
        ),
        notify=False,
    )
    newer = register.upload(
        f"incoming/{PARTNER}/full/newer.csv", csv_bytes(portfolio(3)), notify=False
    )

    # when the newer one is processed first (its notification came first) and then the older
    register.process(newer)
    register.process(older)

    # then the older one changes nothing: the newer full delivery replaced the portfolio
    older_report = report_of(register, PARTNER, "older.csv")
    assert (older_report["rows_superseded"], older_report["rows_accepted"]) == (2, 0)
    assert register.policy("NEW1", PARTNER) is None
    assert (
        register.lanes.lanes[PARTNER]["full_seq"] == register.policy("P00001", PARTNER)["data_seq"]
    )


def test_a_delivery_that_failed_keeps_its_turn_until_its_retry_finishes(register, monkeypatch):
    # given the partner's first delivery fails once part-way (an outage)
    first = register.upload(f"incoming/{PARTNER}/full/first.csv", csv_bytes(portfolio(60)))
    register.queue.messages.remove(first)
    calls = {"n": 0}
    write = register.portfolio.write_policies

    def fails_once(policies: Any) -> list[bool]:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("outage")
        return write(policies)

    monkeypatch.setattr(register.portfolio, "write_policies", fails_once)
    with pytest.raises(RuntimeError):
        register.process(first)

    # when the partner's next delivery arrives before the retry, and then the retry comes
    second = register.upload(
        f"incoming/{PARTNER}/mutation/second.csv", csv_bytes([person("P00002", PP_VRWRKCD="1")])
    )
    register.queue.messages.remove(second)
    register.process(second)
    waited = register.reports(PARTNER) == [] and len(register.queue.messages) == 1
    register.queue.messages.append(first)
    register.drain()

    # then the second waited, and ran only after the first had finished
    assert waited
    first_report = report_of(register, PARTNER, "first.csv")
    second_report = report_of(register, PARTNER, "second.csv")
    assert first_report["rows_accepted"] == 60
    assert second_report["rows_accepted"] == 1
    assert first_report["finished_at"] <= second_report["finished_at"]


def test_an_older_full_delivery_arriving_after_a_newer_mutation_does_not_end_what_it_re_sent(
    register,
):
    # given a portfolio of ten policies, then an older full delivery without P00009 and a newer
    # mutation that re-sends P00009 exactly as stored (unchanged: not written)
    rows = [{**row, "PP_VRWRKCD": "1"} for row in portfolio(10)]
    register.upload(f"incoming/{PARTNER}/full/base.csv", csv_bytes(rows))
    register.drain()
    older = register.upload(f"incoming/{PARTNER}/full/older.csv", csv_bytes(rows[:9]), notify=False)
    newer = register.upload(
        f"incoming/{PARTNER}/mutation/newer.csv", csv_bytes(rows[9:]), notify=False
    )

    # when the newer one is processed first and the older one's notification comes after it
    register.process(newer)
    assert report_of(register, PARTNER, "newer.csv")["policies_unchanged"] == 1
    register.process(older)

    # then P00009 is active, as the two in upload order leave it (ended, then delivered again)
    older_report = report_of(register, PARTNER, "older.csv")
    assert (older_report["status"], older_report["policies_ended"]) == ("accepted", 0)
    assert register.policy("P00009", PARTNER)["status"] == "active"


def test_the_lane_remembers_only_the_newest_finished_deliveries_and_refuses_one_older_than_those(
    register, monkeypatch
):
    # given a lane that remembers two finished deliveries, and an old delivery not yet notified
    monkeypatch.setattr("chalicelib.store.lanes.DONE_KEPT", 2)
    old = register.upload(
        f"incoming/{PARTNER}/mutation/old.csv",
        csv_bytes([person("P00001", PP_VRWRKCD="1", ANAAM="Oud")]),
        notify=False,
    )
    # when four newer mutations finish one after the other
    for index in range(4):
        register.upload(
            f"incoming/{PARTNER}/mutation/m{index}.csv",
            csv_bytes([person(f"M{index}", PP_VRWRKCD="1")]),
        )
        register.drain()

    # then the lane lets go of all but the newest two when a delivery takes its turn (the last
    # one is remembered on top when it leaves), and knows the newest one it let go of
    lane = register.lanes.lanes[PARTNER]
    assert len(lane["done"]) == 3
    assert lane["done_floor"] < min(lane["done"].values())

    # and the old delivery, notified now, is rejected with the reason instead of applied
    register.process(old)
    rejected = report_of(register, PARTNER, "old.csv")
    assert rejected["status"] == "rejected"
    assert [e["code"] for e in rejected["errors"]] == ["arrived_too_late"]
    assert register.policy("P00001", PARTNER) is None
