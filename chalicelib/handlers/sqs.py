"""Partial batch responses for SQS-triggered functions.

Lambda deletes every message of a batch unless the function reports the ones that failed
(`FunctionResponseTypes: [ReportBatchItemFailures]`, set by infra/). A failed message becomes
visible again, is retried, and after the queue's maxReceiveCount lands in its DLQ.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice.app import SQSEvent

from chalicelib.observability import logger

RemainingMs = Callable[[], int]


def remaining_time(event: SQSEvent) -> RemainingMs:
    context = getattr(event, "context", None)
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        return context.get_remaining_time_in_millis
    return lambda: 15 * 60 * 1000


def process_batch(
    event: SQSEvent,
    handle: Callable[[str, RemainingMs], None],
    *,
    min_remaining_ms: int = 0,
) -> dict[str, Any]:
    """Run `handle(body, remaining_ms)` per message; report failed (and unstarted) messages."""
    remaining = remaining_time(event)
    failures: list[str] = []
    for record in event:
        message_id = str(record.to_dict().get("messageId", ""))
        if failures and failures[-1] == "__stop__":
            failures.append(message_id)
            continue
        if remaining() < min_remaining_ms:
            # Too little time to start another message: SQS gives it to a later invocation.
            failures.extend(["__stop__", message_id])
            continue
        try:
            handle(record.body, remaining)
        except Exception as exc:
            # The exception message may hold personal data from a file: log its type only.
            logger.error(
                "message failed; it will be retried",
                extra={"message_id": message_id, "error_type": type(exc).__name__},
            )
            failures.append(message_id)
    return {"batchItemFailures": [{"itemIdentifier": m} for m in failures if m != "__stop__"]}
