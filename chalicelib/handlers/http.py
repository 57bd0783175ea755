"""The HTTP edge: authentication, roles, input parsing, and the one place where domain errors
become HTTP responses. Route handlers receive a `RequestContext` and return a model."""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from typing import Any, TypeVar

from chalice import Blueprint, Response
from chalice.app import Request
from pydantic import BaseModel, ValidationError

from chalicelib import deadline
from chalicelib.auth import Principal, authenticate
from chalicelib.config import get_settings
from chalicelib.errors import (
    BadRequest,
    DomainError,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    StoreError,
    ThrottledError,
)
from chalicelib.observability import logger

M = TypeVar("M", bound=BaseModel)

MAX_QUERY_STRING_CHARS = 2048
MAX_BODY_BYTES = 64 * 1024
JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store"}
# application/json, or a JSON-based type such as application/problem+json, with parameters.
JSON_MEDIA_TYPE = re.compile(r"^application/([a-z0-9.+-]+\+)?json\s*(;.*)?$", re.IGNORECASE)


class UnsupportedMediaType(DomainError):
    status = 415
    code = "unsupported_media_type"


@dataclass(frozen=True)
class Reply:
    """A body with a status other than 200."""

    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


def _validation_details(exc: ValidationError) -> list[dict[str, str]]:
    # pydantic puts the offending input in each error; it may be personal data: leave it out.
    return [
        {"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"]}
        for err in exc.errors()
    ]


def _not_json(constant: str) -> Any:
    # Python's reader accepts NaN and Infinity; JSON does not, and no bound holds for them.
    raise ValueError(f"{constant} is not JSON")


class RequestContext:
    def __init__(self, request: Any, principal: Principal | None, path_params: dict[str, str]):
        self._request = request
        self.principal_or_none = principal
        self.path_params = path_params

    @property
    def principal(self) -> Principal:
        assert self.principal_or_none is not None, "route is public"
        return self.principal_or_none

    @property
    def route(self) -> str:
        context = getattr(self._request, "context", None) or {}
        return f"{self._request.method} {context.get('resourcePath', self._request.path)}"

    def query(self, model: type[M]) -> M:
        """The query string parsed by `model`; no route takes a list, so a parameter given twice
        (`a=1&a=2`) is refused rather than one of its values silently chosen."""
        multi = self._request.query_params
        names = list(multi or {})
        values = {name: multi.getlist(name) for name in names}
        if sum(len(k) + len(v) + 2 for k, vs in values.items() for v in vs) > (
            MAX_QUERY_STRING_CHARS
        ):
            raise BadRequest("the query string is too long", code="query_too_long")
        repeated = sorted(k for k, vs in values.items() if len(vs) > 1)
        if repeated:
            raise BadRequest(
                "a query parameter was given more than once",
                code="repeated_parameter",
                details=[{"field": k, "message": "give this parameter once"} for k in repeated],
            )
        params = {k: vs[0] for k, vs in values.items()}
        try:
            return model.model_validate(params)
        except ValidationError as exc:
            raise BadRequest(
                "the query parameters are not valid",
                code="invalid_query",
                details=_validation_details(exc),
            ) from None

    def path(self, model: type[M], not_found: NotFound) -> M:
        """The path parameters parsed by `model`; a value that no stored object can have
        (wrong form, too long) is `not_found`, as for an unknown one."""
        try:
            return model.model_validate(self.path_params)
        except ValidationError:
            raise not_found from None

    def body(self, model: type[M]) -> M:
        raw = self._request.raw_body or b""
        if len(raw) > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"the body is larger than {MAX_BODY_BYTES} bytes")
        content_type = (self._request.headers or {}).get("content-type")
        if raw.strip() and content_type is not None and not JSON_MEDIA_TYPE.match(content_type):
            raise UnsupportedMediaType(
                "the body must be JSON: send it with 'Content-Type: application/json'"
            )
        if not raw.strip():
            # A POST without a body (approve, confirm, …) is an empty object; a route that needs
            # fields answers 422 naming them.
            raw = b"{}"
        try:
            document = json.loads(raw, parse_constant=_not_json)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise BadRequest("the body is not valid JSON", code="invalid_json") from None
        if not isinstance(document, dict):
            raise BadRequest("the body must be a JSON object", code="invalid_json")
        try:
            return model.model_validate(document)
        except ValidationError as exc:
            raise DomainError(
                "the request is not valid",
                code="validation_failed",
                details=_validation_details(exc),
            ) from None


def error_response(
    exc: DomainError, *, status: int | None = None, headers: dict[str, str] | None = None
) -> Response:
    error: dict[str, Any] = {"code": exc.code, "message": exc.message}
    if exc.details is not None:
        error["details"] = exc.details
    if status is None:
        status = 422 if exc.code == "validation_failed" else exc.status
    return Response(
        body=json.dumps({"error": error}),
        status_code=status,
        headers={**JSON_HEADERS, **(headers or {})},
    )


def _serialise(body: Any) -> str:
    if isinstance(body, BaseModel):
        return body.model_dump_json()
    if isinstance(body, list) and body and isinstance(body[0], BaseModel):
        return "[" + ",".join(item.model_dump_json() for item in body) + "]"
    return json.dumps(body, default=str)


def _respond(
    handler: Callable[[RequestContext], Any],
    request: Any,
    path_params: dict[str, str],
    roles: frozenset[str] | None,
) -> Response:
    try:
        # The function must answer before its timeout: its calls to AWS end by this deadline.
        with deadline.within(get_settings().api_aws_deadline_seconds):
            principal = None
            if roles is not None:
                principal = authenticate((request.headers or {}).get("authorization"))
                if not principal.has_any(roles):
                    raise Forbidden("your role may not use this route", code="role_not_allowed")
            result = handler(RequestContext(request, principal, path_params))
        if isinstance(result, Response):  # not JSON: the reference page and its assets
            return result
        reply = result if isinstance(result, Reply) else Reply(result)
        return Response(
            body=_serialise(reply.body),
            status_code=reply.status,
            headers={**JSON_HEADERS, **reply.headers},
        )
    except DomainError as exc:
        return error_response(exc)
    except ThrottledError:
        logger.warning("backend throttled", extra={"route": request.path})
        return error_response(
            DomainError("the service is busy, try again shortly", code="throttled"),
            status=503,
            headers={"Retry-After": "1"},
        )
    except StoreError as exc:
        logger.error("backend error", extra={"route": request.path, "error": str(exc)})
        return error_response(
            DomainError("the service is unavailable, try again later", code="unavailable"),
            status=503,
        )
    except Exception as exc:
        # No stack trace to the caller; the log names the exception type only (its message may
        # carry personal data from the input).
        logger.error("unhandled error", extra={"route": request.path, "type": type(exc).__name__})
        return error_response(DomainError("internal error", code="internal_error"), status=500)


# Chalice answers some requests itself, before any view runs, as {"Code": ..., "Message": ...}:
# a method the path does not have (in Lambda, API Gateway refuses those first), a binary
# response the request did not accept, an exception outside a view.
FRAMEWORK_ERROR_CODES = {
    "MethodNotAllowedError": "method_not_allowed",
    "UnsupportedMediaType": "unsupported_media_type",
    "BadRequest": "bad_request",
    "InternalServerError": "internal_error",
}
KEPT_FRAMEWORK_HEADERS = ("Allow",)


def one_error_shape(request: Request, get_response: Callable[[Request], Response]) -> Response:
    """HTTP middleware: every answer the app gives, including the framework's own, has our
    error shape `{"error": {"code", "message"}}`."""
    try:
        response = get_response(request)
    except Exception as exc:
        logger.error("unhandled error", extra={"route": request.path, "type": type(exc).__name__})
        return error_response(DomainError("internal error", code="internal_error"), status=500)
    body = response.body
    if not (isinstance(body, dict) and "Code" in body and "error" not in body):
        return response
    framework_code = str(body["Code"])
    code = FRAMEWORK_ERROR_CODES.get(framework_code, "bad_request")
    message = {
        "method_not_allowed": f"this path does not answer {request.method}",
        "internal_error": "internal error",
    }.get(code, str(body.get("Message", "")))
    kept = {k: str(v) for k, v in response.headers.items() if k in KEPT_FRAMEWORK_HEADERS}
    if code == "method_not_allowed" and "Allow" in kept:
        message += f"; it answers {kept['Allow']}"
    return error_response(
        DomainError(message, code=code), status=response.status_code, headers=kept
    )


@dataclass(frozen=True)
class Deprecated:
    """A route that keeps working for its callers until `sunset`, but that new callers must not
    use: `reason` says why, `successor` what to call instead. Every answer of the route says so
    in its headers (RFC 9745 `Deprecation`, RFC 8594 `Sunset`, a `Link` to the successor), so a
    caller's own logs show the move before the route is retired."""

    reason: str
    successor: str  # "POST /v1/clients/search"
    since: datetime
    sunset: datetime

    def headers(self, route_path: str) -> dict[str, str]:
        # Relative to the route's own URL: behind API Gateway every path has the stage in front
        # (`/api/v1/...`), which the app does not see.
        successor = posixpath.relpath(self.successor.split(" ")[-1], posixpath.dirname(route_path))
        return {
            "Deprecation": f"@{int(self.since.timestamp())}",
            "Sunset": format_datetime(self.sunset, usegmt=True),
            "Link": f'<{successor}>; rel="successor-version"',
        }


@dataclass(frozen=True)
class RouteSpec:
    """What a route declares: the API contract (`chalicelib/handlers/openapi.py`) is generated
    from these, so it describes the code that serves it."""

    path: str
    method: str
    handler: Callable[[RequestContext], Any]
    roles: frozenset[str] | None  # None: public
    path_model: type[BaseModel] | None
    query: type[BaseModel] | None
    body: type[BaseModel] | None
    response: type[BaseModel] | None  # None: the handler's return annotation
    status: int
    errors: Mapping[int, tuple[str, ...]]  # the route's own error codes, by HTTP status
    media_types: tuple[str, ...]  # of a successful response
    tags: tuple[str, ...]
    see_other: str = ""  # when the route may answer 303 with a Location instead: why
    deprecated: Deprecated | None = None


class Api:
    """A Chalice blueprint whose routes go through `_respond`."""

    def __init__(self, import_name: str, tag: str = "") -> None:
        self.blueprint = Blueprint(import_name)
        self.tag = tag
        self.routes: list[RouteSpec] = []

    def route(
        self,
        path: str,
        *,
        methods: Iterable[str] = ("GET",),
        roles: Iterable[str] | None,
        path_params: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        body: type[BaseModel] | None = None,
        response: type[BaseModel] | None = None,
        status: int = 200,
        errors: Mapping[int, Iterable[str]] | None = None,
        media_types: Iterable[str] = ("application/json",),
        see_other: str = "",
        deprecated: Deprecated | None = None,
    ) -> Callable[[Callable[[RequestContext], Any]], Callable[[RequestContext], Any]]:
        """Register `handler` for `path`. `roles=None` makes the route public. `path_params`,
        `query` and `body` name the models the handler parses, `response` and `status` what it
        returns (default: its return annotation, 200) and in which media types, `errors` the
        codes it may answer besides the ones every route shares (authentication, roles, parsing,
        the backend), `see_other` when it may answer 303 instead (a link elsewhere), `deprecated`
        why callers should move off it (it keeps working)."""
        allowed = frozenset(roles) if roles is not None else None
        blueprint = self.blueprint
        own_errors = {status: tuple(codes) for status, codes in (errors or {}).items()}

        def decorator(handler: Callable[[RequestContext], Any]) -> Callable[[RequestContext], Any]:
            def view(**path_params: str) -> Response:
                response = _respond(handler, blueprint.current_request, path_params, allowed)
                if deprecated is not None:
                    response.headers.update(deprecated.headers(path))
                return response

            view.__name__ = handler.__name__
            # Any content type reaches the view: a GET does not care, and a body that is not JSON
            # is refused by `RequestContext.body` in our error shape (Chalice's own check
            # would answer 415 in its shape, before our code runs).
            blueprint.route(path, methods=list(methods), content_types=["*/*"])(view)
            tags = (self.tag,) if self.tag else ()
            for method in methods:
                self.routes.append(
                    RouteSpec(
                        path=path,
                        method=method,
                        handler=handler,
                        roles=allowed,
                        path_model=path_params,
                        query=query,
                        body=body,
                        response=response,
                        status=status,
                        errors=own_errors,
                        media_types=tuple(media_types),
                        tags=tags,
                        see_other=see_other,
                        deprecated=deprecated,
                    )
                )
            return handler

        return decorator
