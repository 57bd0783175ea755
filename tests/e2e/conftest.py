"""The local run (`python -m scripts.run_local`) as a session fixture: free ports, its own run
directory, a small demo portfolio; always stopped (the whole process group) at the end."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from scripts.local_env import RUN_INFO
from scripts.local_run_process import LocalRunFailed, local_run_on_free_ports
from scripts.local_run_process import start_local_run as launch
from scripts.token import local_token
from tests.conftest import TEST_ENV

# Enough for a deliberately bad policy at every partner and clients shared beyond the known ones.
DEMO_POLICIES = 40
# Delivery states the ingest ends in.
FINAL = {"accepted", "accepted_with_errors", "rejected", "held_for_review"}


@dataclass
class LocalRun:
    info: dict[str, Any]
    log_path: Path

    @property
    def api_url(self) -> str:
        return str(self.info["api_url"])

    def _embedded(self, factory: Any, service: str) -> Any:
        return factory(
            service,
            endpoint_url=self.info["aws_endpoint_url"],
            region_name=self.info["region"],
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def s3(self) -> Any:
        import boto3

        return self._embedded(boto3.client, "s3")

    def dynamodb(self) -> Any:
        """The local run's DynamoDB (a resource), to write what a test needs faster than the
        ingest would."""
        import boto3

        return self._embedded(boto3.resource, "dynamodb")

    def get(
        self, path: str, *, role: str = "admin", partner_id: str | None = None
    ) -> tuple[int, Any]:
        """GET an API path with a token of `role`; returns (status, decoded JSON body)."""
        return self._call("GET", path, None, role=role, partner_id=partner_id)

    def post(
        self, path: str, body: dict[str, Any], *, role: str, partner_id: str | None = None
    ) -> tuple[int, Any]:
        """POST a JSON body to an API path with a token of `role`; returns (status, body)."""
        return self._call("POST", path, body, role=role, partner_id=partner_id)

    def _call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        *,
        role: str,
        partner_id: str | None,
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {local_token(role, partner_id)}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(
            self.api_url + path, data=data, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]


def wait_for_delivery(run: LocalRun, partner_id: str, object_key: str) -> dict[str, Any]:
    """The delivery of `object_key` as the API lists it, once it is in a final state (fails the
    test with the run's log tail if it is not within 45 s)."""
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        status, body = run.get(f"/v1/deliveries?partner_id={partner_id}")
        assert status == 200, body
        for delivery in body["deliveries"]:
            if delivery["object_key"] == object_key and delivery["status"] in FINAL:
                return dict(delivery)
        time.sleep(0.3)
    pytest.fail(f"no finished delivery for {object_key}:\n{run.log_tail()}")


def start_local_run(run_dir: Path, **settings: str) -> subprocess.Popen[bytes]:
    """`python -m scripts.run_local` in its own session and run directory, with the test
    process's environment less the test stage's, its output appended to `run_dir/run.log`."""
    env = {k: v for k, v in os.environ.items() if k not in TEST_ENV}
    return launch(run_dir, env, **settings)


@contextmanager
def running_local_run(run_dir: Path, demo_policies: int = DEMO_POLICIES) -> Iterator[LocalRun]:
    """A local run on free ports, in `run_dir`, with a demo of `demo_policies` per partner;
    checked to stop cleanly on SIGTERM at the end, and stopped whatever happens."""
    env = {k: v for k, v in os.environ.items() if k not in TEST_ENV}
    try:
        with local_run_on_free_ports(run_dir, env, demo_policies) as started:
            yield LocalRun(started.info, run_dir / "run.log")
            # then it stops cleanly on SIGTERM
            os.killpg(started.process.pid, signal.SIGTERM)
            assert started.process.wait(timeout=30) == 0
            assert not (run_dir / RUN_INFO).exists()
    except LocalRunFailed as failed:
        pytest.fail(str(failed))


@pytest.fixture(scope="session")
def local_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRun]:
    # given a local run on free ports, in a run directory of its own, with a small demo
    with running_local_run(tmp_path_factory.mktemp("local-run")) as run:
        yield run
