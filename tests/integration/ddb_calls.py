"""Count the DynamoDB requests the app makes (botocore event hooks on the app's own clients), and
seed the register through the real upload path.

    from tests.integration.ddb_calls import ddb_calls_fixture  # noqa: F401  (the fixture)

    def test_x(api, ddb_calls):
        ddb_calls.reset(); <request>; assert ddb_calls.reads() == ["Query", "BatchGetItem"]

The fixture fails the test on any Scan the app makes, at teardown, even if the test forgot to
look. Test helpers that scan on purpose (`tests.support.ingest.all_items`) use their own client
and are not counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import boto3
import pytest

from chalicelib.config import get_settings
from tests.support.ingest import HEADER, csv_bytes, invoke, upload

# Every column the recognition and coverage tests use (tests.support.ingest.HEADER + more).
COLUMNS = [
    *HEADER,
    "PP_VOORW",
    "PP_CLAUSULES",
    "PP_EIGENRISICO",
    "RNAAM",
    "TELNUM",
    "KVKNR",
]


class DynamoCalls:
    """The operation names of the app's DynamoDB requests, in order."""

    def __init__(self) -> None:
        self.operations: list[str] = []
        self.scans: list[str] = []

    def _before_call(self, model: Any, **_: Any) -> None:
        self.operations.append(model.name)
        if model.name == "Scan":
            self.scans.append(model.name)

    def reset(self) -> None:
        self.operations.clear()

    def reads(self) -> list[str]:
        """The operations other than the audit entry's PutItem."""
        return [op for op in self.operations if op != "PutItem"]


@pytest.fixture(name="ddb_calls")
def ddb_calls_fixture(aws: dict[str, str]) -> Iterator[DynamoCalls]:
    from chalicelib.store.aws import every_client

    calls = DynamoCalls()
    # Every DynamoDB client of the store: the resources' and the bulk clients (batch reads),
    # the workers' and the API requests' (bounded, chalicelib/deadline.py).
    emitters = [client.meta.events for client in every_client("dynamodb")]
    for events in emitters:
        events.register("before-call.dynamodb", calls._before_call, unique_id="test-ddb-calls")
    yield calls
    for events in emitters:
        events.unregister("before-call.dynamodb", unique_id="test-ddb-calls")
    assert not calls.scans, "a request path used Scan"


def deliver(
    aws: Mapping[str, str],
    partner_id: str,
    rows: Iterable[Mapping[str, str]],
    *,
    name: str = "portfolio.csv",
    kind: str = "full",
) -> None:
    """Upload rows as a partner's delivery and run the ingest on its queue messages (the real
    path). Receives without long polling: `tests.support.ingest.drain` waits the queue's 20 s
    ReceiveMessageWaitTimeSeconds on its last, empty receive."""
    upload(f"incoming/{partner_id}/{kind}/{name}", csv_bytes(rows, header=COLUMNS))
    sqs = boto3.client("sqs", region_name=get_settings().aws_region)
    queue = aws["ingest_queue_url"]
    for _ in range(10):
        messages = sqs.receive_message(
            QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=0, AttributeNames=["All"]
        ).get("Messages", [])
        if not messages:
            return
        result = invoke("ingest", messages)
        assert not result.get("batchItemFailures"), result
        for message in messages:
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    raise AssertionError("the ingest queue did not drain")
