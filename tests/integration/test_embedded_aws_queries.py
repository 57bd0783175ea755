"""The local run's embedded AWS (and the benchmark's backend) answers a Query from the items of
its partition only: moto sorts the whole table for every Query, which made each lookup of the
API cost a large part of a second once the demo was loaded. The answers are moto's own, page
for page: the app's query shapes, randomised over generated tables and writes, on stock moto
and the narrowed one, must be identical."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models.table import Table

from scripts.embedded_aws import EmbeddedAws, queries_read_only_their_partition
from scripts.local_run_process import free_port
from scripts.provision import table_definition

pytestmark = pytest.mark.integration

TABLE = "polisregister-queries"
NOW = int(time.time())
PARTITIONS = [f"POLICY#p{n}" for n in range(6)] + ["LOOKUP#ADDR#1077XL#232", "LANE#p1"]
SORT_PREFIXES = ("A#", "AB#", "B#", "PARTY#", "")


def _table_definition() -> dict[str, Any]:
    """The app's table: infra/'s key schema and both indexes."""
    return table_definition(TABLE)


def _item(rng: random.Random) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": {"S": rng.choice(PARTITIONS)},
        "sk": {"S": f"{rng.choice(SORT_PREFIXES)}{rng.randrange(40):03}"},
        "n": {"N": str(rng.randrange(100))},
    }
    if rng.random() < 0.7:
        item["gsi1pk"] = {"S": f"CLIENT#c{rng.randrange(5)}"}
        item["gsi1sk"] = {"S": f"{rng.choice(SORT_PREFIXES)}{rng.randrange(20):02}"}
    if rng.random() < 0.5:
        item["gsi2pk"] = {"S": f"DELIVERIES#d{rng.randrange(3)}"}
        item["gsi2sk"] = {"S": f"2026-12-{rng.randrange(1, 29):02}#{rng.randrange(9)}"}
    if rng.random() < 0.6:
        item["expires_at"] = {"N": str(NOW + rng.choice((-3600, 3600, 86400)))}
    return item


def _key(item: dict[str, Any]) -> dict[str, Any]:
    return {"pk": item["pk"], "sk": item["sk"]}


def _query(rng: random.Random, written: dict[str, Any]) -> dict[str, Any]:
    """One Query of a shape the app uses (chalicelib/store/table.py), with random values: half
    of them read a partition the last write wrote to (of the table or an index)."""
    index = rng.choice((None, "gsi1", "gsi2"))
    pk_name, sk_name = ("pk", "sk") if index is None else (f"{index}pk", f"{index}sk")
    if pk_name in written and rng.random() < 0.5:
        pk = written[pk_name]
    elif index is None:
        pk = {"S": rng.choice(PARTITIONS)}
    else:
        pk = {"S": rng.choice([f"CLIENT#c{n}" for n in range(6)] + ["DELIVERIES#d0", "X"])}
    values: dict[str, Any] = {":pk": pk}
    condition = f"{pk_name} = :pk"
    shape = rng.random()
    if shape < 0.3:
        condition += f" AND begins_with({sk_name}, :prefix)"
        values[":prefix"] = {"S": rng.choice((*SORT_PREFIXES[:-1], "2026-12-1", "A#0"))}
    elif shape < 0.5:
        low, high = sorted(f"{rng.choice(SORT_PREFIXES)}{rng.randrange(40):02}" for _ in "ab")
        condition += f" AND {sk_name} BETWEEN :low AND :high"
        values |= {":low": {"S": low}, ":high": {"S": high}}
    query: dict[str, Any] = {
        "TableName": TABLE,
        "KeyConditionExpression": condition,
        "ScanIndexForward": rng.random() < 0.5,
    }
    if index is not None:
        query["IndexName"] = index
    elif rng.random() < 0.3:
        query["ConsistentRead"] = True
    if rng.random() < 0.6:
        query["FilterExpression"] = "attribute_not_exists(expires_at) OR expires_at > :now"
        values[":now"] = {"N": str(NOW)}
        if rng.random() < 0.3:
            query["FilterExpression"] = f"({query['FilterExpression']}) AND n > :n"
            values[":n"] = {"N": str(rng.randrange(100))}
    if rng.random() < 0.5:
        query["Limit"] = rng.randrange(1, 6)
    if rng.random() < 0.15:
        query["Select"] = "COUNT"
    query["ExpressionAttributeValues"] = values
    return query


def _pages(dynamodb: Any, query: dict[str, Any]) -> list[Any]:
    pages = []
    while True:
        page = dynamodb.query(**query)
        pages.append(
            (page.get("Items"), page["Count"], page["ScannedCount"], page.get("LastEvaluatedKey"))
        )
        if "LastEvaluatedKey" not in page:
            return pages
        query = {**query, "ExclusiveStartKey": page["LastEvaluatedKey"]}


def _write(dynamodb: Any, rng: random.Random, stored: list[dict[str, Any]]) -> dict[str, Any]:
    """A put, an update (moving an item to another index partition, or out of one), a delete,
    a batch write or a transaction, which may be cancelled; returns the written item's keys."""
    kind = rng.random()
    if kind < 0.3 or not stored:
        item = _item(rng)
        dynamodb.put_item(TableName=TABLE, Item=item)
        stored.append(item)
        return item
    if kind < 0.5:
        key = _key(rng.choice(stored))
        moved = {"gsi1pk": {"S": f"CLIENT#c{rng.randrange(5)}"}, "gsi1sk": {"S": "B#01"}}
        dynamodb.update_item(
            TableName=TABLE,
            Key=key,
            UpdateExpression="SET gsi1pk = :g, gsi1sk = :s REMOVE gsi2pk",
            ExpressionAttributeValues={":g": moved["gsi1pk"], ":s": moved["gsi1sk"]},
        )
        return {**key, **moved}
    if kind < 0.65:
        removed = stored.pop(rng.randrange(len(stored)))
        dynamodb.delete_item(TableName=TABLE, Key=_key(removed))
        return removed
    if kind < 0.8:
        items = {str(_key(i)): i for i in (_item(rng) for _ in range(4))}
        dynamodb.batch_write_item(
            RequestItems={TABLE: [{"PutRequest": {"Item": i}} for i in items.values()]}
        )
        stored.extend(items.values())
        return next(iter(items.values()))
    item = _item(rng)
    check = {
        "ConditionCheck": {
            "TableName": TABLE,
            "Key": _key(rng.choice(stored)),
            "ConditionExpression": rng.choice(("attribute_exists(pk)", "attribute_not_exists(pk)")),
        }
    }
    try:
        dynamodb.transact_write_items(
            TransactItems=[{"Put": {"TableName": TABLE, "Item": item}}, check]
        )
        stored.append(item)
    except ClientError:
        pass
    return item


def _scenario(seed: int, patched: AbstractContextManager[None]) -> list[Any]:
    rng = random.Random(seed)
    answers: list[Any] = []
    with mock_aws(), patched:
        dynamodb = boto3.client("dynamodb", region_name="eu-west-1")
        dynamodb.create_table(**_table_definition())
        stored: list[dict[str, Any]] = []
        for _ in range(40):
            written = _write(dynamodb, rng, stored)
        for _ in range(150):
            if rng.random() < 0.4:
                written = _write(dynamodb, rng, stored)
            else:
                answers.append(_pages(dynamodb, _query(rng, written)))
    return answers


@pytest.mark.parametrize("seed", range(6))
def test_narrowed_queries_answer_what_moto_answers_page_for_page(seed: int) -> None:
    # when the same generated writes and queries, interleaved, run on stock moto and on the
    # narrowed one
    narrowed = _scenario(seed, queries_read_only_their_partition())
    stock = _scenario(seed, nullcontext())

    # then every page of every query is the same (items, counts, where the next page starts),
    # and the queries found items, paged and counted
    assert narrowed == stock
    pages = [page for query in stock for page in query]
    assert sum(count for _, count, _, _ in pages) > 50
    assert any(last is not None for _, _, _, last in pages)
    assert any(items is None for items, _, _, _ in pages)  # Select COUNT


@pytest.fixture
def full_table_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How often moto read all of a table's items."""
    reads: list[int] = []
    moto_all_items = Table.all_items

    def counted(self: Table) -> Any:
        reads.append(1)
        return moto_all_items(self)

    monkeypatch.setattr(Table, "all_items", counted)
    return reads


@pytest.fixture
def embedded_dynamodb() -> Iterator[Any]:
    """A DynamoDB client of the local run's embedded AWS, served in this process."""
    port = free_port()
    server = EmbeddedAws(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield boto3.client(
            "dynamodb",
            region_name="eu-west-1",
            endpoint_url=f"http://127.0.0.1:{port}",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
    finally:
        server.stop()


def test_the_local_runs_embedded_aws_answers_queries_without_reading_the_whole_table(
    full_table_reads: list[int], embedded_dynamodb: Any
) -> None:
    # given the embedded AWS of the local run with the app's table, and items in it
    rng = random.Random(7)
    embedded_dynamodb.create_table(**_table_definition())
    stored: list[dict[str, Any]] = []
    for _ in range(40):
        written = _write(embedded_dynamodb, rng, stored)

    # when the table and both indexes are queried
    answers = [_pages(embedded_dynamodb, _query(rng, written)) for _ in range(20)]

    # then they were answered, and no query read all of the table's items
    assert any(items for query in answers for items, _, _, _ in query)
    assert full_table_reads == []
