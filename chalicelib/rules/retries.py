"""How long a failed queue message waits before its next attempt."""

from __future__ import annotations

RETRY_MAX_SECONDS = 900


def retry_delay_seconds(receive_count: int, first_seconds: int) -> int:
    """`first_seconds` (30 by default) after the first failed receive, doubling per receive,
    at most 15 minutes: a transient fault (a timeout, throttling beyond the client's own
    retries) is retried within minutes instead of after the queue's visibility timeout (the
    ingest queue's 90 minutes, sized for the longest run, while the failed delivery keeps its
    partner's turn), and a message that keeps failing still reaches the queue's dead-letter
    queue after maxReceiveCount (5) receives, within about half an hour."""
    doublings = min(max(receive_count, 1) - 1, 5)
    return min(first_seconds * 2**doublings, RETRY_MAX_SECONDS)
