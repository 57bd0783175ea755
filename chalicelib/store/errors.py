"""Translate driver errors into the domain's typed errors (adapters only)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.errors import ConditionFailed, StoreError, StoreRefused, ThrottledError

_THROTTLING = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "Throttling",
    "SlowDown",
}


@contextmanager
def translated(operation: str) -> Iterator[None]:
    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code == "ConditionalCheckFailedException":
            raise ConditionFailed(operation) from exc
        if code == "TransactionCanceledException":
            _raise_cancelled(operation, exc)
        if code in _THROTTLING:
            raise ThrottledError(f"{operation}: {code}") from exc
        if code == "ValidationException":
            raise StoreRefused(f"{operation}: {code}") from exc
        raise StoreError(f"{operation}: {code}") from exc
    except BotoCoreError as exc:
        raise StoreError(f"{operation}: {type(exc).__name__}") from exc


# Why a transaction was cancelled, per item: a condition that no longer holds, or another
# transaction on one of its items at the same moment, is a conflict the caller resolves.
_CONFLICTS = {"ConditionalCheckFailed", "TransactionConflict"}


def _raise_cancelled(operation: str, exc: ClientError) -> None:
    codes = [r.get("Code", "") for r in exc.response.get("CancellationReasons", [])]
    reasons = set(codes)
    if reasons & _CONFLICTS:
        # DynamoDB gives one reason per item, in order; "None" for an item not in the way.
        clear = tuple(i for i, code in enumerate(codes) if code == "None")
        raise ConditionFailed(operation, clear=clear) from exc
    if reasons & {"ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}:
        raise ThrottledError(f"{operation}: {sorted(reasons)}") from exc
    if "ValidationError" in reasons:
        raise StoreRefused(f"{operation}: ValidationError") from exc
    raise StoreError(f"{operation}: TransactionCanceledException") from exc
