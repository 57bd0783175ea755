"""Shared fixtures: a test stage in the environment, moto for AWS, the Chalice test client."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

TEST_ENV = {
    "STAGE": "test",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "TABLE_NAME": "polisregister-test",
    "BUCKET_NAME": "polisregister-test",
    "PARTNERS": "demo-volmacht,demo-verzekeraar,demo-intermediair",
    "JWT_SECRET": "test-secret-test-secret-test-secret-0000",
    "CLIENT_ID_KEY": "test-client-id-key-000",
    "SES_SENDER": "noreply@polisregister.test",
    "PORTAL_BASE_URL": "https://portal.test",
    "POWERTOOLS_DEV": "false",
    # Tests deliver a failed message again at once, as the local run's pump does within seconds.
    "FAILED_MESSAGE_RETRY_SECONDS": "0",
}
os.environ.update(TEST_ENV)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)


def _fresh_process_state() -> None:
    from chalicelib.config import reset_settings
    from chalicelib.observability import metrics
    from chalicelib.store.aws import reset_clients

    reset_settings()
    reset_clients()
    # A service called directly (not through the handler) records metrics that nothing
    # flushes: the next test's first invocation would emit them as its own.
    metrics.clear_metrics()


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key, value in TEST_ENV.items():
        monkeypatch.setenv(key, value)
    _fresh_process_state()
    yield
    _fresh_process_state()


def _dynamodb_one_call_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's DynamoDB is not thread-safe (a transaction deep-copies the table while another
    thread's write changes it): the app's concurrent DynamoDB requests are answered one at a
    time, as the local run's embedded AWS answers them (scripts/embedded_aws.py). What moto
    answers is unchanged."""
    from moto.dynamodb.responses import DynamoHandler

    moto_call = DynamoHandler.call_action
    lock = threading.RLock()

    def one_at_a_time(self: Any) -> Any:
        with lock:
            return moto_call(self)

    monkeypatch.setattr(DynamoHandler, "call_action", one_at_a_time)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A fresh moto backend with the same resources as infra/ (bucket, queues, table)."""
    from moto import mock_aws

    from scripts.provision import provision

    _dynamodb_one_call_at_a_time(monkeypatch)
    with mock_aws():
        resources = provision(
            None,
            TEST_ENV["AWS_DEFAULT_REGION"],
            table_name=TEST_ENV["TABLE_NAME"],
            bucket_name=TEST_ENV["BUCKET_NAME"],
            stage="test",
        )
        monkeypatch.setenv("INGEST_QUEUE_URL", resources["ingest_queue_url"])
        monkeypatch.setenv("ACTIVATION_QUEUE_URL", resources["activation_queue_url"])
        _fresh_process_state()
        yield resources


@pytest.fixture
def api(aws: dict[str, str], tmp_path: Any) -> Iterator[Any]:
    """The Chalice test client on the real app, over moto. The project dir is empty so that the
    client does not overlay a stage's environment from .chalice/config.json."""
    from chalice.test import Client

    from app import app

    with Client(app, project_dir=str(tmp_path)) as client:
        yield client


@contextmanager
def app_over_fresh_moto(project_dir: Path) -> Iterator[Any]:
    """The Chalice test client on the real app over a fresh moto backend with infra/'s resources.
    For module-scoped fixtures whose requests are refused before they write, so the tests of a
    module share one backend without disturbing each other."""
    from chalice.test import Client
    from moto import mock_aws

    from app import app
    from scripts.provision import provision

    with mock_aws():
        provision(
            None,
            TEST_ENV["AWS_DEFAULT_REGION"],
            table_name=TEST_ENV["TABLE_NAME"],
            bucket_name=TEST_ENV["BUCKET_NAME"],
            stage="test",
        )
        with Client(app, project_dir=str(project_dir)) as client:
            yield client


def bearer(role: str, partner_id: str | None = None, **kwargs: Any) -> dict[str, str]:
    from chalicelib.auth import issue_token

    return {"Authorization": f"Bearer {issue_token(role, partner_id=partner_id, **kwargs)}"}


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """The contract fuzz run's figures (tests/e2e/test_contract_fuzz.py), when it ran. Here, not
    in tests/e2e: with xdist only this conftest is loaded where the summary is written."""
    from tests.e2e.test_contract_fuzz import SUMMARY_KEY

    if hasattr(config, "workerinput"):
        return  # an xdist worker: the controller reports
    summary = config.cache.get(SUMMARY_KEY, None) if config.cache else None
    if summary:
        config.cache.set(SUMMARY_KEY, None)
        terminalreporter.write_line(f"contract fuzz: {json.dumps(summary)}")
