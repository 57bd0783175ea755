"""Lazily created AWS clients: nothing connects at import time, so moto can patch every call."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

import boto3
import orjson
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
_SIGV4 = _RETRIES.merge(Config(signature_version="s3v4"))
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


# Requests whose parameters the store builds as DynamoDB JSON already (store/table.py).
_WIRE_READY = frozenset({"BatchWriteItem", "TransactWriteItems", "BatchGetItem"})
# Answers that carry items. Their JSON body is what botocore's parser would make of it, except
# for binary values (base64 on the wire, bytes once parsed); a body with a binary type tag
# ({"B": or {"BS":) is left to botocore.
_ITEM_ANSWERS = ("GetItem", "BatchGetItem", "Query", "Scan")
_BINARY_TAG = re.compile(rb'\{\s*"BS?"\s*:')


def _answer_as_sent(
    response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any
) -> None:
    """botocore's `before-parse` hook: a successful item answer is taken as JSON decodes it (by
    orjson, about 2.5× as fast as the standard library's json on item answers), and botocore's
    parser, which walks every attribute value against the service model (about a tenth of the
    ingest's client CPU), is given an empty body. Errors are parsed as usual, so retries of
    throttling and error codes do not change."""
    body = response_dict.get("body")
    if response_dict.get("status_code", 500) >= 300 or not body or _BINARY_TAG.search(body):
        return
    customized_response_dict.update(orjson.loads(body))
    response_dict["body"] = b"{}"


def _with_answers_as_sent(made: Any) -> Any:
    for operation in _ITEM_ANSWERS:
        made.meta.events.register(f"before-parse.dynamodb.{operation}", _answer_as_sent)
    return made


class _WireReadySerializer:
    """botocore's request serializer, except for `_WIRE_READY` operations: their parameters
    are already what DynamoDB's JSON protocol sends, so they are dumped as they are instead of
    being walked value by value against the service model (most of a batch write's client
    CPU), by orjson (about 0.5 µs a register item against the standard library's 30 µs).
    Headers, URL and method still come from botocore; parameters orjson cannot dump (a binary
    value, an integer beyond 64 bits) take botocore's way."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def serialize_to_request(self, parameters: Any, operation_model: Any) -> Any:
        if operation_model.name in _WIRE_READY:
            try:
                body = orjson.dumps(parameters)
            except TypeError:  # orjson.JSONEncodeError is one
                pass
            else:
                request = self._inner.serialize_to_request({}, operation_model)
                request["body"] = body
                return request
        return self._inner.serialize_to_request(parameters, operation_model)


def _bulk(service: str, **kwargs: Any) -> Any:
    made: Any = boto3.client(service, **kwargs)  # type: ignore[call-overload]
    # botocore has no public hook that skips its serializer; a test holds the bodies equal.
    made._serializer = _WireReadySerializer(made._serializer)
    return _with_answers_as_sent(made)


def bulk_client(service: str) -> Any:
    """A client for the store's bulk requests (store/table.py): batch writes built from items
    the store serialised itself and batch reads of keys it serialised itself, without botocore's
    parameter validation, their parameters sent as they are, and item answers handed back as
    DynamoDB JSON for the store to decode."""
    return _cached("bulk-client", service, _bulk, _UNVALIDATED)


def signing_client(service: str) -> Any:
    """A client for presigned links: Signature Version 4 (objects under a KMS key need it)."""
    return _cached("signing-client", service, boto3.client, _SIGV4)


def _resource(service: str, **kwargs: Any) -> Any:
    made: Any = boto3.resource(service, **kwargs)  # type: ignore[call-overload]
    _with_answers_as_sent(made.meta.client)  # boto3 then deserialises them as always
    return made


def resource(service: str) -> Any:
    return _cached("resource", service, _resource)


def reset_clients() -> None:
    """Forget every client (tests start a fresh moto backend; the local run changes endpoint)."""
    _cache.clear()
