"""A delivery killed mid-file on the DynamoDB adapters ends exactly as one that was not: the
lease is released, the retry resumes from the checkpoint. (Running out of time, and a confirm
that hands over, are in tests/unit/test_ingest_scenarios.py.)"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from chalicelib.config import get_settings, reset_settings
from scripts.provision import provision
from tests.support.ingest import (
    FakeContext,
    all_items,
    csv_bytes,
    invoke,
    portfolio,
    receive,
    report,
    upload,
)

pytestmark = pytest.mark.integration

PARTNER = "demo-volmacht"
# (each run reads its own upload of the same bytes: another S3 version)
VOLATILE = {"finished_at", "lease_until", "version_id"}


class Interrupted(Exception):
    """Stands for the Lambda runtime killing the function."""


class DiesOnce(FakeContext):
    """Kills the invocation the `at`-th time it looks at the clock, then behaves."""

    def __init__(self, at: int) -> None:
        self.calls = 0
        self.at = at
        super().__init__(self._remaining)

    def _remaining(self) -> int:
        self.calls += 1
        if self.calls == self.at:
            raise Interrupted
        return 900_000


def snapshot() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    items = []
    for item in all_items():
        kept = {k: v for k, v in item.items() if k not in VOLATILE}
        if "progress" in kept:
            kept["progress"] = {k: v for k, v in kept["progress"].items()}
        items.append(kept)
    items.sort(key=lambda i: (i["pk"], i["sk"]))
    document = {k: v for k, v in report(PARTNER)[-1].items() if k not in VOLATILE}
    return items, document


def fresh_table() -> None:
    """An empty table, and the upload back in the bucket (the finished run removed it): the same
    bytes, so the same ETag the event names."""
    settings = get_settings()
    boto3.client("dynamodb", region_name=settings.aws_region).delete_table(
        TableName=settings.table_name
    )
    provision(
        None, settings.aws_region, table_name=settings.table_name, bucket_name=settings.bucket_name
    )
    upload(f"incoming/{PARTNER}/full/big.csv", csv_bytes(big_delivery()))


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setenv("INGEST_BATCH_ROWS", "25")
    reset_settings()


def big_delivery() -> list[dict[str, str]]:
    """A full delivery of 150 policies (6 batches) with some bad rows."""
    rows = portfolio(150)
    rows[40]["PCODE"] = "1234SS"
    rows[100]["GEBDAT"] = "20991231"
    return rows


@pytest.fixture
def upload_event(aws, small_batches) -> dict[str, Any]:
    """The upload of `big_delivery`, not yet processed."""
    upload(f"incoming/{PARTNER}/full/big.csv", csv_bytes(big_delivery()))
    messages = receive(aws["ingest_queue_url"], 10)
    sqs = boto3.client("sqs", region_name="eu-west-1")
    for message in messages:
        sqs.delete_message(QueueUrl=aws["ingest_queue_url"], ReceiptHandle=message["ReceiptHandle"])
    return next(m for m in messages if "Records" in json.loads(m["Body"]))


def uninterrupted(aws: dict[str, str], event: dict[str, Any]) -> tuple[list, dict]:
    invoke("ingest", [event])
    assert not receive(aws["ingest_queue_url"]), "an uninterrupted run queues nothing"
    return snapshot()


def test_an_ingest_killed_mid_file_is_retried_from_its_checkpoint_without_doubling(
    aws, upload_event
):
    # given the result of an uninterrupted run
    expected_items, expected_report = uninterrupted(aws, upload_event)

    # when the run is killed after a few batches and SQS delivers the message again
    fresh_table()
    clock = DiesOnce(at=5)
    failed = invoke("ingest", [upload_event], clock)
    assert failed == {"batchItemFailures": [{"itemIdentifier": upload_event["MessageId"]}]}
    partial = [i for i in all_items() if i["type"] == "policy"]
    assert 0 < len(partial) < 148
    invoke("ingest", [upload_event], clock)

    # then the end result is the same: nothing lost, nothing counted twice
    items, document = snapshot()
    assert document == expected_report
    assert items == expected_items
