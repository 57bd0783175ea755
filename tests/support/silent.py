"""A network endpoint that accepts connections and never answers: what a hung DynamoDB or
identity provider looks like to a client."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class SilentEndpoint:
    """A local socket that accepts every connection, reads nothing and answers nothing."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self._held: list[socket.socket] = []
        self._closing = False
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    @property
    def connections(self) -> int:
        return len(self._held)

    def _accept(self) -> None:
        while not self._closing:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            self._held.append(connection)

    def __enter__(self) -> SilentEndpoint:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing = True
        self._listener.close()
        for connection in self._held:
            connection.close()


def answered_within(seconds: float, ask: Callable[[], T]) -> T:
    """`ask()`'s answer, asked on a thread; fails when there is none after `seconds`, so that a
    call that hangs fails its test instead of hanging it."""
    answers: list[T] = []
    asking = threading.Thread(target=lambda: answers.append(ask()), daemon=True)
    asking.start()
    asking.join(seconds)
    assert answers, f"no answer after {seconds} s: still waiting on the silent endpoint"
    return answers[0]
