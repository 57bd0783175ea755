"""Partial batch responses for SQS-triggered functions, with Powertools' BatchProcessor.

Lambda deletes every message of a batch unless the function reports the ones that failed
(`FunctionResponseTypes: [ReportBatchItemFailures]`, set by infra/). A failed message becomes
visible again, is retried, and after the queue's maxReceiveCount lands in its DLQ.

One addition to Powertools' processor: a message is only started while enough of the
invocation's time is left. From the first message that is not, no further message starts; they
are all reported as failed, so SQS gives them to a later invocation instead of a Lambda timeout
failing the whole batch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from chalice.app import SQSEvent

from chalicelib.observability import logger
from chalicelib.services.retries import FailedMessage, retry_soon

RemainingMs = Callable[[], int]
RecordHandler = Callable[[SQSRecord, RemainingMs], object]
PLENTY_MS = 15 * 60 * 1000


class NotStarted(Exception):
    """Too little of the invocation's time was left to start the message."""


class TimeBoundBatchProcessor(BatchProcessor):
    """Powertools' SQS batch processor that starts no message once less than `min_remaining_ms`
    is left, and never reports a whole failed batch as an error (every failure is a partial
    batch item failure, as the handler's contract with infra/ says)."""

    def __init__(self, remaining_ms: RemainingMs, min_remaining_ms: int) -> None:
        super().__init__(EventType.SQS, raise_on_entire_batch_failure=False)
        self.remaining_ms = remaining_ms
        self.min_remaining_ms = min_remaining_ms

    def process(self) -> list[tuple[Any, ...]]:
        results: list[tuple[Any, ...]] = []
        stopped = False
        for record in self.records:
            stopped = stopped or self.remaining_ms() < self.min_remaining_ms
            if stopped:
                results.append(self.failure_handler(SQSRecord(record), (NotStarted, None, None)))
            else:
                results.append(self._process_record(record))
        return results

    def failure_handler(self, record: Any, exception: Any) -> Any:
        # The exception's message may hold personal data from a file: log its type only.
        error_type = getattr(exception[0], "__name__", "unknown")
        if exception[0] is NotStarted:
            logger.info(
                "message not started; too little time left", extra={"message_id": record.message_id}
            )
        else:
            logger.error(
                "message failed; it will be retried",
                extra={"message_id": record.message_id, "error_type": error_type},
            )
        return super().failure_handler(record, exception)


def remaining_time(event: SQSEvent) -> RemainingMs:
    context = getattr(event, "context", None)
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        remaining: RemainingMs = context.get_remaining_time_in_millis
        return remaining
    return lambda: PLENTY_MS


def process_batch(
    event: SQSEvent,
    handle: RecordHandler,
    *,
    min_remaining_ms: int = 0,
    retry_soon_after_failure: bool = False,
) -> PartialItemFailureResponse:
    """Run `handle(record, remaining_ms)` per message; report the failed and unstarted ones.
    With `retry_soon_after_failure` (a queue whose visibility timeout is far longer than a
    retry should wait), each comes back after a backoff (`services.retries`) instead."""
    remaining = remaining_time(event)
    document = event.to_dict()
    response = process_partial_response(
        event=document,
        record_handler=lambda record: handle(record, remaining),
        processor=TimeBoundBatchProcessor(remaining, min_remaining_ms),
    )
    failed_ids = {failure["itemIdentifier"] for failure in response.get("batchItemFailures", [])}
    if failed_ids and retry_soon_after_failure:
        records = document.get("Records", [])
        retry_soon([_failed(r) for r in records if r["messageId"] in failed_ids])
    return response


def _failed(record: dict[str, Any]) -> FailedMessage:
    attributes = record.get("attributes") or {}
    return FailedMessage(
        message_id=str(record["messageId"]),
        queue_arn=str(record.get("eventSourceARN", "")),
        receipt_handle=str(record.get("receiptHandle", "")),
        receive_count=int(attributes.get("ApproximateReceiveCount") or 1),
    )
