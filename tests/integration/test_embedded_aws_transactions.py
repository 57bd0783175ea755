"""The local run's embedded AWS (and the benchmark's backend) answers TransactWriteItems without
copying whole tables: moto copies every table a transaction touches once per item, so a bucket
transaction cost seconds once the demo was loaded. The answers must be moto's own: the same
generated transactions (puts, updates, deletes and condition checks; conditions that hold or
fail; two items on one key, too many items, values DynamoDB refuses halfway) on stock moto and
on the patched one give the same answers and leave the same items."""

from __future__ import annotations

import random
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from scripts.embedded_aws import copy_free_transactions
from scripts.provision import table_definition

pytestmark = pytest.mark.integration

TABLE = "polisregister-transactions"
KEYS = [(f"IDENTITY#DOB#19{n:02d}", "IDENTITY") for n in range(12)] + [
    ("ALIAS#c1", "ALIAS"),
    ("ALIAS#c1", "SURVIVOR"),
]


def _key(rng: random.Random) -> dict[str, Any]:
    pk, sk = rng.choice(KEYS)
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _condition(rng: random.Random, op: dict[str, Any]) -> None:
    """A condition of a shape the app uses (store/identity.py), or another, or none."""
    shape = rng.random()
    if shape < 0.25:
        op["ConditionExpression"] = "attribute_not_exists(pk) OR expires_at < :now"
        op["ExpressionAttributeValues"] = {":now": {"N": str(rng.randrange(5))}}
    elif shape < 0.5:
        op["ConditionExpression"] = "version = :version"
        op["ExpressionAttributeValues"] = {":version": {"N": str(rng.randrange(1, 4))}}
    elif shape < 0.6:
        op["ConditionExpression"] = "attribute_exists(pk)"
    if "ConditionExpression" in op and rng.random() < 0.2:
        op["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"


def _operation(rng: random.Random) -> dict[str, Any]:
    kind = rng.random()
    key = _key(rng)
    if kind < 0.5:
        item = {
            **key,
            "version": {"N": str(rng.randrange(1, 4))},
            "expires_at": {"N": str(rng.randrange(5))},
            "traces": {"L": [{"S": "t" * rng.randrange(1, 30)}]},
        }
        refusal = rng.random()
        if refusal < 0.03:
            item["pk"] = {"N": "1"}  # a key of the wrong type: refused when it is written
        elif refusal < 0.05:
            item["traces"] = {"S": "x" * 410_000}  # beyond DynamoDB's item size
        elif refusal < 0.07:
            del item["sk"]  # no sort key
        op: dict[str, Any] = {"TableName": TABLE, "Item": item}
        _condition(rng, op)
        return {"Put": op}
    if kind < 0.7:
        op = {
            "TableName": TABLE,
            "Key": key,
            "UpdateExpression": "SET version = :v ADD hits :one",
            "ExpressionAttributeValues": {
                ":v": {"N": str(rng.randrange(1, 4))},
                ":one": {"N": "1"},
            },
        }
        if rng.random() < 0.4:
            op["ConditionExpression"] = "attribute_exists(pk)"
        return {"Update": op}
    if kind < 0.85:
        op = {"TableName": TABLE, "Key": key}
        _condition(rng, op)
        return {"Delete": op}
    op = {"TableName": TABLE, "Key": key}
    _condition(rng, op)
    op.setdefault("ConditionExpression", "attribute_exists(pk)")
    return {"ConditionCheck": op}


def _transaction(rng: random.Random) -> list[dict[str, Any]]:
    shape = rng.random()
    if shape < 0.03:
        return [_operation(rng) for _ in range(101)]  # too many
    size = rng.randrange(1, 6)
    operations = [_operation(rng) for _ in range(size)]
    if shape < 0.5:
        # distinct keys mostly: moto refuses a transaction with two operations on one key
        by_key: dict[str, dict[str, Any]] = {}
        for operation in operations:
            (op,) = operation.values()
            key = op.get("Key") or {"pk": op["Item"]["pk"], "sk": op["Item"].get("sk")}
            by_key[str(key)] = operation
        operations = list(by_key.values())
    return operations


def _answer(dynamodb: Any, transaction: list[dict[str, Any]]) -> Any:
    try:
        dynamodb.transact_write_items(TransactItems=transaction)
    except ClientError as refused:
        return (
            refused.response["Error"]["Code"],
            refused.response["Error"]["Message"],
            refused.response.get("CancellationReasons"),
        )
    return "written"


def _items(dynamodb: Any) -> list[Any]:
    items = dynamodb.scan(TableName=TABLE, ConsistentRead=True)["Items"]
    return sorted(items, key=lambda item: (item["pk"]["S"], item["sk"]["S"]))


def _scenario(seed: int, patched: AbstractContextManager[None]) -> list[Any]:
    rng = random.Random(seed)
    seen: list[Any] = []
    with mock_aws(), patched:
        dynamodb = boto3.client("dynamodb", region_name="eu-west-1")
        dynamodb.create_table(**table_definition(TABLE))
        for _ in range(120):
            seen.append(_answer(dynamodb, _transaction(rng)))
            seen.append(_items(dynamodb))
    return seen


@pytest.mark.parametrize("seed", range(4))
def test_copy_free_transactions_answer_what_moto_answers_and_leave_the_same_items(seed):
    # when the same generated transactions run on stock moto and on the patched one
    patched = _scenario(seed, copy_free_transactions())
    stock = _scenario(seed, nullcontext())

    # then every answer and the table after every transaction are the same
    assert patched == stock
    # and the scenario wrote, cancelled for a condition, and refused
    answers = stock[::2]
    codes = {answer if answer == "written" else answer[0] for answer in answers}
    assert {"written", "TransactionCanceledException", "ValidationException"} <= codes
    assert any(stock[i] != stock[i + 2] for i in range(1, len(stock) - 2, 2)), "items changed"


@pytest.fixture
def table_copies(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tables moto copied (its way of rolling back a transaction)."""
    import moto.dynamodb.models as moto_models
    from moto.dynamodb.models.table import Table

    copies: list[str] = []
    deepcopy = moto_models.copy.deepcopy

    def counted(value: Any, *args: Any) -> Any:
        if isinstance(value, Table):
            copies.append(value.name)
        return deepcopy(value, *args)

    monkeypatch.setattr(moto_models.copy, "deepcopy", counted)
    return copies


@pytest.mark.parametrize(("patched", "copied"), [(True, 0), (False, 3)])
def test_a_transaction_copies_no_table_on_the_patched_moto(table_copies, patched, copied):
    # given a table and a transaction of three puts, the last one's condition failing
    with mock_aws(), copy_free_transactions() if patched else nullcontext():
        dynamodb = boto3.client("dynamodb", region_name="eu-west-1")
        dynamodb.create_table(**table_definition(TABLE))
        puts = [
            {"Put": {"TableName": TABLE, "Item": {"pk": {"S": f"P#{n}"}, "sk": {"S": "S"}}}}
            for n in range(3)
        ]
        puts[2]["Put"]["ConditionExpression"] = "attribute_exists(pk)"
        # when it is sent, then it is cancelled and nothing of it is written
        assert _answer(dynamodb, puts)[0] == "TransactionCanceledException"
        assert _items(dynamodb) == []
    # and stock moto copied the table for every item; the patched one none
    assert len(table_copies) == copied
