"""Bulk writes when DynamoDB does not take everything at once: unprocessed items and throttling
are injected at the client's transport edge; the items themselves go to moto."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.store import aws as aws_clients
from chalicelib.store.table import Table
from tests.support.ingest import all_items
from tests.support.throttling import throttling

pytestmark = pytest.mark.integration


def items(count: int) -> list[dict[str, Any]]:
    return [
        {"pk": f"TEST#{i:03d}", "sk": "ITEM", "type": "test", "n": i, "expires_at": 4102444800}
        for i in range(count)
    ]


def stored() -> list[int]:
    return sorted(int(i["n"]) for i in all_items() if i.get("type") == "test")


def test_items_dynamodb_leaves_unprocessed_are_sent_again_until_all_are_written(aws):
    # given DynamoDB processes only the first half of every batch it receives, twice
    client = aws_clients.bulk_client("dynamodb")
    held_back: list[list[dict[str, Any]]] = []
    to_report: list[list[dict[str, Any]]] = []

    def process_half(params: dict[str, Any], **_: Any) -> None:
        if len(held_back) < 2:
            ((table, requests),) = params["RequestItems"].items()
            half = len(requests) // 2
            params["RequestItems"] = {table: requests[:half]}
            held_back.append(requests[half:])
            to_report.append(requests[half:])

    def report_unprocessed(parsed: dict[str, Any], **_: Any) -> None:
        if to_report:
            parsed["UnprocessedItems"] = {Table().name: to_report.pop()}

    client.meta.events.register("before-parameter-build.dynamodb.BatchWriteItem", process_half)
    client.meta.events.register("after-call.dynamodb.BatchWriteItem", report_unprocessed)
    try:
        # when 60 items are written
        with Table().writer() as writer:
            for item in items(60):
                writer.put(item)
    finally:
        client.meta.events.unregister(
            "before-parameter-build.dynamodb.BatchWriteItem", process_half
        )
        client.meta.events.unregister("after-call.dynamodb.BatchWriteItem", report_unprocessed)

    # then every item is stored exactly once
    assert len(held_back) == 2
    assert stored() == list(range(60))


def test_a_throttled_batch_is_retried_and_nothing_is_lost_or_doubled(aws):
    # given DynamoDB throttles the first two BatchWriteItem calls
    # when 30 items are written
    with throttling("BatchWriteItem", times=2) as throttled, Table().writer() as writer:
        for item in items(30):
            writer.put(item)

    # then the retries stored them all, once
    assert len(throttled) == 2
    assert stored() == list(range(30))


def test_the_last_write_of_a_key_in_a_group_wins(aws):
    with Table().writer() as writer:
        writer.put({"pk": "TEST#1", "sk": "ITEM", "type": "test", "n": 1, "v": "old"})
        writer.put({"pk": "TEST#1", "sk": "ITEM", "type": "test", "n": 1, "v": "new"})
    (item,) = [i for i in all_items() if i.get("type") == "test"]
    assert item["v"] == "new"
