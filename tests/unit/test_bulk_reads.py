"""Item answers read cheaply: a value decoded by hand is what boto3's TypeDeserializer gives, and
an answer taken as its JSON body is what botocore's parser would have made of it (the transport
is stubbed: nothing leaves the process)."""

from __future__ import annotations

import decimal
import json
from decimal import Decimal
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import Binary, TypeDeserializer
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from chalicelib.store import aws
from chalicelib.store.table import item_from_wire, value_from_wire

pytestmark = pytest.mark.unit

# Every type of DynamoDB value, as botocore hands them over (binaries as bytes).
WIRE_VALUES: list[dict[str, Any]] = [
    {"S": "Désirée ’t Hart"},
    {"S": ""},
    {"N": "1859343868"},
    {"N": "-12.50"},
    {"N": "0.000000000000000000000000000000000001"},
    {"N": "12345678901234567890123456789012345678"},
    {"BOOL": True},
    {"BOOL": False},
    {"NULL": True},
    {"L": []},
    {"L": [{"S": "RP"}, {"N": "3"}, {"L": [{"BOOL": False}]}, {"M": {}}]},
    {"M": {}},
    {"M": {"client_id": {"S": "c_1"}, "ct": {"L": [{"S": "+31611111111"}]}, "n": {"NULL": True}}},
    {"SS": ["a", "b"]},
    {"NS": ["1", "2.5", "-3"]},
    {"B": b"\x00\xffbytes"},
    {"BS": [b"a", b"\x00"]},
]


def same_kind(a: Any, b: Any) -> bool:
    """Equal values of the same types all the way down (1 == Decimal(1) is not enough)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_kind(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same_kind(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, Decimal):
        return str(a) == str(b)
    return bool(a == b)


@pytest.mark.parametrize("wire", WIRE_VALUES, ids=lambda w: next(iter(w)))
def test_a_value_decoded_by_hand_is_what_boto3_deserialises(wire):
    assert same_kind(value_from_wire(wire), TypeDeserializer().deserialize(wire))


def test_an_item_decoded_by_hand_is_what_boto3_deserialises():
    wire = {f"a{i}": value for i, value in enumerate(WIRE_VALUES)}
    deserialise = TypeDeserializer().deserialize
    assert same_kind(item_from_wire(wire), {k: deserialise(v) for k, v in wire.items()})


@pytest.mark.parametrize("number", ["1234567890123456789012345678901234567890", "1e-200"])
def test_a_number_beyond_dynamodbs_range_is_refused_as_boto3_refuses_it(number):
    with pytest.raises(decimal.DecimalException) as boto3s:
        TypeDeserializer().deserialize({"N": number})
    with pytest.raises(type(boto3s.value)):
        value_from_wire({"N": number})


def test_a_value_of_no_dynamodb_type_is_refused():
    with pytest.raises(TypeError):
        value_from_wire({"X": "1"})


def answered(client: Any, call: str, body: bytes, status: int = 200, **params: Any) -> Any:
    """What `client`'s `call` returns when DynamoDB answers `body`, ResponseMetadata left out."""

    def answer(request: Any, **_: Any) -> AWSResponse:
        class Raw:
            def stream(self, **_: Any) -> Any:
                yield body

        headers = {"Content-Type": "application/x-amz-json-1.0"}
        return AWSResponse(request.url, status, headers, Raw())

    client.meta.events.register("before-send.dynamodb", answer)
    try:
        result = getattr(client, call)(**params)
    finally:
        client.meta.events.unregister("before-send.dynamodb", answer)
    result.pop("ResponseMetadata", None)
    return result


ITEM = {
    "pk": {"S": "POLICY#p#1"},
    "sk": {"S": "POLICY"},
    "expires_at": {"N": "1859343868"},
    "parties": {"L": [{"M": {"client_id": {"S": "c_1"}, "le": {"BOOL": True}}}]},
    "nothing": {"NULL": True},
    "tags": {"SS": ["a", "b"]},
    "amounts": {"NS": ["1", "2.5"]},
}
BINARY_ITEM = {**ITEM, "blob": {"B": "AP9ieXRlcw=="}, "blobs": {"BS": ["YQ==", "AA=="]}}
KEY = {"pk": {"S": "POLICY#p#1"}, "sk": {"S": "POLICY"}}
PYTHON_KEY = {"pk": "POLICY#p#1", "sk": "POLICY"}
# Per call: its parameters for a low-level client, for a resource's client, and the answer.
ANSWERS = {
    "batch_get_item": (
        {"RequestItems": {"t": {"Keys": [KEY]}}},
        {"RequestItems": {"t": {"Keys": [PYTHON_KEY]}}},
        lambda item: {
            "Responses": {"t": [item, item]},
            "UnprocessedKeys": {"t": {"Keys": [KEY]}},
            "ConsumedCapacity": [{"TableName": "t", "CapacityUnits": 2.0}],
        },
    ),
    "query": (
        {"TableName": "t", "KeyConditionExpression": "pk = :p"},
        {"TableName": "t", "KeyConditionExpression": "pk = :p"},
        lambda item: {"Items": [item], "Count": 1, "ScannedCount": 3, "LastEvaluatedKey": KEY},
    ),
    "get_item": (
        {"TableName": "t", "Key": KEY},
        {"TableName": "t", "Key": PYTHON_KEY},
        lambda item: {"Item": item},
    ),
}


@pytest.mark.parametrize("item", [ITEM, BINARY_ITEM], ids=["plain", "binary"])
@pytest.mark.parametrize("call", sorted(ANSWERS))
def test_an_item_answer_is_what_botocore_would_have_parsed(call, item):
    # given the same answer to the same request, for the store's clients and plain ones
    params, python_params, document = ANSWERS[call]
    body = json.dumps(document(item)).encode()
    plain = boto3.client("dynamodb", region_name="eu-west-1")
    plain_resource = boto3.resource("dynamodb", region_name="eu-west-1")

    # then the low-level clients return the same, and so do the resources' (deserialised)
    expected = answered(plain, call, body, **params)
    assert answered(aws.bulk_client("dynamodb"), call, body, **params) == expected
    assert answered(aws.resource("dynamodb").meta.client, call, body, **python_params) == (
        answered(plain_resource.meta.client, call, body, **python_params)
    )


def test_the_binary_values_of_an_answer_reach_the_caller_as_bytes():
    params, _, document = ANSWERS["get_item"]
    body = json.dumps(document(BINARY_ITEM)).encode()
    item = answered(aws.bulk_client("dynamodb"), "get_item", body, **params)["Item"]
    assert item["blob"] == {"B": b"\x00\xffbytes"}
    assert item_from_wire(item)["blob"] == Binary(b"\x00\xffbytes")


def test_an_error_answer_raises_what_botocore_raises():
    # given DynamoDB refuses the request (not retried)
    error = b'{"__type":"com.amazon.coral.validate#ValidationException","message":"bad key"}'
    params, _, _ = ANSWERS["query"]

    # then the store's client raises the same error as a plain one
    raised = []
    for client in (boto3.client("dynamodb", region_name="eu-west-1"), aws.bulk_client("dynamodb")):
        with pytest.raises(ClientError) as caught:
            answered(client, "query", error, status=400, **params)
        raised.append((caught.value.response["Error"], str(caught.value)))
    assert raised[0] == raised[1]
    assert raised[0][0]["Code"] == "ValidationException"


def test_botocore_does_not_walk_the_values_of_an_item_answer(monkeypatch):
    # given botocore's parser, counting the attribute values it walks
    from botocore.parsers import ResponseParser

    walked: list[str] = []
    parse_shape = ResponseParser._parse_shape

    def counting(self: Any, shape: Any, node: Any) -> Any:
        if shape.name == "AttributeValue":
            walked.append(shape.name)
        return parse_shape(self, shape, node)

    monkeypatch.setattr(ResponseParser, "_parse_shape", counting)
    params, _, document = ANSWERS["query"]
    body = json.dumps(document(ITEM)).encode()

    # when the store's client and a plain one read the same answer
    answered(aws.bulk_client("dynamodb"), "query", body, **params)
    by_the_store = len(walked)
    answered(boto3.client("dynamodb", region_name="eu-west-1"), "query", body, **params)

    # then only the plain one walked its values
    assert by_the_store == 0
    assert len(walked) > 0


def test_an_answer_that_is_not_json_is_left_to_botocore():
    # given a proxy's error page where DynamoDB's answer should be
    body = b"<html>bad gateway</html>"
    params, _, _ = ANSWERS["query"]

    # then the store's client makes of it what a plain one makes of it
    plain = answered(boto3.client("dynamodb", region_name="eu-west-1"), "query", body, **params)
    assert answered(aws.bulk_client("dynamodb"), "query", body, **params) == plain
