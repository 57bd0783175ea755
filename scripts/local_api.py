"""The local run's HTTP front: `chalice local`'s request handler, answering what it answers by
itself (before the app runs) in the API's error shape `{"error": {"code", "message"}}`.

`chalice local` imitates API Gateway's default answers: a path that is no route is
`403 {"message": ...}` whose text repeats the request's whole Authorization header (so bearer
tokens end up in client logs), and Python's HTTP server answers an unknown method with an HTML
`501`. In the deployed stage API Gateway answers those itself, with the gateway responses that
`infra/` configures.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from chalice.local import (
    ChaliceRequestHandler,
    CustomLocalChalice,
    LocalChalice,
    LocalDevServer,
    LocalGatewayException,
)

JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store"}
# What the server itself refuses (status -> our status and code); anything else is bad_request.
SERVER_ERRORS = {
    501: (405, "method_not_allowed", "this method is not supported"),
    414: (414, "uri_too_long", "the request line is too long"),
    431: (431, "headers_too_large", "the request headers are too large"),
}


def error_body(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode()


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
