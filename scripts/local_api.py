"""The local run's HTTP front: `chalice local`'s request handler, answering what it answers by
itself (before the app runs) in the API's error shape `{"error": {"code", "message"}}`.

`chalice local` imitates API Gateway's default answers: a path that is no route is
`403 {"message": ...}` whose text repeats the request's whole Authorization header (so bearer
tokens end up in client logs), and Python's HTTP server answers an unknown method with an HTML
`501`. In the deployed stage API Gateway answers those itself, with the gateway responses that
`infra/` configures.

It also serves the web console's development sign-in, `POST /console/dev-token`: a token of the
local stage for the role (and partner) picked on the console's sign-in screen. It lives here, in
the local run, and nowhere in the app: no deployed API can issue a token.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from chalice.local import (
    ChaliceRequestHandler,
    CustomLocalChalice,
    LocalChalice,
    LocalDevServer,
    LocalGatewayException,
)
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store"}
# What the server itself refuses (status -> our status and code); anything else is bad_request.
SERVER_ERRORS = {
    501: (405, "method_not_allowed", "this method is not supported"),
    414: (414, "uri_too_long", "the request line is too long"),
    431: (431, "headers_too_large", "the request headers are too large"),
}


DEV_TOKEN_PATH = "/console/dev-token"
DEV_TOKEN_MAX_BODY = 4096
DEV_TOKEN_HOURS = 8


def error_body(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode()


class DevTokenRequest(BaseModel):
    """What the console's development sign-in sends; `lifetime_seconds` lets a test ask for a
    token that expires at once."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["jsc", "partner", "admin"]
    partner_id: str | None = None
    subject: Annotated[
        str,
        StringConstraints(
            strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[\w .@-]+$"
        ),
    ] = "ontwikkelaar"
    lifetime_seconds: int = Field(default=DEV_TOKEN_HOURS * 3600, ge=1, le=DEV_TOKEN_HOURS * 3600)


def dev_token_response(raw: bytes) -> tuple[int, bytes]:
    """(status, JSON body) for a development sign-in request."""
    from scripts.token import local_settings, local_token

    try:
        request = DevTokenRequest.model_validate_json(raw or b"{}")
    except ValidationError as exc:
        fields = ", ".join(sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]}))
        return 422, error_body("validation_failed", f"the sign-in request is not valid: {fields}")
    partners = local_settings().partners
    if request.role == "partner" and request.partner_id not in partners:
        return 422, error_body(
            "validation_failed", f"a partner sign-in needs one of: {', '.join(partners)}"
        )
    partner_id = request.partner_id if request.role == "partner" else None
    token = local_token(
        request.role,
        partner_id,
        subject=request.subject,
        lifetime_seconds=request.lifetime_seconds,
    )
    return 200, json.dumps({"token": token}).encode()


class LocalApiRequestHandler(ChaliceRequestHandler):
    def _send_error_response(self, error: LocalGatewayException) -> None:
        # Raised by the local gateway only for a path that matches no route (the app uses no
        # Chalice authorizers). Its own body would repeat the Authorization header.
        self._send_http_response(
            404,
            dict(JSON_HEADERS),
            error_body("not_found", "no route answers this method and path"),
        )

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Python's HTTP server refusing a request before the gateway sees it (unknown method,
        malformed request line, oversized headers): JSON in our shape instead of HTML."""
        status, error, text = SERVER_ERRORS.get(code, (400, "bad_request", "malformed request"))
        body = error_body(error, text)
        self.send_response(status)
        self.send_header("Content-Type", JSON_HEADERS["Content-Type"])
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_POST(self) -> None:
        if urlsplit(self.path).path != DEV_TOKEN_PATH:
            self._generic_handle()
            return
        try:
            length = int(self.headers.get("content-length", "0"))
        except ValueError:
            length = -1
        content_type = self.headers.get("content-type", "")
        if content_type.split(";")[0].strip().lower() != "application/json":
            # A form of another site cannot send JSON without a preflight that is refused.
            status, body = 415, error_body("unsupported_media_type", "send the sign-in as JSON")
        elif not 0 <= length <= DEV_TOKEN_MAX_BODY:
            status, body = 400, error_body("bad_request", "malformed sign-in request")
        else:
            status, body = dev_token_response(self.rfile.read(length))
        self._send_http_response(status, dict(JSON_HEADERS), body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Query strings carry personal data (names, birth dates, e-mail addresses): log the
        # method, path and status only.
        self.log_message('"%s %s" %s', self.command, urlsplit(self.path).path, code)

    def _generic_handle(self) -> None:
        try:
            super()._generic_handle()
        except ValueError:
            # A Content-Length that is not a number.
            self.send_error(400)


def create_local_api_server(app: Any, config: Any, host: str, port: int) -> LocalDevServer:
    """What `chalice.local.create_local_server` builds, with `LocalApiRequestHandler`: the
    app's class becomes one whose `current_request` is per thread (the server is threaded)."""
    CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
    app.__class__ = CustomLocalChalice
    return LocalDevServer(app, config, host, port, handler_cls=LocalApiRequestHandler)
