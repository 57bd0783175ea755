"""Typed domain errors. Mapped to HTTP in one place: chalicelib/handlers/http.py."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error the API reports to a caller. `status` is the HTTP status it maps to."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details


class BadRequest(DomainError):
    status = 400
    code = "bad_request"


class Unauthenticated(DomainError):
    status = 401
    code = "unauthenticated"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Unprocessable(DomainError):
    status = 422
    code = "unprocessable"


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload_too_large"


class StoreError(Exception):
    """A storage or messaging driver failed (not the caller's fault)."""


class ThrottledError(StoreError):
    """The backend throttled us; the operation may be retried later."""


class StoreRefused(StoreError):
    """The backend refused the request itself (DynamoDB's ValidationException: a key or an item
    beyond its limits). Unlike throttling, the same request will never succeed."""


class ConditionFailed(StoreError):
    """A conditional write did not hold (someone else got there first). A transaction is
    cancelled whole: `clear` holds the positions of its items that were not in the way (their
    conditions held and no other transaction held them), as far as the backend said."""

    def __init__(self, *args: object, clear: tuple[int, ...] = ()) -> None:
        super().__init__(*args)
        self.clear = clear
