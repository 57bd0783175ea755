"""Drive the real ingest path in moto: upload to S3 (the bucket notifies the ingest queue), then
feed the queue's messages to the same handler Lambda runs, deleting only those it did not report
as failed — as the Lambda SQS poller does."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import boto3

from chalicelib.config import get_settings
from scripts.pump import sqs_event

HEADER = [
    "PP_NUMMER",
    "PP_BRANCHE",
    "PP_INGDAT",
    "PP_EXPDAT",
    "PP_VRWRKCD",
    "PP_DEKKING",
    "PP_GEZIN",
    "ENTITEIT",
    "GESLACH",
    "ANAAM",
    "VOORV",
    "VOORL",
    "GEBDAT",
    "STRAAT",
    "HUISNR",
    "TOEVOEG",
    "PCODE",
    "PLAATS",
    "EMAIL",
    "MOBIEL",
]


def person(number: str, **overrides: str) -> dict[str, str]:
    """One valid row: the policyholder of policy `number`."""
    row = {
        "PP_NUMMER": number,
        "PP_BRANCHE": "092",
        "PP_INGDAT": "20240101",
        "PP_DEKKING": "RP|VK|WC",
        "ENTITEIT": "VP",
        "GESLACH": "V",
        "ANAAM": "Berg",
        "VOORV": "van der",
        "VOORL": "A.",
        "GEBDAT": "19800101",
        "STRAAT": "Dorpsstraat",
        "HUISNR": "1",
        "PCODE": "1234AB",
        "PLAATS": "Utrecht",
    }
    row.update(overrides)
    return row


def csv_bytes(rows: Iterable[Mapping[str, str]], *, header: list[str] | None = None) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header or HEADER, delimiter=";", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue().encode()


def portfolio(count: int, *, prefix: str = "P", start: int = 0) -> list[dict[str, str]]:
    return [
        person(
            f"{prefix}{i:05d}", GEBDAT=f"19{50 + i % 40:02d}0{1 + i % 9}1{i % 9}", HUISNR=str(i + 1)
        )
        for i in range(start, start + count)
    ]


def upload(key: str, data: bytes) -> None:
    settings = get_settings()
    boto3.client("s3", region_name=settings.aws_region).put_object(
        Bucket=settings.bucket_name, Key=key, Body=data
    )


class FakeContext:
    """A Lambda context whose remaining time the test controls."""

    function_name = "ingest"
    memory_limit_in_mb = 1024
    aws_request_id = "test-request"
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:ingest"

    def __init__(self, remaining_ms: Callable[[], int] | None = None) -> None:
        self._remaining = remaining_ms or (lambda: 900_000)

    def get_remaining_time_in_millis(self) -> int:
        return self._remaining()


def receive(queue_url: str, max_messages: int = 1) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name=get_settings().aws_region)
    response = sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=max_messages,
        AttributeNames=["All"],
        VisibilityTimeout=0,
        WaitTimeSeconds=0,
    )
    return list(response.get("Messages", []))


def invoke(function: str, messages: list[dict[str, Any]], context: Any = None) -> dict[str, Any]:
    from app import app

    # The record names its queue as Lambda's event source does: by the queue's ARN.
    settings = get_settings()
    url = settings.ingest_queue_url if function == "ingest" else settings.activation_queue_url
    name = url.rstrip("/").rsplit("/", 1)[-1] or "queue"
    event = sqs_event(
        messages, queue_arn=f"arn:aws:sqs:eu-west-1:123456789012:{name}", region="eu-west-1"
    )
    result: dict[str, Any] = app.handler_map[function](event, context or FakeContext())
    return result


def drain(
    queue_url: str,
    *,
    function: str = "ingest",
    context: Any = None,
    max_rounds: int = 50,
) -> list[dict[str, Any]]:
    """Deliver every message on the queue to `function` until the queue is empty."""
    sqs = boto3.client("sqs", region_name=get_settings().aws_region)
    results = []
    for _ in range(max_rounds):
        messages = receive(queue_url)
        if not messages:
            return results
        result = invoke(function, messages, context)
        results.append(result)
        failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        for message in messages:
            if message["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    raise AssertionError(f"queue not drained after {max_rounds} rounds")


def report(partner_id: str) -> list[dict[str, Any]]:
    """Every report written for `partner_id`, oldest first."""
    settings = get_settings()
    s3 = boto3.client("s3", region_name=settings.aws_region)
    listing = s3.list_objects_v2(Bucket=settings.bucket_name, Prefix=f"reports/{partner_id}/")
    documents = [
        json.loads(s3.get_object(Bucket=settings.bucket_name, Key=o["Key"])["Body"].read())
        for o in listing.get("Contents", [])
        if o["Key"].endswith(".json")
    ]
    return sorted(documents, key=lambda d: d["received_at"])


def all_items() -> list[dict[str, Any]]:
    """Every item in the table — tests only (a scan is never used on a request path)."""
    table = boto3.resource("dynamodb", region_name=get_settings().aws_region).Table(
        get_settings().table_name
    )
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {}
    while True:
        page = table.scan(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
