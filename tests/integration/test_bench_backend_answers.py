"""The storm backend's lean answers (bench.backend.item_answers_as_they_are): every DynamoDB
item answer the store's requests get is the JSON moto's own serialiser makes of it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from boto3.dynamodb.conditions import Attr
from moto.core.responses import ActionResult

from bench.backend import ITEM_OPERATIONS, item_answers_as_they_are
from chalicelib.errors import ConditionFailed
from chalicelib.store.table import Table

pytestmark = pytest.mark.integration


def test_every_item_answer_is_the_json_moto_serialises(aws, monkeypatch):
    # given moto answering every request both ways, its serialiser's and the lean one
    original = ActionResult.execute_result
    lean = item_answers_as_they_are(original)
    compared: dict[str, int] = {}
    different: list[str] = []

    def both(self: Any, context: Any) -> Any:
        serialised = original(self, context)
        answer = lean(self, context)
        name = context.operation_model.name
        if name in ITEM_OPERATIONS:
            compared[name] = compared.get(name, 0) + 1
            same = (
                answer[0] == serialised[0]
                and answer[1]["Content-Type"] == serialised[1]["Content-Type"]
                and json.loads(answer[2]) == json.loads(serialised[2])
            )
            if not same:
                different.append(f"{name}: {answer} != {serialised}")
        return answer

    monkeypatch.setattr(ActionResult, "execute_result", both)

    # when the store writes and reads items of every kind of value in every way it does
    table = Table()
    item = {
        "pk": "TEST#1",
        "sk": "ITEM",
        "gsi2pk": "TEST#INDEX",
        "gsi2sk": "1",
        "n": 1,
        "amount": "12.50",
        "flags": [True, None, {"a": ["b"]}],
        "tags": {"x", "y"},
        "expires_at": 4102444800,
    }
    table.put(item)
    with table.writer() as writer:
        for i in range(30):
            writer.put({**item, "pk": f"TEST#{i + 2}", "gsi2sk": str(i + 2)})
        writer.delete("TEST#3", "ITEM")
    table.put_all([{**item, "pk": "TEST#T"}])
    table.update(
        "TEST#1", "ITEM", UpdateExpression="SET n = n + :one", ExpressionAttributeValues={":one": 1}
    )
    table.get("TEST#1", "ITEM")
    table.get("TEST#missing", "ITEM")
    table.read_many([(f"TEST#{i}", "ITEM") for i in range(40)], consistent=True)
    table.batch_get([("TEST#1", "ITEM"), ("TEST#missing", "ITEM")])
    list(table.query("TEST#INDEX", index="gsi2", limit=5, attributes=["n"]))
    list(table.query("TEST#INDEX", index="gsi2", filter_condition=Attr("n").gt(100)))
    table.delete("TEST#2", "ITEM")
    with pytest.raises(ConditionFailed):
        table.put_all([{**item, "pk": "TEST#T"}], conditions=[("attribute_not_exists(pk)", {})])

    # then moto answered every one of them the same both ways
    assert different == []
    assert set(compared) == ITEM_OPERATIONS
