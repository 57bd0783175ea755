"""One transient failure of an ingest message (a read timing out mid-file, throttling beyond
the client's retries) is retried within minutes, not after the ingest queue's 90-minute
visibility timeout: the failed delivery keeps its partner's turn meanwhile, so every later
delivery of that partner would wait as long."""

from __future__ import annotations

import time

import boto3
import moto.sqs.models as sqs_models
import pytest

from chalicelib.config import reset_settings
from chalicelib.errors import StoreError
from chalicelib.store.blobs import Blobs
from tests.support.ingest import csv_bytes, invoke, portfolio, report, upload

pytestmark = pytest.mark.integration

PARTNER = "demo-volmacht"
TWENTY_MINUTES_MS = 20 * 60 * 1000


def test_a_transient_failure_is_retried_within_minutes_not_after_90(aws, monkeypatch):
    sqs = boto3.client("sqs", region_name="eu-west-1")
    queue = aws["ingest_queue_url"]
    visibility = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["VisibilityTimeout"])
    assert visibility["Attributes"]["VisibilityTimeout"] == "5400"  # as infra/ declares it

    sqs.purge_queue(QueueUrl=queue)  # the bucket's s3:TestEvent
    # given a partner's delivery whose first read of its file times out once
    upload(f"incoming/{PARTNER}/full/portfolio.csv", csv_bytes(portfolio(5)))
    real_open = Blobs.open
    failures = iter([StoreError("get_object: ReadTimeoutError")])

    def open_failing_once(self, key, **kwargs):  # type: ignore[no-untyped-def]
        error = next(failures, None)
        if error is not None and key.startswith("incoming/"):
            raise error
        return real_open(self, key, **kwargs)

    monkeypatch.setattr(Blobs, "open", open_failing_once)

    # and the default wait before a failed message's next attempt (a minute, doubling)
    monkeypatch.setenv("FAILED_MESSAGE_RETRY_SECONDS", "60")
    reset_settings()

    # when Lambda's event source receives it (the queue's own visibility) and the handler fails
    received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=1, AttributeNames=["All"])
    (message,) = received["Messages"]
    result = invoke("ingest", [message])
    assert [f["itemIdentifier"] for f in result["batchItemFailures"]] == [message["MessageId"]]
    # (not at once: it waits its backoff)
    assert not sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=1).get("Messages")

    # then within twenty minutes the message is delivered again
    later = time.time() * 1000 + TWENTY_MINUTES_MS
    monkeypatch.setattr(sqs_models, "unix_time_millis", lambda *_: later)
    again = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=1, VisibilityTimeout=0)
    assert again.get("Messages"), "the failed delivery waits out the 90-minute visibility"
    invoke("ingest", again["Messages"])
    assert report(PARTNER)[-1]["status"] == "accepted"
