"""How long a failed ingest message waits before its next attempt."""

from __future__ import annotations

RETRY_MAX_SECONDS = 900


def retry_delay_seconds(receive_count: int, first_seconds: int) -> int:
    """`first_seconds` (60 by default) after the first failed receive, doubling per receive,
    at most 15 minutes: a transient fault (a timeout, throttling beyond the client's own
    retries) is retried within a minute instead of after the ingest queue's 90-minute
    visibility timeout (sized for the longest run, while the failed delivery keeps its
    partner's turn). With 60 s and the queue's maxReceiveCount of 5 (waits of 1, 2, 4, 8 and 15
    minutes), a message that keeps failing reaches the dead-letter queue 30 minutes after its
    first failure: an outage of DynamoDB or S3 shorter than that parks nothing there."""
    doublings = min(max(receive_count, 1) - 1, 5)
    return min(first_seconds * 2**doublings, RETRY_MAX_SECONDS)
