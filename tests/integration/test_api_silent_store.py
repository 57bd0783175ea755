"""A DynamoDB that accepts connections and never answers: the API gives up within its bounds
(API_AWS_*, docs/configuration.md "Calls to AWS") and answers 503 `unavailable` in the error
shape, instead of waiting until the function's timeout turns it into API Gateway's bare 502."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.config import reset_settings
from chalicelib.store.aws import reset_clients
from tests.conftest import bearer
from tests.support.silent import SilentEndpoint, answered_within

pytestmark = pytest.mark.integration

# Only keeps a test from hanging when the bounds do not hold (they end it in about a second).
HANG_GUARD_SECONDS = 120


@pytest.fixture
def silent_store(monkeypatch: pytest.MonkeyPatch) -> Iterator[SilentEndpoint]:
    with SilentEndpoint() as endpoint:
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint.url)
        reset_settings()
        reset_clients()
        yield endpoint
    reset_clients()


def ask_for_a_policy(tmp_path: Any) -> Any:
    """GET a policy as the legal service centre (its first call is a Query on the table)."""
    from chalice.test import Client

    from app import app

    def ask() -> Any:
        with Client(app, project_dir=str(tmp_path)) as client:
            return client.http.get("/v1/policies/demo-volmacht/P00001", headers=bearer("jsc"))

    return answered_within(HANG_GUARD_SECONDS, ask)


def test_given_a_store_that_never_answers_when_a_policy_is_read_then_503_unavailable(
    monkeypatch: pytest.MonkeyPatch, silent_store: SilentEndpoint, tmp_path: Any
) -> None:
    # given an API whose calls to AWS get two attempts of a tiny read timeout
    monkeypatch.setenv("API_AWS_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("API_AWS_CONNECT_TIMEOUT_SECONDS", "1")
    monkeypatch.setenv("API_AWS_READ_TIMEOUT_SECONDS", "0.2")
    reset_settings()

    # when a policy is read while DynamoDB stays silent
    response = ask_for_a_policy(tmp_path)

    # then the caller gets the register's 503 in the error shape, after the two attempts
    assert response.status_code == 503
    assert response.json_body["error"]["code"] == "unavailable"
    assert response.json_body["error"]["message"]
    assert silent_store.connections == 2


def test_given_a_store_that_never_answers_then_no_attempt_starts_past_the_deadline(
    monkeypatch: pytest.MonkeyPatch, silent_store: SilentEndpoint, tmp_path: Any
) -> None:
    # given many attempts allowed per call, but a request deadline with room for one attempt
    monkeypatch.setenv("API_AWS_MAX_ATTEMPTS", "8")
    monkeypatch.setenv("API_AWS_CONNECT_TIMEOUT_SECONDS", "0.5")
    monkeypatch.setenv("API_AWS_READ_TIMEOUT_SECONDS", "0.2")
    monkeypatch.setenv("API_AWS_DEADLINE_SECONDS", "0.8")
    reset_settings()

    # when a policy is read while DynamoDB stays silent
    response = ask_for_a_policy(tmp_path)

    # then the deadline, not the attempts, ends the calls: 503 unavailable, attempts left over
    assert response.status_code == 503
    assert response.json_body["error"]["code"] == "unavailable"
    assert 1 <= silent_store.connections < 8
