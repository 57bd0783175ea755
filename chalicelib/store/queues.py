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
