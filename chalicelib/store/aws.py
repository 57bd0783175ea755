"""Lazily created AWS clients: nothing connects at import time, so moto can patch every call."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

import boto3
import orjson
from botocore.config import Config
from botocore.exceptions import BotoCoreError

from chalicelib import deadline
from chalicelib.config import Settings, get_settings

# The local run shares one client between the API's request threads and two ingest workers with
# INGEST_WRITE_CONCURRENCY writes in flight each: botocore's default pool of 10 connections made
# it open and drop connections (and warn "Connection pool is full") all through the demo load.
_POOL = Config(max_pool_connections=32)
# The ingest and the mail worker: a throttled or slow DynamoDB is waited out (their functions
# live 15 and 1 minutes, and a failed message is retried from its checkpoint anyway).
# (botocore's `max_attempts` counts retries: 8 retries, 9 attempts.)
_RETRIES = _POOL.merge(
    Config(retries={"mode": "standard", "max_attempts": 8}, connect_timeout=5, read_timeout=30)
)
# Parameter validation costs about half the client CPU of a BatchWriteItem; the batch writer
# builds its requests from already serialised items, so DynamoDB's own validation suffices.
_UNVALIDATED = Config(parameter_validation=False)
_SIGV4 = Config(signature_version="s3v4")
_cache: dict[str, Any] = {}
# The local run serves requests on threads: without the lock, the first requests each build
# their own client (tens of milliseconds of CPU apiece, on boto3's default session, which is
# not thread-safe) instead of one being built while the others wait for it.
_creating = threading.Lock()

# botocore's standard retry mode (botocore/retries/standard.py, ExponentialBackoff): the i-th
# wait (1-based) is at most min(2 ** (i - 1), 20) seconds for a throttled call (1 s base), and
# up to 5 s longer when the answer carries x-amz-retry-after.
_MAX_BACKOFF_SECONDS = 20
_RETRY_AFTER_EXTRA_SECONDS = 5


def _longest_wait(before_attempt: int) -> float:
    """The longest backoff botocore sleeps before attempt `before_attempt` (2 = first retry)."""
    return min(2 ** (before_attempt - 2), _MAX_BACKOFF_SECONDS) + _RETRY_AFTER_EXTRA_SECONDS


def worst_call_seconds(settings: Settings) -> float:
    """The longest one call of an API request can take: every attempt waits out its connect
    and read timeouts, and every retry its longest backoff."""
    attempts = settings.api_aws_max_attempts
    attempt = settings.api_aws_connect_timeout_seconds + settings.api_aws_read_timeout_seconds
    return attempts * attempt + sum(_longest_wait(n) for n in range(2, attempts + 1))


def worst_request_seconds(settings: Settings) -> float:
    """The longest an API request's calls to AWS can take together, however many it makes: no
    attempt starts that could not end by the deadline, but a backoff begun before the deadline
    is slept to its end before the next attempt is refused."""
    attempts = settings.api_aws_max_attempts
    longest_backoff = _longest_wait(attempts) if attempts > 1 else 0
    return settings.api_aws_deadline_seconds + longest_backoff


def one_more_call_seconds(settings: Settings) -> float:
    """What an API request keeps back for one call that must still go out after others failed
    (`deadline.leaving`): one attempt, and the longest backoff a retry of the calls before it
    may still be sleeping when their share of the time runs out (for throttling: neither
    DynamoDB nor SQS asks for more with x-amz-retry-after)."""
    attempts = settings.api_aws_max_attempts
    attempt = settings.api_aws_connect_timeout_seconds + settings.api_aws_read_timeout_seconds
    longest_backoff = _longest_wait(attempts) - _RETRY_AFTER_EXTRA_SECONDS if attempts > 1 else 0
    return attempt + longest_backoff


class DeadlinePassed(BotoCoreError):
    """An attempt of an API request's call to AWS could not end before the request's deadline."""

    fmt = "the request's deadline for calls to AWS has passed"


def _request_config(settings: Settings) -> Config:
    return _POOL.merge(
        Config(
            # total_max_attempts counts the first attempt too (max_attempts would not)
            retries={"mode": "standard", "total_max_attempts": settings.api_aws_max_attempts},
            connect_timeout=settings.api_aws_connect_timeout_seconds,
            read_timeout=settings.api_aws_read_timeout_seconds,
        )
    )


def _stop_at_deadline(events: Any, settings: Settings) -> None:
    """Refuse each attempt (the first and every retry) that could not end by the deadline."""
    attempt = settings.api_aws_connect_timeout_seconds + settings.api_aws_read_timeout_seconds

    def refuse_late_attempt(**_: Any) -> None:
        left = deadline.remaining()
        if left is not None and left < attempt:
            raise DeadlinePassed()

    # First: nothing else may send (or, in the tests, apply) an attempt this refuses.
    events.register_first("before-send", refuse_late_attempt)


def _cached(
    kind: str, service: str, factory: Callable[..., Any], config: Config | None = None
) -> Any:
    """The `kind` ("client" or "resource") of `service`, created on first use with the stage's
    region and endpoint: a request's (bounded, see chalicelib/deadline.py) while a deadline is
    set, else the workers' (patient); `config` adds to either."""
    for_request = deadline.active()
    key = f"{kind}:{service}:{'request' if for_request else 'worker'}"
    found = _cache.get(key)
    if found is not None:
        return found
    with _creating:
        if key not in _cache:
            settings = get_settings()
            base = _request_config(settings) if for_request else _RETRIES
            made = factory(
                service,
                region_name=settings.aws_region,
                endpoint_url=settings.aws_endpoint_url,
                config=base.merge(config) if config is not None else base,
            )
            if for_request:
                own_client = made.meta.client if kind == "resource" else made
                _stop_at_deadline(own_client.meta.events, settings)
            _cache[key] = made
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
    try:
        answer = orjson.loads(body)
    except orjson.JSONDecodeError:
        return  # not JSON: botocore makes of it what it always did
    if isinstance(answer, dict):
        customized_response_dict.update(answer)
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


def every_resource(service: str) -> list[Any]:
    """The workers' resource of `service` and the API requests' (tests and benchmarks count
    the calls on their clients' events)."""
    with deadline.within(get_settings().api_aws_deadline_seconds):
        for_requests = resource(service)
    return [resource(service), for_requests]


def every_client(service: str) -> list[Any]:
    """Every client the store calls `service` on: the resources' and the bulk clients (batch
    reads and writes), the workers' and the API requests' (tests and benchmarks count the calls
    on their events)."""
    with deadline.within(get_settings().api_aws_deadline_seconds):
        for_requests = [resource(service).meta.client, bulk_client(service)]
    return [resource(service).meta.client, bulk_client(service), *for_requests]


def reset_clients() -> None:
    """Forget every client (tests start a fresh moto backend; the local run changes endpoint)."""
    _cache.clear()
