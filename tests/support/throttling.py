"""DynamoDB's answer to a throttled request, for a `before-send` hook to give in place of the
network (inside botocore's retry loop)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import botocore.awsrequest

THROTTLED = (
    b'{"__type":"com.amazonaws.dynamodb.v20120810#'
    b'ProvisionedThroughputExceededException","message":"slow"}'
)


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Any:
        yield self.data


def throttled_answer() -> botocore.awsrequest.AWSResponse:
    headers = {"Content-Type": "application/x-amz-json-1.0"}
    return botocore.awsrequest.AWSResponse("https://dynamodb", 400, headers, _Body(THROTTLED))  # type: ignore[arg-type]


@contextmanager
def throttling(operation: str, times: int) -> Iterator[list[int]]:
    """The bulk client's first `times` requests of `operation` are throttled; yields the list
    of throttled requests (one entry each)."""
    from chalicelib.store import aws

    client = aws.bulk_client("dynamodb")
    throttled: list[int] = []

    def throttle(**_: Any) -> Any:
        if len(throttled) < times:
            throttled.append(1)
            return throttled_answer()
        return None

    event = f"before-send.dynamodb.{operation}"
    client.meta.events.register(event, throttle)
    try:
        yield throttled
    finally:
        client.meta.events.unregister(event, throttle)
