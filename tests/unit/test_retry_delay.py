"""A failed ingest message waits a minute after its first receive, doubling per receive, at most
15 minutes: never the ingest queue's 90-minute visibility timeout, and a message that keeps
failing reaches the dead-letter queue half an hour after its first failure, not sooner."""

from __future__ import annotations

import pytest

from chalicelib.rules.retries import retry_delay_seconds
from chalicelib.store.queues import queue_url

pytestmark = pytest.mark.unit


def test_the_wait_doubles_per_receive_up_to_fifteen_minutes():
    waits = [retry_delay_seconds(count, 60) for count in range(1, 9)]
    assert waits == [60, 120, 240, 480, 900, 900, 900, 900]


@pytest.mark.parametrize("count", [0, -3])
def test_an_odd_receive_count_waits_as_the_first(count):
    assert retry_delay_seconds(count, 60) == 60


def test_the_fifth_failed_receive_goes_to_the_dead_letter_queue_half_an_hour_later():
    # the waits after receives 1-5 of the ingest queue (maxReceiveCount 5): the sixth receive
    # moves the message to its dead-letter queue
    assert sum(retry_delay_seconds(count, 60) for count in range(1, 6)) == 30 * 60


def test_a_stage_without_a_wait_retries_at_once():
    assert {retry_delay_seconds(count, 0) for count in range(1, 9)} == {0}


def test_a_queue_is_addressed_by_its_configured_url_else_by_the_one_sqs_gives_it():
    arn = "arn:aws:sqs:eu-west-1:123456789012:polisregister-prod-ingest"
    configured = "http://127.0.0.1:4566/123456789012/polisregister-prod-ingest"
    assert queue_url(arn, ("https://x/1/other", configured)) == configured
    assert queue_url(arn) == (
        "https://sqs.eu-west-1.amazonaws.com/123456789012/polisregister-prod-ingest"
    )
