"""A partner uploads a corrected export under the same name while its first delivery is still
half-way (handed over to a follow-up invocation): the first delivery reads on in its OWN upload
(the S3 version its event names), not in the later file at the first one's byte offset."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from chalicelib.config import get_settings, reset_settings
from tests.support.ingest import (
    FakeContext,
    all_items,
    csv_bytes,
    drain,
    invoke,
    portfolio,
    receive,
    report,
)

pytestmark = pytest.mark.integration

PARTNER = "demo-volmacht"
KEY = f"incoming/{PARTNER}/full/portfolio.csv"


def export(street: str) -> bytes:
    return csv_bytes([{**row, "STRAAT": street} for row in portfolio(100)])


def upload_versioned(data: bytes) -> str:
    settings = get_settings()
    answer = boto3.client("s3", region_name=settings.aws_region).put_object(
        Bucket=settings.bucket_name, Key=KEY, Body=data
    )
    return str(answer["VersionId"])


def as_s3_sends_it(message: dict[str, Any], version_id: str) -> dict[str, Any]:
    """The bucket's notification as S3 sends it for a versioned bucket: with the object's
    versionId (moto leaves it out)."""
    body = json.loads(message["Body"])
    for record in body.get("Records", []):
        record["s3"]["object"]["versionId"] = version_id
    return {**message, "Body": json.dumps(body)}


def runs_short_after_the_start() -> Callable[[], int]:
    """Time enough to start the message, then too little to go on after a batch."""
    asked: list[int] = []

    def remaining_ms() -> int:
        asked.append(1)
        return 900_000 if len(asked) == 1 else 1_000

    return remaining_ms


def invoke_and_delete(queue: str, message: dict[str, Any], context: Any = None) -> None:
    result = invoke("ingest", [message], context)
    assert not result.get("batchItemFailures"), result
    boto3.client("sqs", region_name=get_settings().aws_region).delete_message(
        QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"]
    )


def test_a_half_way_delivery_reads_on_in_its_own_upload_not_a_later_one_of_the_same_name(
    aws: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INGEST_BATCH_ROWS", "25")
    reset_settings()
    queue = aws["ingest_queue_url"]
    drain(queue)  # the bucket's test notification
    # given a full delivery that hands over after its first batch (its time runs short)
    first_version = upload_versioned(export("Burgemeester van Walsum-Steenbergenlaan"))
    [created] = receive(queue)
    invoke_and_delete(
        queue, as_s3_sends_it(created, first_version), FakeContext(runs_short_after_the_start())
    )
    [handed_over] = [i for i in all_items() if i["type"] == "delivery"]
    assert handed_over["status"] == "processing"

    # when the partner uploads a corrected export under the same name (shorter lines) before
    # the first delivery goes on
    second_version = upload_versioned(export("Dorpsstraat"))
    for message in receive(queue, max_messages=10):
        invoke_and_delete(queue, as_s3_sends_it(message, second_version))
    drain(queue)

    # then the first delivery read its own file to the end: every row, none rejected
    first, second = report(PARTNER)
    assert (first["rows_total"], first["rows_rejected"], first["status"]) == (100, 0, "accepted")
    assert (second["rows_total"], second["rows_rejected"]) == (100, 0)
    # and no policy both files hold was ended
    policies = [i for i in all_items() if i["type"] == "policy"]
    assert len(policies) == 100
    assert {p["status"] for p in policies} == {"active"}
