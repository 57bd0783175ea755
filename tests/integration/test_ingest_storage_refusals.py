"""A value DynamoDB would refuse, or a refusal we did not foresee, costs the rows of one policy,
never the delivery: it ends within the invocation with a report, the other rows are stored, and
nothing stored before is changed. Throttling is still retried."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from chalicelib.config import get_settings
from chalicelib.store import aws as aws_clients
from chalicelib.store import keys
from tests.support.ingest import (
    all_items,
    csv_bytes,
    drain,
    invoke,
    person,
    receive,
    report,
    upload,
)

pytestmark = pytest.mark.integration

PARTNER = "demo-volmacht"


def _one_invocation(queue_url: str) -> dict[str, Any]:
    """Hand the next message to the ingest function once, and delete it unless it failed."""
    messages = receive(queue_url)
    assert len(messages) == 1
    result = invoke("ingest", messages)
    if not result["batchItemFailures"]:
        sqs = boto3.client("sqs", region_name=get_settings().aws_region)
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=messages[0]["ReceiptHandle"])
    return result


def _delivery_records() -> list[dict[str, Any]]:
    return [i for i in all_items() if i["type"] == "delivery"]


def _refusing_writes(monkeypatch: pytest.MonkeyPatch, *, refused_pk: str, code: str) -> list[str]:
    """Make DynamoDB answer `code` to every BatchWriteItem that holds an item of `refused_pk`,
    as it answers a request with a key or an item beyond its limits."""
    real = aws_clients.bulk_client
    refusals: list[str] = []

    class Refusing:
        def __init__(self, client: Any) -> None:
            self._client = client

        def _refuse_if_held(self, items: list[dict[str, Any]], operation: str) -> None:
            if any(item.get("pk", {}).get("S") == refused_pk for item in items):
                refusals.append(operation)
                raise ClientError({"Error": {"Code": code, "Message": "refused"}}, operation)

        def batch_write_item(self, **kwargs: Any) -> Any:
            for requests in kwargs["RequestItems"].values():
                items = [r.get("PutRequest", {}).get("Item", {}) for r in requests]
                self._refuse_if_held(items, "BatchWriteItem")
            return self._client.batch_write_item(**kwargs)

        def transact_write_items(self, **kwargs: Any) -> Any:
            items = [t.get("Put", {}).get("Item", {}) for t in kwargs["TransactItems"]]
            self._refuse_if_held(items, "TransactWriteItems")
            return self._client.transact_write_items(**kwargs)

        def __getattr__(self, name: str) -> Any:
            return getattr(self._client, name)

    def bulk_client(service: str) -> Any:
        client = real(service)
        return Refusing(client) if service == "dynamodb" else client

    monkeypatch.setattr(aws_clients, "bulk_client", bulk_client)
    return refusals


def test_a_surname_of_3000_characters_rejects_its_row_and_the_rest_of_the_file_is_stored(aws):
    # given a mutation file of three policies, the second with a 3,000-character surname
    drain(aws["ingest_queue_url"])  # the bucket's test event
    rows = [
        person("L1", PP_VRWRKCD="0"),
        person("L2", PP_VRWRKCD="0", ANAAM="A" * 3000),
        person("L3", PP_VRWRKCD="0", HUISNR="3"),
    ]
    upload(f"incoming/{PARTNER}/mutation/long.csv", csv_bytes(rows))

    # when one invocation handles the upload
    handled = _one_invocation(aws["ingest_queue_url"])

    # then the delivery is final with a report: that row rejected with a code, the others stored
    assert handled == {"batchItemFailures": []}
    assert [d["status"] for d in _delivery_records()] == ["accepted_with_errors"]
    result = report(PARTNER)[-1]
    assert result["rows_accepted"] == 2
    assert result["rows_rejected"] == 1
    assert [(e["line"], e["column"], e["code"]) for e in result["errors"]] == [
        (3, "ANAAM", "value_too_long")
    ]
    assert "AAAA" not in str(result)
    stored = {i["policy_number"] for i in all_items() if i["type"] == "policy"}
    assert stored == {"L1", "L3"}


def test_a_policy_dynamodb_refuses_becomes_a_row_error_and_the_delivery_ends_at_once(
    aws, monkeypatch
):
    # given policy V2 is stored from an earlier delivery
    upload(f"incoming/{PARTNER}/mutation/first.csv", csv_bytes([person("V2", PP_VRWRKCD="0")]))
    drain(aws["ingest_queue_url"])
    before = {(i["pk"], i["sk"]): i for i in all_items() if i["type"] != "delivery"}

    # and DynamoDB refuses (ValidationException) any write that holds one of V2's items
    refusals = _refusing_writes(
        monkeypatch, refused_pk=keys.policy_pk(PARTNER, "V2"), code="ValidationException"
    )

    # when a mutation file with V1, a new version of V2 and V3 is delivered
    rows = [
        person("V1", PP_VRWRKCD="0"),
        person("V2", PP_VRWRKCD="0", PLAATS="Amersfoort"),
        person("V2", PP_VRWRKCD="0", ENTITEIT="SP", VOORL="B.", GEBDAT="19820202"),
        person("V3", PP_VRWRKCD="0", HUISNR="3"),
    ]
    upload(f"incoming/{PARTNER}/mutation/second.csv", csv_bytes(rows))
    handled = _one_invocation(aws["ingest_queue_url"])

    # then the delivery ends in that invocation: V2's rows are row errors, V1 and V3 are stored
    assert refusals == ["BatchWriteItem", "TransactWriteItems"]
    assert handled == {"batchItemFailures": []}
    assert receive(aws["ingest_queue_url"]) == []
    result = report(PARTNER)[-1]
    assert result["status"] == "accepted_with_errors"
    assert (result["rows_accepted"], result["rows_rejected"]) == (2, 2)
    assert [(e["line"], e["code"]) for e in result["errors"]] == [
        (3, "storage_refused"),
        (4, "storage_refused"),
    ]
    stored = {i["policy_number"] for i in all_items() if i["type"] == "policy"}
    assert stored == {"V1", "V2", "V3"}

    # and V2 is exactly as the earlier delivery left it
    after = {(i["pk"], i["sk"]): i for i in all_items() if i["type"] != "delivery"}
    v2 = {k: v for k, v in after.items() if v.get("policy_number") == "V2"}
    assert v2 == {k: v for k, v in before.items() if v.get("policy_number") == "V2"}


def test_a_delivery_whose_record_dynamodb_refuses_is_rejected_with_a_report(aws, monkeypatch):
    # given DynamoDB refuses every checkpoint of the delivery record (a request it cannot take)
    table_name = get_settings().table_name
    real = aws_clients.resource
    refusals: list[str] = []

    class RefusingTable:
        def __init__(self, table: Any) -> None:
            self._table = table

        def update_item(self, **kwargs: Any) -> Any:
            expression = kwargs.get("UpdateExpression", "")
            if expression == "SET progress = :progress":
                refusals.append(expression)
                raise ClientError(
                    {"Error": {"Code": "ValidationException", "Message": "refused"}}, "UpdateItem"
                )
            return self._table.update_item(**kwargs)

        def __getattr__(self, name: str) -> Any:
            return getattr(self._table, name)

    class RefusingResource:
        def __init__(self, resource: Any) -> None:
            self._resource = resource

        def Table(self, name: str) -> Any:
            table = self._resource.Table(name)
            return RefusingTable(table) if name == table_name else table

        def __getattr__(self, name: str) -> Any:
            return getattr(self._resource, name)

    def resource(service: str) -> Any:
        found = real(service)
        return RefusingResource(found) if service == "dynamodb" else found

    monkeypatch.setattr(aws_clients, "resource", resource)

    # when a file is delivered
    drain(aws["ingest_queue_url"])  # the bucket's test event
    upload(f"incoming/{PARTNER}/mutation/r.csv", csv_bytes([person("R1", PP_VRWRKCD="0")]))
    handled = _one_invocation(aws["ingest_queue_url"])

    # then the message is not retried and the delivery is rejected with a report saying why
    assert refusals
    assert handled == {"batchItemFailures": []}
    assert [d["status"] for d in _delivery_records()] == ["rejected"]
    result = report(PARTNER)[-1]
    assert result["status"] == "rejected"
    assert result["error_counts"].get("storage_refused") == 1


def test_throttling_is_retried_and_never_becomes_a_row_error(aws, monkeypatch):
    # given DynamoDB throttles every write of T2's items, beyond the SDK's own retries
    drain(aws["ingest_queue_url"])  # the bucket's test event
    refusals = _refusing_writes(
        monkeypatch,
        refused_pk=keys.policy_pk(PARTNER, "T2"),
        code="ProvisionedThroughputExceededException",
    )

    # when a file with T1 and T2 is delivered
    rows = [person("T1", PP_VRWRKCD="0"), person("T2", PP_VRWRKCD="0", HUISNR="2")]
    upload(f"incoming/{PARTNER}/mutation/t.csv", csv_bytes(rows))
    handled = _one_invocation(aws["ingest_queue_url"])

    # then the message is handed back for a retry and the delivery is still processing
    assert refusals
    assert len(handled["batchItemFailures"]) == 1
    assert [d["status"] for d in _delivery_records()] == ["processing"]

    # and once the throttling is over, the retry stores both policies
    monkeypatch.undo()
    drain(aws["ingest_queue_url"])
    result = report(PARTNER)[-1]
    assert (result["status"], result["rows_accepted"]) == ("accepted", 2)


def test_a_row_at_every_length_bound_is_stored(aws):
    # given rows at every length bound, with multi-byte characters where the rules allow them
    rows = [
        person(
            "K" * 30,
            PP_VRWRKCD="0",
            ANAAM="Ⅷ" * 200,
            VOORV="ü" * 50,
            STRAAT="😀" * 200,
            PLAATS="😀" * 100,
            EMAIL="😀" * 240 + "@x.nl",
        )
    ]
    upload(f"incoming/{PARTNER}/mutation/k.csv", csv_bytes(rows))

    # when it is delivered
    drain(aws["ingest_queue_url"])

    # then DynamoDB took every key of it
    assert report(PARTNER)[-1]["status"] == "accepted"
    assert {i["policy_number"] for i in all_items() if i["type"] == "lookup"} == {"K" * 30}
