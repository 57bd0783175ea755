"""The local run's pump does what Lambda's SQS event source mapping does (on moto)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from scripts.pump import Consumer, LocalLambdaContext, Pump, find_consumers, pump_for_run

pytestmark = pytest.mark.integration


class RecordingHandler:
    """A stand-in function: records its events, fails the messages whose body says so."""

    def __init__(self, *, raises: bool = False) -> None:
        self.raises = raises
        self.events: list[dict[str, Any]] = []
        self.contexts: list[Any] = []

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.events.append(event)
        self.contexts.append(context)
        if self.raises:
            raise RuntimeError("boom")
        failed = [r["messageId"] for r in event["Records"] if json.loads(r["body"]).get("fail")]
        return {"batchItemFailures": [{"itemIdentifier": m} for m in failed]}


def _sqs() -> Any:
    from chalicelib.store import aws

    return aws.client("sqs")


def _send(queue_url: str, *bodies: dict[str, Any]) -> None:
    for body in bodies:
        _sqs().send_message(QueueUrl=queue_url, MessageBody=json.dumps(body))


def _count(queue_url: str) -> int:
    attributes = _sqs().get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def _pump(queue_url: str, handler: RecordingHandler, *, batch_size: int = 10) -> Pump:
    # The activation queue: the ingest queue holds the bucket's s3:TestEvent.
    consumer = Consumer("worker", queue_url, handler, batch_size=batch_size, timeout_seconds=900)
    return Pump([consumer], wait_seconds=0, retry_after_seconds=0)


def test_only_the_messages_the_function_reports_failed_stay_on_the_queue(
    aws: dict[str, str],
) -> None:
    # given three messages, one of which the function fails
    queue = aws["activation_queue_url"]
    _send(queue, {"n": 1}, {"n": 2, "fail": True}, {"n": 3})
    handler = RecordingHandler()
    pump = _pump(queue, handler)

    # when the pump delivers until the queue yields nothing new
    received = sum(pump.run_once(pump.consumers[0]) for _ in range(3))

    # then the two good ones were deleted, the failed one is still there (and was retried)
    assert received >= 4
    assert _count(queue) == 1
    bodies = [json.loads(r["body"]) for e in handler.events for r in e["Records"]]
    assert bodies.count({"n": 2, "fail": True}) >= 2
    assert bodies.count({"n": 1}) == 1


def test_a_batch_whose_function_raised_is_retried_and_ends_in_the_dead_letter_queue(
    aws: dict[str, str],
) -> None:
    # given a message and a function that always raises
    queue, dlq = aws["activation_queue_url"], aws["activation_dlq_url"]
    _send(queue, {"n": 1})
    handler = RecordingHandler(raises=True)
    pump = _pump(queue, handler)

    # when the pump keeps delivering it
    for _ in range(10):
        pump.run_once(pump.consumers[0])

    # then nothing was deleted: after maxReceiveCount receives SQS moved it to the DLQ
    max_receives = json.loads(
        _sqs().get_queue_attributes(QueueUrl=queue, AttributeNames=["RedrivePolicy"])["Attributes"][
            "RedrivePolicy"
        ]
    )["maxReceiveCount"]
    assert len(handler.events) == max_receives
    assert _count(queue) == 0
    assert _count(dlq) == 1
    assert pump.stats["worker"].handler_errors == max_receives


def test_the_function_gets_a_lambda_shaped_event_and_context(aws: dict[str, str]) -> None:
    # given
    queue = aws["activation_queue_url"]
    _send(queue, {"n": 1})
    handler = RecordingHandler()
    pump = _pump(queue, handler)

    # when
    pump.run_once(pump.consumers[0])

    # then
    (record,) = handler.events[0]["Records"]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"].endswith(":polisregister-test-activation")
    assert record["awsRegion"] == "eu-west-1"
    assert json.loads(record["body"]) == {"n": 1}
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert {"messageId", "receiptHandle", "md5OfBody", "messageAttributes"} <= set(record)
    context = handler.contexts[0]
    assert isinstance(context, LocalLambdaContext)
    assert 890_000 < context.get_remaining_time_in_millis() <= 900_000


def test_an_invalid_failure_report_fails_the_whole_batch(aws: dict[str, str]) -> None:
    # given a function that reports an id that was not in its batch
    queue = aws["activation_queue_url"]
    _send(queue, {"n": 1}, {"n": 2})

    def bad_report(event: dict[str, Any], _context: Any) -> dict[str, Any]:
        return {"batchItemFailures": [{"itemIdentifier": "not-a-message-id"}]}

    pump = Pump([Consumer("worker", queue, bad_report, batch_size=10)], wait_seconds=0)

    # when
    pump.run_once(pump.consumers[0])

    # then nothing was deleted (as Lambda does)
    assert _count(queue) == 2


def test_the_apps_sqs_functions_are_pumped_with_their_configured_batch_and_timeout(
    aws: dict[str, str],
) -> None:
    # given the real app
    from app import app

    # when
    consumers = {c.function_name: c for c in find_consumers(app, aws)}

    # then
    assert consumers["ingest"].queue_url == aws["ingest_queue_url"]
    assert consumers["send_activation"].queue_url == aws["activation_queue_url"]
    assert consumers["ingest"].batch_size == 1
    assert consumers["send_activation"].batch_size == 10
    assert consumers["ingest"].timeout_seconds == 900
    assert consumers["ingest"].handler is app.handler_map["ingest"]
    # and deliveries run in parallel locally too (bounded), activation e-mails one at a time
    assert consumers["ingest"].workers == 2
    assert consumers["send_activation"].workers == 1


def test_on_the_local_run_a_failed_message_is_back_in_seconds_not_after_the_visibility_timeout(
    aws: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the local run's pump (PUMP_RETRY_SECONDS not set) and a queue whose visibility
    # timeout is long (the ingest queue's is 90 minutes), with a message the function fails
    from app import app

    monkeypatch.delenv("PUMP_RETRY_SECONDS", raising=False)
    queue = aws["activation_queue_url"]
    _sqs().set_queue_attributes(QueueUrl=queue, Attributes={"VisibilityTimeout": "5400"})
    pump = pump_for_run(app, aws)
    [consumer] = [c for c in pump.consumers if c.queue_url == queue]
    consumer.handler = RecordingHandler(raises=True)
    _send(queue, {"n": 1})

    # when the function fails it
    assert pump.run_once(consumer) == 1

    # then the message can be received again within seconds
    again = _sqs().receive_message(QueueUrl=queue, WaitTimeSeconds=10).get("Messages", [])
    assert [json.loads(m["Body"]) for m in again] == [{"n": 1}]
