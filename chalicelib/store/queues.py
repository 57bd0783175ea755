"""SQS behind a small interface."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.store import aws
from chalicelib.store.errors import translated


class Queue:
    def __init__(self, url: str) -> None:
        self.url = url

    def send(self, message: dict[str, Any], *, delay_seconds: int = 0) -> str:
        with translated("send_message"):
            response = aws.client("sqs").send_message(
                QueueUrl=self.url,
                MessageBody=json.dumps(message, separators=(",", ":")),
                DelaySeconds=delay_seconds,
            )
        return str(response["MessageId"])

    def retry_in(self, receipt_handle: str, seconds: int) -> None:
        """Make a received message visible again after `seconds` instead of after the queue's
        visibility timeout (StoreError when SQS refuses, e.g. the receipt is no longer valid)."""
        with translated("change_message_visibility"):
            aws.client("sqs").change_message_visibility(
                QueueUrl=self.url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
            )


def queue_url(arn: str, known_urls: tuple[str, ...] = ()) -> str:
    """The URL of the queue an event record names by ARN: the configured URL with that queue
    name, else the one SQS gives every queue (`https://sqs.<region>.amazonaws.com/<account>/
    <name>`)."""
    _, _, _, region, account, name = arn.split(":", 5)
    for url in known_urls:
        if url.rstrip("/").rsplit("/", 1)[-1] == name:
            return url
    return f"https://sqs.{region}.amazonaws.com/{account}/{name}"
