"""A local run (`python -m scripts.run_local`) as a child process on free ports, in a run
directory of its own: for the end-to-end tests, `make screenshots` and `make bench-console`,
which must not depend on (or disturb) a `make run` in another terminal."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scripts.local_env import ROOT, RUN_INFO

STARTUP_TIMEOUT_S = 120


class LocalRunFailed(RuntimeError):
    """The local run did not start; the message ends with its log's tail."""


@dataclass
class StartedRun:
    info: dict[str, Any]
    process: subprocess.Popen[bytes]
    run_dir: Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_local_run(
    run_dir: Path, environ: Mapping[str, str], **settings: str
) -> subprocess.Popen[bytes]:
    """`python -m scripts.run_local` in its own session and run directory, with `environ` and
    `settings`, its output appended to `run_dir/run.log`."""
    env = {**environ, "RUN_DIR": str(run_dir), "PYTHONUNBUFFERED": "1", **settings}
    with (run_dir / "run.log").open("ab") as log_file:
        return subprocess.Popen(
            [sys.executable, "-m", "scripts.run_local"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop_local_run(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the run's process group (a clean stop), SIGKILL if it does not end."""
    for sig, grace in ((signal.SIGTERM, 20), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
            os.killpg(process.pid, signal.SIGKILL)  # anything left in the group
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue
        return


@contextmanager
def local_run_on_free_ports(
    run_dir: Path, environ: Mapping[str, str], demo_policies: int
) -> Iterator[StartedRun]:
    """A local run with a demo of `demo_policies` per partner, once its run info is written;
    stopped (the whole process group) whatever happens."""
    process = start_local_run(
        run_dir,
        environ,
        AWS_PORT=str(free_port()),
        API_PORT=str(free_port()),
        DEMO="1",
        DEMO_POLICIES=str(demo_policies),
        DEMO_TIMEOUT="90",
    )
    try:
        info_path = run_dir / RUN_INFO
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not info_path.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                tail = (run_dir / "run.log").read_text(errors="replace")[-4000:]
                exit_code = process.poll()
                raise LocalRunFailed(f"the local run did not start (exit {exit_code}):\n{tail}")
            time.sleep(0.2)
        yield StartedRun(json.loads(info_path.read_text()), process, run_dir)
    finally:
        stop_local_run(process)
