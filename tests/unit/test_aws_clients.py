"""AWS clients are built once per process, however many threads ask for one at the same time
(the local run serves requests on threads)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest

from chalicelib.store import aws

pytestmark = pytest.mark.unit


def test_given_many_threads_asking_for_a_client_at_once_then_one_is_built_and_shared(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built: list[object] = []
    start = threading.Barrier(8)

    def slow_client(service: str, **options: Any) -> object:
        time.sleep(0.05)  # building a client takes tens of milliseconds
        made = object()
        built.append(made)
        return made

    def ask(_: int) -> object:
        start.wait()
        return aws.client("dynamodb")

    monkeypatch.setattr(boto3, "client", slow_client)
    aws.reset_clients()
    with ThreadPoolExecutor(max_workers=8) as pool:
        clients = list(pool.map(ask, range(8)))

    assert len(built) == 1
    assert all(c is built[0] for c in clients)


def test_a_client_keeps_a_connection_for_every_request_the_local_run_has_in_flight() -> None:
    # given the local run: one client shared by its ingest workers, each with its writes in
    # flight, and the API's request threads
    from chalicelib.config import get_settings
    from scripts.pump import LOCAL_WORKERS

    in_flight = LOCAL_WORKERS * get_settings().ingest_write_concurrency

    # then the client's pool holds them all, with room for the API (no connection is dropped
    # and opened again with a "Connection pool is full" warning)
    assert aws.client("dynamodb").meta.config.max_pool_connections >= in_flight + 8
