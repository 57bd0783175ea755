"""`make run` starts again at once after a stop: connections of the stopped run that wait in
TIME_WAIT do not make its ports look busy, while a server that still listens does."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from scripts.local_env import RUN_INFO
from scripts.local_run_process import free_port, stop_local_run
from scripts.run_local import HOST, StartupError, _require_free_port
from tests.e2e.conftest import start_local_run

pytestmark = pytest.mark.e2e


def _port_with_a_connection_in_time_wait() -> int:
    """A port whose server side closed a connection first (so it sits in TIME_WAIT), and whose
    listener is gone: what a stopped run leaves behind for about a minute."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((HOST, 0))
        listener.listen()
        port = int(listener.getsockname()[1])
        with socket.create_connection((HOST, port)) as client:
            served, _ = listener.accept()
            served.close()  # the server closes first, as an HTTP/1.0 server does
            assert client.recv(1) == b""
    return port


def test_a_port_whose_last_connection_waits_in_time_wait_counts_as_free() -> None:
    # given a port a stopped server was using a moment ago
    port = _port_with_a_connection_in_time_wait()

    # when the local run checks it, then it is free (no StartupError)
    _require_free_port(port, "API_PORT")


def test_a_port_a_server_listens_on_is_reported_as_busy_with_what_to_do() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind((HOST, 0))
        server.listen()
        port = int(server.getsockname()[1])

        with pytest.raises(StartupError) as refused:
            _require_free_port(port, "API_PORT")

    assert f"port {port} on {HOST} is in use" in str(refused.value)
    assert f"API_PORT={port + 1}" in str(refused.value)


def _start(run_dir: Path, aws_port: int, api_port: int) -> subprocess.Popen[bytes]:
    return start_local_run(run_dir, AWS_PORT=str(aws_port), API_PORT=str(api_port), DEMO="0")


def _wait_until_started(process: subprocess.Popen[bytes], run_dir: Path) -> dict[str, str]:
    deadline = time.monotonic() + 120
    info = run_dir / RUN_INFO
    while not info.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            log = (run_dir / "run.log").read_text(errors="replace")[-3000:]
            pytest.fail(f"the local run did not start (exit {process.poll()}):\n{log}")
        time.sleep(0.2)
    return dict(json.loads(info.read_text()))


def test_a_stopped_run_starts_again_at_once_on_the_same_ports(tmp_path: Path) -> None:
    # given a local run that served requests and was stopped
    aws_port, api_port = free_port(), free_port()
    first = _start(tmp_path, aws_port, api_port)
    try:
        info = _wait_until_started(first, tmp_path)
        for _ in range(3):
            with urllib.request.urlopen(info["api_url"] + "/v1/health", timeout=10) as response:
                assert response.status == 200
        os.killpg(first.pid, signal.SIGTERM)
        assert first.wait(timeout=30) == 0
    finally:
        stop_local_run(first)

    # when it is started again straight away on the same ports
    second = _start(tmp_path, aws_port, api_port)
    try:
        info = _wait_until_started(second, tmp_path)

        # then it runs, and says that the previous run's data is gone
        with urllib.request.urlopen(info["api_url"] + "/v1/health", timeout=10) as response:
            assert response.status == 200
        log = (tmp_path / "run.log").read_text(errors="replace")
        assert log.count("the previous run's data is gone") == 1
    finally:
        stop_local_run(second)
