"""The local run's embedded AWS: moto's server, with DynamoDB calls served one at a time.

moto's DynamoDB is not thread-safe: a Query walks the whole table in Python while another thread
writes to it, and fails with "dictionary changed size during iteration" (HTTP 500, which the API
answers `503 unavailable`). Under load, with the ingest writing, lookups failed so. DynamoDB
calls are served one at a time; S3 and SQS (whose long polls wait up to seconds) are not held up.
Only the local run: DynamoDB itself has no such limit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class OneDynamoDbCallAtATime:
    """WSGI middleware: requests whose `X-Amz-Target` is a DynamoDB operation run under one lock,
    their whole answer produced inside it."""

    def __init__(self, app: WsgiApp) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if not str(environ.get("HTTP_X_AMZ_TARGET", "")).startswith("DynamoDB"):
            return self._app(environ, start_response)
        with self._lock:
            return list(self._app(environ, start_response))


class EmbeddedAws(ThreadedMotoServer):
    """`ThreadedMotoServer` serving `OneDynamoDbCallAtATime` around moto's application."""

    def _server_entry(self) -> None:
        app = OneDynamoDbCallAtATime(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(
            self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()
