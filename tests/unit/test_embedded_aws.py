"""The embedded AWS serves DynamoDB calls one at a time (moto's tables are not thread-safe) and
everything else concurrently (SQS long polls must not hold up the API)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from scripts.embedded_aws import OneDynamoDbCallAtATime

pytestmark = pytest.mark.unit


class SlowApp:
    """A WSGI app that takes a while and records how many calls ran at once."""

    def __init__(self) -> None:
        self.running = 0
        self.most_at_once = 0
        self._count = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with self._count:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        time.sleep(0.05)
        with self._count:
            self.running -= 1
        start_response("200 OK", [])
        return [b"{}"]


def most_at_once(target: str) -> int:
    app = SlowApp()
    served = OneDynamoDbCallAtATime(app)
    start = threading.Barrier(6)

    def call(_: int) -> list[bytes]:
        start.wait()
        return list(served({"HTTP_X_AMZ_TARGET": target}, lambda *a: None))

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(call, range(6)))
    assert answers == [[b"{}"]] * 6
    return app.most_at_once


def test_given_concurrent_dynamodb_calls_then_they_are_served_one_at_a_time() -> None:
    assert most_at_once("DynamoDB_20120810.Query") == 1


def test_given_concurrent_calls_to_other_services_then_they_run_together() -> None:
    assert most_at_once("AmazonSQS.ReceiveMessage") > 1
