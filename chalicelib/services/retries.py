"""A failed queue message comes back after a short backoff (`rules.retries`), not after its
queue's visibility timeout: Lambda's SQS event source leaves a message it is told failed
invisible for the rest of that timeout."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.config import get_settings
from chalicelib.errors import StoreError
from chalicelib.observability import logger
from chalicelib.rules.retries import retry_delay_seconds
from chalicelib.store.queues import Queue, queue_url


@dataclass(frozen=True)
class FailedMessage:
    message_id: str
    queue_arn: str
    receipt_handle: str
    receive_count: int


def retry_soon(failed: list[FailedMessage]) -> None:
    """Shorten each failed message's wait. Best effort: a message whose wait cannot be
    shortened still comes back after the visibility timeout, so nothing is lost."""
    settings = get_settings()
    known = (settings.ingest_queue_url, settings.activation_queue_url)
    for message in failed:
        delay = retry_delay_seconds(message.receive_count, settings.failed_message_retry_seconds)
        try:
            Queue(queue_url(message.queue_arn, known)).retry_in(message.receipt_handle, delay)
        except (StoreError, ValueError) as exc:
            logger.warning(
                "could not shorten a failed message's wait",
                extra={"message_id": message.message_id, "error_type": type(exc).__name__},
            )
        else:
            logger.info(
                "failed message retried soon",
                extra={"message_id": message.message_id, "retry_in_seconds": delay},
            )
