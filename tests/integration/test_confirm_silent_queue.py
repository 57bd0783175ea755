"""An administrator confirms a held delivery while the ingest queue does not answer: the
confirm answers 503 `unavailable` and the delivery is held again, so it can be confirmed again
(the undo keeps its share of the request's deadline, docs/configuration.md "Calls to AWS")."""

from __future__ import annotations

import time
from typing import Any

import pytest

from chalicelib.config import reset_settings
from chalicelib.store.aws import reset_clients
from tests.conftest import bearer
from tests.support.ingest import csv_bytes, drain, portfolio, report, upload
from tests.support.silent import SilentEndpoint

pytestmark = pytest.mark.integration

PARTNER = "demo-volmacht"


def deliver(aws: dict[str, str], name: str, data: bytes) -> dict[str, Any]:
    upload(f"incoming/{PARTNER}/full/{name}", data)
    drain(aws["ingest_queue_url"])
    return report(PARTNER)[-1]


def test_a_confirm_while_the_queue_is_silent_leaves_the_delivery_held_to_confirm_again(
    aws: dict[str, str], api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a full delivery held for review (it drops half the portfolio)
    deliver(aws, "month1.csv", csv_bytes(portfolio(10)))
    time.sleep(0.01)
    held = deliver(aws, "month2.csv", csv_bytes(portfolio(5)))
    assert held["status"] == "held_for_review"
    path = f"/v1/deliveries/{held['delivery_id']}"

    # when an administrator confirms it while the queue accepts connections and never answers,
    # with calls of many attempts that would use up the request's whole deadline
    with SilentEndpoint() as silent_queue:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", silent_queue.url)
        monkeypatch.setenv("API_AWS_MAX_ATTEMPTS", "8")
        monkeypatch.setenv("API_AWS_CONNECT_TIMEOUT_SECONDS", "0.2")
        monkeypatch.setenv("API_AWS_READ_TIMEOUT_SECONDS", "0.2")
        monkeypatch.setenv("API_AWS_DEADLINE_SECONDS", "1")
        reset_settings()
        reset_clients()
        confirmed = api.http.post(f"{path}/confirm", headers=bearer("admin"))

    # then the confirm is unavailable, and the delivery is held again, not left processing
    assert confirmed.status_code == 503
    assert confirmed.json_body["error"]["code"] == "unavailable"
    for bound in ("MAX_ATTEMPTS", "CONNECT_TIMEOUT_SECONDS", "READ_TIMEOUT_SECONDS"):
        monkeypatch.delenv(f"API_AWS_{bound}")
    monkeypatch.delenv("AWS_ENDPOINT_URL_SQS")
    monkeypatch.delenv("API_AWS_DEADLINE_SECONDS")
    reset_settings()
    reset_clients()
    assert api.http.get(path, headers=bearer("admin")).json_body["status"] == "held_for_review"

    # and once the queue answers, confirming again ends the missing policies
    again = api.http.post(f"{path}/confirm", headers=bearer("admin"))
    assert again.status_code == 202, again.json_body
    drain(aws["ingest_queue_url"])
    assert api.http.get(path, headers=bearer("admin")).json_body["status"] == "accepted"
