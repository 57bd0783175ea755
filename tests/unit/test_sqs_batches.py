"""Partial batch responses: which messages an SQS-triggered function reports for retry."""

from __future__ import annotations

from typing import Any

import pytest
from chalice.app import SQSEvent

from chalicelib.handlers.sqs import process_batch
from tests.support.ingest import FakeContext

pytestmark = pytest.mark.unit


def event(*bodies: str, remaining_ms: Any = None) -> SQSEvent:
    records = [
        {"messageId": f"m{i}", "receiptHandle": f"r{i}", "body": body, "attributes": {}}
        for i, body in enumerate(bodies, start=1)
    ]
    return SQSEvent({"Records": records}, FakeContext(remaining_ms))


def test_only_the_messages_that_failed_are_reported():
    # given three messages of which the second fails
    handled = []

    def handle(record: Any, _remaining: Any) -> None:
        if record.body == "bad":
            raise ValueError("a message that may hold personal data")
        handled.append(record.body)

    # when the batch is processed
    result = process_batch(event("a", "bad", "c"), handle)

    # then the others were handled and only the failed one is reported
    assert handled == ["a", "c"]
    assert result == {"batchItemFailures": [{"itemIdentifier": "m2"}]}


def test_a_batch_whose_every_message_failed_is_reported_not_raised():
    def handle(record: Any, _remaining: Any) -> None:
        raise RuntimeError

    result = process_batch(event("a", "b"), handle)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m2"}]}


def test_no_message_starts_once_too_little_time_is_left():
    # given time that runs low after the first message, and then seems to recover
    looks = iter([900_000, 1_000, 900_000])
    handled = []

    # when a batch of three is processed with a 60 s minimum
    result = process_batch(
        event("a", "b", "c", remaining_ms=lambda: next(looks, 900_000)),
        lambda record, _remaining: handled.append(record.body),
        min_remaining_ms=60_000,
    )

    # then only the first ran; the rest are left to a later invocation, in order
    assert handled == ["a"]
    assert result == {"batchItemFailures": [{"itemIdentifier": "m2"}, {"itemIdentifier": "m3"}]}


def test_the_handler_sees_the_invocations_remaining_time():
    seen = []
    process_batch(
        event("a", remaining_ms=lambda: 123_456),
        lambda _record, remaining: seen.append(remaining()),
    )
    assert seen == [123_456]
