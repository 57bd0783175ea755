"""The local run's embedded AWS: moto's server, with DynamoDB calls served one at a time and a
list of the e-mails it sent.

moto's DynamoDB is not thread-safe: a Query walks the whole table in Python while another thread
writes to it, and fails with "dictionary changed size during iteration" (HTTP 500, which the API
answers `503 unavailable`). Under load, with the ingest writing, lookups failed so. DynamoDB
calls are served one at a time; S3 and SQS (whose long polls wait up to seconds) are not held up.

`GET /_local/ses/sent` answers the e-mails the embedded SES has "sent" (`make mails` reads
them): moto's own `/moto-api/data.json` serialises every object of every service, every
DynamoDB item too, which took longer than its caller waited once the demo was loaded.

Only the local run: DynamoDB itself has no such limits.
"""

from __future__ import annotations

import json
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

from scripts.local_env import SENT_MAIL_PATH

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


def sent_messages() -> list[dict[str, Any]]:
    """Every e-mail the embedded SES sent (`SendEmail`), oldest first per account and region."""
    from moto.ses.models import Message, ses_backends

    return [
        {"destinations": m.destinations, "subject": m.subject, "body": m.body}
        for _account, _region, backend in ses_backends.iter_backends()
        for m in getattr(backend, "sent_messages", [])
        if isinstance(m, Message)
    ]


class SentMailRoute:
    """WSGI middleware: `GET SENT_MAIL_PATH` answers `sent_messages()` as JSON; anything else
    goes on to moto."""

    def __init__(self, app: WsgiApp) -> None:
        self._app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO") != SENT_MAIL_PATH or environ.get("REQUEST_METHOD") != "GET":
            return self._app(environ, start_response)
        body = json.dumps(sent_messages()).encode()
        start_response(
            "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        )
        return [body]


class EmbeddedAws(ThreadedMotoServer):
    """`ThreadedMotoServer` serving `OneDynamoDbCallAtATime` around moto's application, and the
    sent e-mails at `SENT_MAIL_PATH`."""

    def _server_entry(self) -> None:
        app = SentMailRoute(OneDynamoDbCallAtATime(DomainDispatcherApplication(create_backend_app)))
        self._server = make_server(
            self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()
