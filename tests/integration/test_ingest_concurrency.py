"""Partners in parallel, each partner in order, on moto: the real handler, the lane's
conditional writes, the ingest queue with its dead-letter queue, and concurrent batch writes
that DynamoDB throttles part-way."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import boto3
import botocore.awsrequest
import pytest

from chalicelib.config import get_settings, reset_settings
from chalicelib.store import aws as aws_clients
from chalicelib.store.lanes import DynamoLanes
from tests.support.ingest import (
    FakeContext,
    all_items,
    csv_bytes,
    drain,
    invoke,
    person,
    portfolio,
    report,
    upload,
)

pytestmark = pytest.mark.integration

PARTNER = "demo-volmacht"
OTHER = "demo-verzekeraar"


@pytest.fixture
def queues(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("INGEST_BATCH_ROWS", "25")
    monkeypatch.setenv("INGEST_WAIT_SECONDS", "0")
    reset_settings()
    return aws


def sqs() -> Any:
    return boto3.client("sqs", region_name=get_settings().aws_region)


def visible(queue_url: str) -> list[dict[str, Any]]:
    """The messages now on the queue, received once and left visible (every receive counts
    towards the queue's maxReceiveCount, so only one)."""
    response = sqs().receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=0
    )
    return [m for m in response.get("Messages", []) if "s3:TestEvent" not in m["Body"]]


def take(queue_url: str, matches: Callable[[str], bool]) -> dict[str, Any]:
    """The one message on the queue whose body matches, deleted from the queue."""
    (message,) = [m for m in visible(queue_url) if matches(m["Body"])]
    sqs().delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return message


def about(name: str) -> Callable[[str], bool]:
    return lambda body: name in body


def resume_of(delivery_id: str) -> Callable[[str], bool]:
    return lambda body: json.loads(body).get("resume", {}).get("delivery_id") == delivery_id


class OutOfTimeAfterFirstBatch(FakeContext):
    """Plenty of time when the message starts; too little once the first batch is written."""

    def __init__(self) -> None:
        self.calls = 0
        super().__init__(self._remaining)

    def _remaining(self) -> int:
        self.calls += 1
        return 900_000 if self.calls == 1 else 0


def named(partner: str, name: str) -> dict[str, Any]:
    return next(r for r in report(partner) if r["object_key"].endswith(name))


def delivery_records(partner: str) -> dict[str, dict[str, Any]]:
    return {
        i["object_key"].rsplit("/", 1)[-1]: i
        for i in all_items()
        if i.get("type") == "delivery" and i["partner_id"] == partner
    }


def surnames(partner: str) -> set[str]:
    """The surnames of the partner's current parties (a party whose data_seq is not its
    policy's has left the policy: a stale version, ignored by every reader)."""
    items = all_items()
    policy_seq = {i["pk"]: i["data_seq"] for i in items if i.get("type") == "policy"}
    return {
        i["surname"]
        for i in items
        if i.get("type") == "party"
        and i["partner_id"] == partner
        and i["data_seq"] == policy_seq[i["pk"]]
    }


def test_two_partners_deliveries_interleave_and_both_end_correct(queues):
    # given a large delivery of one partner and a small one of another
    upload(f"incoming/{PARTNER}/full/large.csv", csv_bytes(portfolio(60)))
    upload(f"incoming/{OTHER}/full/small.csv", csv_bytes(portfolio(20, prefix="Q")))
    queue = queues["ingest_queue_url"]

    # when the large one runs out of time part-way, the other partner's runs, then the rest
    first = invoke("ingest", [take(queue, about("large.csv"))], OutOfTimeAfterFirstBatch())
    between = invoke("ingest", [take(queue, about("small.csv"))])
    drain(queue)

    # then the small one did not wait, and both ended complete and correct
    assert first == between == {"batchItemFailures": []}
    large, small = named(PARTNER, "large.csv"), named(OTHER, "small.csv")
    assert (large["status"], large["rows_accepted"]) == ("accepted", 60)
    assert (small["status"], small["rows_accepted"]) == ("accepted", 20)
    assert small["finished_at"] < large["finished_at"]
    policies = [i for i in all_items() if i.get("type") == "policy"]
    assert sorted(p["partner_id"] for p in policies) == [OTHER] * 20 + [PARTNER] * 60


def test_two_deliveries_of_one_partner_arriving_concurrently_in_the_wrong_order_apply_in_order(
    queues, monkeypatch
):
    # given an older and a newer delivery of the same policies, both notifications waiting
    upload(f"incoming/{PARTNER}/full/older.csv", csv_bytes(portfolio(30, prefix="P")))
    newer_rows = [{**row, "ANAAM": "Nieuwer"} for row in portfolio(30, prefix="P")]
    upload(f"incoming/{PARTNER}/full/newer.csv", csv_bytes(newer_rows))
    queue = queues["ingest_queue_url"]
    newer, older = take(queue, about("newer.csv")), take(queue, about("older.csv"))

    # and two workers that both join the partner's lane before either asks for its turn
    both_joined = threading.Barrier(2, timeout=30)
    join = DynamoLanes._join

    def join_together(self: DynamoLanes, *args: Any) -> Any:
        joined = join(self, *args)
        both_joined.wait()
        return joined

    monkeypatch.setattr(DynamoLanes, "_join", join_together)
    results: dict[str, Any] = {}

    def work(name: str, message: dict[str, Any]) -> None:
        results[name] = invoke("ingest", [message])

    # when the newer one is picked up first and both run at the same time
    workers = [
        threading.Thread(target=work, args=("newer", newer)),
        threading.Thread(target=work, args=("older", older)),
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    monkeypatch.setattr(DynamoLanes, "_join", join)
    drain(queue)

    # then neither failed; the older was applied first, then the newer on top of it
    assert results == {"newer": {"batchItemFailures": []}, "older": {"batchItemFailures": []}}
    older_report, newer_report = named(PARTNER, "older.csv"), named(PARTNER, "newer.csv")
    assert (older_report["rows_accepted"], older_report["rows_superseded"]) == (30, 0)
    assert (newer_report["rows_accepted"], newer_report["rows_superseded"]) == (30, 0)
    assert older_report["finished_at"] <= newer_report["finished_at"]
    assert surnames(PARTNER) == {"Nieuwer"}


def test_a_delivery_waiting_for_its_partner_is_neither_failed_nor_dead_lettered(queues):
    # given the partner's first delivery holds its turn (it ran out of time part-way)
    upload(f"incoming/{PARTNER}/full/first.csv", csv_bytes(portfolio(60)))
    upload(
        f"incoming/{PARTNER}/mutation/second.csv",
        csv_bytes([person("P00001", PP_VRWRKCD="1", ANAAM="Later")]),
    )
    queue = queues["ingest_queue_url"]
    invoke("ingest", [take(queue, about("first.csv"))], OutOfTimeAfterFirstBatch())
    first_resume = take(queue, about("resume"))

    # when the second delivery is tried more often than the queue's maxReceiveCount (5)
    message = take(queue, about("second.csv"))
    outcomes = []
    for _ in range(7):
        outcomes.append(invoke("ingest", [message]))
        second_id = delivery_records(PARTNER)["second.csv"]["delivery_id"]
        message = take(queue, resume_of(second_id))
    sqs().send_message(QueueUrl=queue, MessageBody=message["Body"])

    # then every try succeeded as a message, nothing is in the dead-letter queue, and it waits
    assert outcomes == [{"batchItemFailures": []}] * 7
    assert visible(queues["ingest_dlq_url"]) == []
    assert delivery_records(PARTNER)["second.csv"]["status"] == "processing"
    assert "Later" not in surnames(PARTNER)

    # and once the first one is done, the second runs after it
    invoke("ingest", [first_resume])
    drain(queue)
    first, second = named(PARTNER, "first.csv"), named(PARTNER, "second.csv")
    assert (first["status"], second["status"]) == ("accepted", "accepted")
    assert first["finished_at"] <= second["finished_at"]
    assert "Later" in surnames(PARTNER)


class Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Any:
        yield self.data


def test_throttling_and_unprocessed_items_during_concurrent_writes_lose_nothing(queues):
    # given DynamoDB throttles every third BatchWriteItem and leaves items of others unprocessed
    client = aws_clients.bulk_client("dynamodb")
    lock = threading.Lock()
    calls = {"n": 0, "throttled": 0, "held_back": 0}
    held: dict[int, list[dict[str, Any]]] = {}

    def throttle(**_: Any) -> Any:
        with lock:
            calls["n"] += 1
            if calls["n"] % 3:
                return None
            calls["throttled"] += 1
        error = (
            b'{"__type":"com.amazonaws.dynamodb.v20120810#'
            b'ProvisionedThroughputExceededException","message":"slow"}'
        )
        headers = {"Content-Type": "application/x-amz-json-1.0"}
        return botocore.awsrequest.AWSResponse("https://dynamodb", 400, headers, Body(error))

    def hold_back(params: dict[str, Any], **_: Any) -> None:
        ((table, requests),) = params["RequestItems"].items()
        if len(requests) > 4:
            with lock:
                calls["held_back"] += 1
                held[threading.get_ident()] = requests[-3:]
            params["RequestItems"] = {table: requests[:-3]}

    def report_unprocessed(parsed: dict[str, Any], **_: Any) -> None:
        with lock:
            rest = held.pop(threading.get_ident(), None)
        if rest:
            parsed["UnprocessedItems"] = {get_settings().table_name: rest}

    client.meta.events.register("before-parameter-build.dynamodb.BatchWriteItem", hold_back)
    client.meta.events.register("before-send.dynamodb.BatchWriteItem", throttle)
    client.meta.events.register("after-call.dynamodb.BatchWriteItem", report_unprocessed)
    try:
        # when a delivery of 200 policies is ingested with 8 requests in flight at a time
        upload(f"incoming/{PARTNER}/full/throttled.csv", csv_bytes(portfolio(200)))
        drain(queues["ingest_queue_url"])
    finally:
        client.meta.events.unregister("before-parameter-build.dynamodb.BatchWriteItem", hold_back)
        client.meta.events.unregister("before-send.dynamodb.BatchWriteItem", throttle)
        client.meta.events.unregister("after-call.dynamodb.BatchWriteItem", report_unprocessed)

    # then it was throttled and held back often, and the stored register is exactly what an
    # undisturbed run of the same file stores: every policy, party and lookup item, once
    assert calls["throttled"] > 5
    assert calls["held_back"] > 5
    delivery = named(PARTNER, "throttled.csv")
    assert (delivery["status"], delivery["rows_accepted"]) == ("accepted", 200)
    assert visible(queues["ingest_dlq_url"]) == []
    throttled = register_contents(PARTNER)
    upload(f"incoming/{OTHER}/full/calm.csv", csv_bytes(portfolio(200)))
    drain(queues["ingest_queue_url"])
    assert throttled == register_contents(OTHER)
    assert {kind for kind, *_ in throttled} == {"policy", "party", "lookup"}


# What a delivery writes that does not depend on when, by which delivery or for which partner.
WRITTEN_BY = {"data_seq", "seen_seq", "first_seen_seq", "delivery_id", "delivered_at"}
WRITTEN_BY |= {"expires_at", "source_line", "content_hash", "party_traces", "client_id"}


def register_contents(partner: str) -> list[tuple[str, str, str]]:
    """The partner's policy, party and lookup items (sorted, partner id and delivery-specific
    attributes taken out), so two partners' registers of one file compare equal."""
    contents = []
    for item in all_items():
        if item.get("type") not in ("policy", "party", "lookup"):
            continue
        text = json.dumps(item, sort_keys=True, default=str)
        if partner not in text:
            continue
        kept = {k: v for k, v in item.items() if k not in WRITTEN_BY}
        kept_text = json.dumps(kept, sort_keys=True, default=str).replace(partner, "<partner>")
        contents.append(
            (str(item["type"]), str(item["sk"]).replace(partner, "<partner>"), kept_text)
        )
    return sorted(contents)


def test_a_fault_while_leaving_the_lane_does_not_keep_the_partners_next_delivery_waiting(
    queues, monkeypatch
):
    # given leaving the lane fails once (throttled, timed out) after the delivery was marked final
    real_leave = DynamoLanes.leave
    failures = [RuntimeError("ProvisionedThroughputExceededException")]

    def leave_failing_once(self: DynamoLanes, *args: Any, **kwargs: Any) -> None:
        if failures:
            raise failures.pop()
        real_leave(self, *args, **kwargs)

    monkeypatch.setattr(DynamoLanes, "leave", leave_failing_once)
    queue = queues["ingest_queue_url"]
    upload(f"incoming/{PARTNER}/full/first.csv", csv_bytes(portfolio(5)))
    drain(queue)  # its message fails, is retried and found final

    # when the partner's next delivery arrives
    upload(f"incoming/{PARTNER}/full/second.csv", csv_bytes(portfolio(6)))
    drain(queue, max_rounds=20)

    # then both are final, in order
    records = delivery_records(PARTNER)
    assert (records["first.csv"]["status"], records["second.csv"]["status"]) == (
        "accepted",
        "accepted",
    )
    assert failures == []


def test_a_late_older_mutation_does_not_overwrite_a_newer_one_that_had_the_policy_unchanged(
    queues,
):
    # given P1 stored with surname Berg, then two mutations: d2 renames it, d3 (newer) re-sends
    # it exactly as stored (unchanged: not written again)
    queue = queues["ingest_queue_url"]
    upload(f"incoming/{PARTNER}/mutation/d1.csv", csv_bytes([person("P1", PP_VRWRKCD="1")]))
    drain(queue)
    upload(
        f"incoming/{PARTNER}/mutation/d2.csv",
        csv_bytes(
            [
                person("P1", PP_VRWRKCD="1", ANAAM="Older"),
                person("P2", PP_VRWRKCD="1", ANAAM="Tweede"),
            ]
        ),
    )
    upload(f"incoming/{PARTNER}/mutation/d3.csv", csv_bytes([person("P1", PP_VRWRKCD="1")]))
    d2 = take(queue, about("d2.csv"))

    # when d3's notification is processed first and d2's arrives after d3 finished
    invoke("ingest", [take(queue, about("d3.csv"))])
    drain(queue)
    assert named(PARTNER, "d3.csv")["policies_unchanged"] == 1
    invoke("ingest", [d2])
    drain(queue)

    # then the register is what the two in upload order give: d3's P1, and d2's own P2
    older = named(PARTNER, "d2.csv")
    assert (older["status"], older["rows_superseded"], older["policies_written"]) == (
        "accepted",
        1,
        1,
    )
    assert surnames(PARTNER) == {"Berg", "Tweede"}


def test_an_older_delivery_arriving_while_a_newer_one_hands_over_waits_and_never_interleaves(
    queues,
):
    # given the older delivery's notification is late: the newer one starts first, hands over
    upload(f"incoming/{PARTNER}/full/older.csv", csv_bytes(portfolio(60)))
    newer_rows = [{**row, "ANAAM": "Nieuwer"} for row in portfolio(60)]
    upload(f"incoming/{PARTNER}/full/newer.csv", csv_bytes(newer_rows))
    queue = queues["ingest_queue_url"]
    older = take(queue, about("older.csv"))
    invoke("ingest", [take(queue, about("newer.csv"))], OutOfTimeAfterFirstBatch())

    # when the older one's notification arrives mid-way, and the queue is worked off
    invoke("ingest", [older])
    drain(queue, max_rounds=30)

    # then the newer one finished first, without the older one in between (all its rows are
    # superseded: the newer full delivery replaced the portfolio), and its data stands
    records = delivery_records(PARTNER)
    assert (records["older.csv"]["status"], records["newer.csv"]["status"]) == (
        "accepted",
        "accepted",
    )
    older_report, newer_report = named(PARTNER, "older.csv"), named(PARTNER, "newer.csv")
    assert newer_report["finished_at"] <= older_report["finished_at"]
    assert (newer_report["rows_accepted"], older_report["rows_superseded"]) == (60, 60)
    assert surnames(PARTNER) == {"Nieuwer"}


def test_a_delivery_holding_a_lane_item_from_before_done_was_kept_leaves_it_remembered(queues):
    # given a lane item written by the previous version (no `done` map) held by a delivery
    from chalicelib.store import keys
    from chalicelib.store.table import Table

    Table().put(
        {
            "pk": keys.lane_pk(PARTNER),
            "sk": keys.LANE_SK,
            "type": "lane",
            "partner_id": PARTNER,
            "waiting": {"d-old": "s1", "d-next": "s2"},
            "holder": "d-old",
            "lease_until": 1,
            "version": 2,
            "expires_at": 4_000_000_000,
        }
    )

    # when it leaves
    DynamoLanes().leave(PARTNER, "d-old", seq="s1")

    # then the lane is free, the next one waits first, and the lane remembers it finished
    lane = Table().get(keys.lane_pk(PARTNER), keys.LANE_SK, consistent=True)
    assert lane is not None
    assert "holder" not in lane
    assert (lane["waiting"], lane["done"]) == ({"d-next": "s2"}, {"d-old": "s1"})
