"""The deadline of an API request's calls to AWS.

An API function lives `lambda_timeout` seconds (.chalice/config.json). A request still waiting
on DynamoDB when it ends gets API Gateway's bare 502/504 instead of our 503 `unavailable`, so
the HTTP edge (handlers/http.py) runs each request `within` API_AWS_DEADLINE_SECONDS: the AWS
clients made for requests (store/aws.py) have short timeouts, few attempts, and start no
attempt that could not end by the deadline. Ingest and workers run without one and keep their
patient clients (docs/configuration.md, "Calls to AWS").

The deadline is a context variable: a thread a request starts does not carry it, so a request
path makes its calls to AWS on the request's own thread.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_ends_at: ContextVar[float | None] = ContextVar("aws_calls_end_at", default=None)


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """Calls to AWS made inside end by `seconds` from now (time.monotonic)."""
    token = _ends_at.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _ends_at.reset(token)


@contextmanager
def leaving(seconds: float) -> Iterator[None]:
    """Calls made inside end `seconds` before the request's deadline, which keeps that time for
    what must follow them (an undo when they fail). Outside a request: no bound."""
    ends_at = _ends_at.get()
    if ends_at is None:
        yield
        return
    token = _ends_at.set(ends_at - seconds)
    try:
        yield
    finally:
        _ends_at.reset(token)


def active() -> bool:
    """Whether the calls made now belong to a request (a deadline is set)."""
    return _ends_at.get() is not None


def remaining() -> float | None:
    """Seconds until the deadline (negative once passed); None outside a request."""
    ends_at = _ends_at.get()
    return None if ends_at is None else ends_at - time.monotonic()
