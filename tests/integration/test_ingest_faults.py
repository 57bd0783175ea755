"""A confirm whose follow-up cannot be queued, through the API on moto: the HTTP answer, and
the delivery left held. (The ingest's other faults run on in-memory stores:
tests/unit/test_ingest_scenarios.py.)"""

from __future__ import annotations

import time
from typing import Any

import pytest

from chalicelib.errors import StoreError
from chalicelib.store.queues import Queue
from tests.conftest import bearer
from tests.support.ingest import csv_bytes, drain, portfolio, report, upload

pytestmark = pytest.mark.integration

PARTNER = "demo-volmacht"


def test_a_confirm_whose_queue_send_fails_can_be_confirmed_again(aws, api, monkeypatch):
    # given a held full delivery
    upload(f"incoming/{PARTNER}/full/m1.csv", csv_bytes(portfolio(10)))
    drain(aws["ingest_queue_url"])
    time.sleep(0.01)
    upload(f"incoming/{PARTNER}/full/m2.csv", csv_bytes(portfolio(5)))
    drain(aws["ingest_queue_url"])
    held = report(PARTNER)[-1]
    path = f"/v1/deliveries/{held['delivery_id']}/confirm"

    # when the first confirm cannot reach the queue
    def queue_down(self: Queue, message: dict[str, Any], **kwargs: Any) -> str:
        raise StoreError("send_message: unavailable")

    monkeypatch.setattr(Queue, "send", queue_down)
    first = api.http.post(path, headers=bearer("admin"))
    monkeypatch.undo()

    # then it says so, the delivery is still held, and a second confirm goes through
    assert first.status_code == 503
    still = api.http.get(f"/v1/deliveries/{held['delivery_id']}", headers=bearer("admin"))
    assert still.json_body["status"] == "held_for_review"
    second = api.http.post(path, headers=bearer("admin"))
    assert second.status_code == 202
    drain(aws["ingest_queue_url"])
    assert report(PARTNER)[-1]["policies_ended"] == 5
