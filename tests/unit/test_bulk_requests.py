"""The bulk writes' requests: items serialised by hand, and sent as they are, carry exactly what
boto3's own serialisation would have sent (the transport is stubbed: nothing leaves the process)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeSerializer
from botocore.awsrequest import AWSResponse

from chalicelib.store import aws
from chalicelib.store.table import wire_item, wire_value

pytestmark = pytest.mark.unit

ITEM: dict[str, Any] = {
    "pk": "POLICY#demo-volmacht#P1",
    "sk": "POLICY",
    "is_legal_entity": False,
    "expires_at": 1_859_343_868,
    "deductible_eur": Decimal("12.50"),
    "modules": ["RP", "VK"],
    "clauses": [],
    "empty": "",
    "nothing": None,
    "parties": [{"client_id": "c_1", "le": True, "hn": "12", "ct": ["+31611111111"]}],
    "tags": {"a", "b"},
    "naam": "Désirée ’t Hart",
}


def test_an_item_serialised_by_hand_is_what_boto3_serialises():
    serialise = TypeSerializer().serialize
    assert wire_item(ITEM) == {name: serialise(value) for name, value in ITEM.items()}


def test_a_float_is_refused_as_boto3_refuses_it():
    with pytest.raises(TypeError):
        wire_value(1.5)


def sent_body(client: Any, call: str, **params: Any) -> Any:
    """The JSON body `client` sends for `call`, answered without a network."""
    bodies: list[Any] = []

    def answer(request: Any, **_: Any) -> AWSResponse:
        bodies.append(json.loads(request.body))

        class Raw:
            def stream(self, **_: Any) -> Any:
                yield b"{}"

        return AWSResponse(request.url, 200, {}, Raw())

    client.meta.events.register("before-send.dynamodb", answer)
    try:
        getattr(client, call)(**params)
    finally:
        client.meta.events.unregister("before-send.dynamodb", answer)
    return bodies[0]


@pytest.mark.parametrize("call", ["batch_write_item", "transact_write_items"])
def test_a_bulk_write_sends_what_botocore_would_have_sent(call):
    # given the same write, once through the bulk client and once through a plain one
    item = wire_item(ITEM)
    params: dict[str, Any] = (
        {"RequestItems": {"t": [{"PutRequest": {"Item": item}}]}}
        if call == "batch_write_item"
        else {
            "TransactItems": [{"Put": {"TableName": "t", "Item": item}}],
            "ClientRequestToken": "token-1",
        }
    )
    plain = boto3.client("dynamodb", region_name="eu-west-1")

    # then both send the same request body
    assert sent_body(aws.bulk_client("dynamodb"), call, **params) == sent_body(
        plain, call, **params
    )


def test_a_binary_value_is_sent_as_botocore_sends_it():
    # given a write with a binary value, which the bulk client cannot send as it is
    params = {"RequestItems": {"t": [{"PutRequest": {"Item": wire_item({**ITEM, "b": b"\x00"})}}]}}
    plain = boto3.client("dynamodb", region_name="eu-west-1")

    # then it takes botocore's way (base64), as a plain client sends it
    sent = sent_body(aws.bulk_client("dynamodb"), "batch_write_item", **params)
    assert sent == sent_body(plain, "batch_write_item", **params)
    assert sent["RequestItems"]["t"][0]["PutRequest"]["Item"]["b"] == {"B": "AA=="}
