"""`make run` says the demo is loaded only once the register has each demo delivery final, the
state every API call reads, not as soon as its report is in the bucket (the ingest writes the
report a moment before it marks the delivery final)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from chalicelib.models.delivery import DeliveryRecord, Progress
from chalicelib.store import aws as aws_clients
from chalicelib.store.deliveries import DynamoDeliveries
from scripts.run_local import DEMO_OBJECT, LocalRun

pytestmark = pytest.mark.integration

PARTNER = "demo-volmacht"
KEY = f"incoming/{PARTNER}/{DEMO_OBJECT}"


def _delivery(bucket: str) -> DeliveryRecord:
    now = int(time.time())
    return DeliveryRecord(
        delivery_id="d" * 32,
        partner_id=PARTNER,
        kind="full",
        bucket=bucket,
        object_key=KEY,
        received_at="2026-12-02T04:00:00+00:00",
        seq="0001",
        expires_at=now + 3600,
        lease_until=now + 900,
    )


def test_a_demo_delivery_whose_report_is_written_but_that_is_not_final_is_still_loading(
    aws: dict[str, Any],
) -> None:
    # given the demo delivery of one partner, processing, with its report already in the bucket
    deliveries = DynamoDeliveries()
    record = _delivery(aws["bucket"])
    deliveries.claim(record, now=int(time.time()))
    aws_clients.client("s3").put_object(
        Bucket=aws["bucket"], Key=f"reports/{PARTNER}/{record.delivery_id}.json", Body=b"{}"
    )
    run = LocalRun()
    run._demo_pending = {PARTNER: KEY}

    # when the run looks, then it is still loading
    run._note_final_demo_deliveries()
    assert run._demo_pending == {PARTNER: KEY}

    # and once the delivery is marked final, it is loaded, with the register's report
    progress = Progress(rows_total=3, rows_accepted=3)
    deliveries.finish(
        record.delivery_id, status="accepted", progress=progress, finished_at="2026-12-02T04:01"
    )
    run._note_final_demo_deliveries()
    assert run._demo_pending == {}
    assert run._demo_reports[PARTNER]["status"] == "accepted"
    assert run._demo_reports[PARTNER]["rows_total"] == 3
