"""Batch reads on moto: every type of value reads back as it was written, on every read path, and
keys DynamoDB leaves unprocessed or throttles are read again until every item is found."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import Binary

from chalicelib.store import aws as aws_clients
from chalicelib.store.table import Table
from tests.support.throttling import throttling

pytestmark = pytest.mark.integration

EVERY_TYPE: dict[str, Any] = {
    "type": "test",
    "name": "Désirée ’t Hart",
    "empty": "",
    "expires_at": 4102444800,
    "amount": Decimal("-12.50"),
    "legal_entity": True,
    "nothing": None,
    "modules": ["RP", Decimal(3), [False], {}],
    "parties": [{"client_id": "c_1", "le": True, "ct": ["+31611111111"], "n": None}],
    "tags": {"a", "b"},
    "amounts": {Decimal(1), Decimal("2.5")},
}
BINARY = {"blob": Binary(b"\x00\xffbytes"), "blobs": {Binary(b"a"), Binary(b"\x00")}}


def stored(pk: str, extra: dict[str, Any]) -> dict[str, Any]:
    item = {"pk": pk, "sk": "ITEM", **EVERY_TYPE, **extra}
    Table().put(item)
    return item


@pytest.mark.parametrize("extra", [{}, BINARY], ids=["plain", "binary"])
def test_every_type_of_value_reads_back_as_written_on_every_read_path(aws, extra):
    # given an item with a value of every DynamoDB type (and one with binaries as well)
    item = stored("TEST#types", extra)
    table = Table()

    # when it is read by batch (bulk client, decoded by hand), by the resource and by a query
    found = [
        *table.read_many([("TEST#types", "ITEM")], consistent=True),
        *table.batch_get([("TEST#types", "ITEM")], consistent=True),
        *table.query("TEST#types", consistent=True),
        table.get("TEST#types", "ITEM", consistent=True),
    ]

    # then each is the item written, types and all
    assert len(found) == 4
    for read in found:
        assert read == item
        # (a number is a Decimal, as boto3 gives it)
        assert {k: type(v) for k, v in read.items()} == {
            k: Decimal if type(v) is int else type(v) for k, v in item.items()
        }


def keys(count: int) -> list[tuple[str, str]]:
    return [(f"TEST#{i:03d}", "ITEM") for i in range(count)]


def seed(count: int) -> None:
    with Table().writer() as writer:
        for i in range(count):
            writer.put({"pk": f"TEST#{i:03d}", "sk": "ITEM", "n": i, "expires_at": 4102444800})


def test_keys_dynamodb_leaves_unprocessed_are_read_again_until_every_item_is_found(aws):
    # given 250 items, and DynamoDB leaves the last 30 keys of the first three batches unread
    seed(250)
    client = aws_clients.bulk_client("dynamodb")
    held_back: list[list[dict[str, Any]]] = []
    to_report: list[list[dict[str, Any]]] = []

    def read_part(params: dict[str, Any], **_: Any) -> None:
        ((table, request),) = params["RequestItems"].items()
        if len(held_back) < 3 and len(request["Keys"]) > 30:
            held_back.append(request["Keys"][-30:])
            to_report.append(request["Keys"][-30:])
            params["RequestItems"] = {table: {**request, "Keys": request["Keys"][:-30]}}

    def report_unprocessed(parsed: dict[str, Any], **_: Any) -> None:
        if to_report:
            parsed["UnprocessedKeys"] = {Table().name: {"Keys": to_report.pop()}}

    client.meta.events.register("before-parameter-build.dynamodb.BatchGetItem", read_part)
    client.meta.events.register("after-call.dynamodb.BatchGetItem", report_unprocessed)
    try:
        # when they are read in batches
        found = Table().read_many(keys(250), consistent=True)
    finally:
        client.meta.events.unregister("before-parameter-build.dynamodb.BatchGetItem", read_part)
        client.meta.events.unregister("after-call.dynamodb.BatchGetItem", report_unprocessed)

    # then keys were held back, and every item was found exactly once
    assert len(held_back) == 3
    assert sorted(int(item["n"]) for item in found) == list(range(250))


@pytest.mark.parametrize("concurrency", [1, 3])
def test_a_throttled_batch_read_is_retried_and_finds_every_item(aws, concurrency):
    # given 250 items, and DynamoDB throttles the first two BatchGetItem requests
    seed(250)
    # when they are read in batches
    with throttling("BatchGetItem", times=2) as throttled:
        found = Table().read_many(keys(250), consistent=True, concurrency=concurrency)

    # then the retries found them all, once
    assert len(throttled) == 2
    assert sorted(int(item["n"]) for item in found) == list(range(250))


def test_a_query_for_some_attributes_reads_only_those_and_still_drops_expired_items(aws):
    # given three items of one partition on the index: one expired, one filtered out
    from boto3.dynamodb.conditions import Attr

    table = Table()
    for sk, expires_at, seq in (("A", 4102444800, "1"), ("B", 1, "1"), ("C", 4102444800, "9")):
        table.put(
            {
                "pk": f"TEST#{sk}",
                "sk": "ITEM",
                "gsi2pk": "TEST#INDEX",
                "gsi2sk": sk,
                "number": sk,
                "seq": seq,
                "parties": [{"name": "a long list of parties"}],
                "expires_at": expires_at,
            }
        )

    # when the index is queried for the numbers of the items whose seq is below 5
    found = list(
        table.query(
            "TEST#INDEX", index="gsi2", filter_condition=Attr("seq").lt("5"), attributes=["number"]
        )
    )

    # then only the live, unfiltered item comes back, with the attribute asked for and its expiry
    assert found == [{"number": "A", "expires_at": 4102444800}]
