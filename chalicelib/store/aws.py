"""Lazily created AWS clients: nothing connects at import time, so moto can patch every call."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config

from chalicelib.config import get_settings

# The local run shares one client between the API's request threads and two ingest workers with
# INGEST_WRITE_CONCURRENCY writes in flight each: botocore's default pool of 10 connections made
# it open and drop connections (and warn "Connection pool is full") all through the demo load.
_RETRIES = Config(
    retries={"mode": "standard", "max_attempts": 8},
    connect_timeout=5,
    read_timeout=30,
    max_pool_connections=32,
)
# Parameter validation costs about half the client CPU of a BatchWriteItem; the batch writer
# builds its requests from already serialised items, so DynamoDB's own validation suffices.
_UNVALIDATED = _RETRIES.merge(Config(parameter_validation=False))
_cache: dict[str, Any] = {}
# The local run serves requests on threads: without the lock, the first requests each build
# their own client (tens of milliseconds of CPU apiece, on boto3's default session, which is
# not thread-safe) instead of one being built while the others wait for it.
_creating = threading.Lock()


def _cached(kind: str, service: str, factory: Callable[..., Any], config: Config = _RETRIES) -> Any:
    """The `kind` ("client" or "resource") of `service`, created on first use with the stage's
    region, endpoint and retry policy."""
    key = f"{kind}:{service}"
    found = _cache.get(key)
    if found is not None:
        return found
    with _creating:
        if key not in _cache:
            settings = get_settings()
            _cache[key] = factory(
                service,
                region_name=settings.aws_region,
                endpoint_url=settings.aws_endpoint_url,
                config=config,
            )
        return _cache[key]


def client(service: str) -> Any:
    return _cached("client", service, boto3.client)


def bulk_client(service: str) -> Any:
    """A client without botocore's parameter validation, for bulk writes built from typed items."""
    return _cached("bulk-client", service, boto3.client, _UNVALIDATED)


def resource(service: str) -> Any:
    return _cached("resource", service, boto3.resource)


def reset_clients() -> None:
    """Forget every client (tests start a fresh moto backend; the local run changes endpoint)."""
    _cache.clear()
