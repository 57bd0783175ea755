"""The local run's event-source mapping: SQS queues → the same handlers Lambda runs.

For every `@on_sqs_message` function of the app (`ingest`, `send_activation`) a thread long-polls
the function's queue, builds the Lambda SQS event (`{"Records": [...]}`), calls the function's
Lambda entry point `app.handler_map[name](event, context)` with a Lambda-like context (deadline =
the function's `lambda_timeout` from `.chalice/config.json`), and then does what Lambda's event
source mapping does with `ReportBatchItemFailures`. A function whose event source in
`infra/template.yaml` has a maximum concurrency gets that many threads, at most `LOCAL_WORKERS`
(the embedded DynamoDB serves one call at a time anyway):

- the handler returned normally: delete every message except those in `batchItemFailures`
  (an invalid or empty item identifier fails the whole batch, as in Lambda);
- the handler raised: delete nothing.

Messages that are not deleted become visible again after the queue's visibility timeout and end
in the dead-letter queue after `maxReceiveCount` receives (the queue's RedrivePolicy, which the
embedded AWS applies). A failed message comes back after `PUMP_RETRY_SECONDS` (default 5): on
the local run a transient fault costs seconds, and a message that keeps failing reaches the DLQ
within a minute. On AWS the ingest handler itself shortens a failed message's wait to a backoff of a
minute doubling to 15 minutes (`chalicelib/rules/retries.py`), not the queue's visibility
timeout.

Standalone, against a running local run (`make run` already starts a pump):

    python -m scripts.pump
"""

from __future__ import annotations

import base64
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from chalice.app import SQSEventConfig
from chalice.config import Config

from scripts.local_env import (
    DEFAULT_REGION,
    LOCAL_STAGE,
    LocalRunNotFound,
    apply_environment,
    chalice_config,
    environment_from_run_info,
    read_run_info,
)

# Not under "polisregister": the app's Chalice object sets that logger to ERROR and keeps its
# lines from the run's output, which hid the pump's warnings about failed messages.
log = logging.getLogger("local_run.pump")

# The queue each SQS-triggered function reads, by function name (keys of the run's queue URLs).
FUNCTION_QUEUES: dict[str, str] = {
    "ingest": "ingest_queue_url",
    "send_activation": "activation_queue_url",
}
SQS_MAX_BATCH = 10
LOCAL_ACCOUNT = "123456789012"
LOCAL_WORKERS = 2
DEFAULT_RETRY_SECONDS = 5

Handler = Callable[[dict[str, Any], Any], Any]


class LocalLambdaContext:
    """What Lambda passes as `context`, with the function's real deadline."""

    def __init__(
        self, function_name: str, *, memory_mb: int, timeout_seconds: int, region: str
    ) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory_mb
        self.invoked_function_arn = (
            f"arn:aws:lambda:{region}:{LOCAL_ACCOUNT}:function:polisregister-local-{function_name}"
        )
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/polisregister-local-{function_name}"
        self.log_stream_name = "local"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass
class Consumer:
    """One SQS-triggered function and the queue it reads."""

    function_name: str
    queue_url: str
    handler: Handler
    batch_size: int = 1
    timeout_seconds: int = 30
    memory_mb: int = 512
    workers: int = 1


@dataclass
class Stats:
    batches: int = 0
    received: int = 0
    deleted: int = 0
    failed: int = 0
    handler_errors: int = 0
    pump_errors: int = 0


def event_source_concurrency(function_name: str) -> int:
    """The maximum concurrency of the function's SQS event source in infra/ (1 if none)."""
    from scripts.provision import load_template

    logical_id = "".join(part.title() for part in function_name.split("_"))
    function = load_template()["Resources"].get(logical_id, {}).get("Properties", {})
    for source in function.get("Events", {}).values():
        scaling = source.get("Properties", {}).get("ScalingConfig", {})
        if "MaximumConcurrency" in scaling:
            return int(scaling["MaximumConcurrency"])
    return 1


def find_consumers(app: Any, queue_urls: Mapping[str, str]) -> list[Consumer]:
    """The app's SQS-triggered functions with their queue (by queue name, else by function name),
    batch size, timeout and memory as `.chalice/config.json` sets them for the local stage, and
    as many workers as infra/ lets run at once (at most `LOCAL_WORKERS`)."""
    by_name = {url.rstrip("/").rsplit("/", 1)[-1]: url for url in queue_urls.values() if url}
    config_from_disk = chalice_config()
    consumers = []
    for source in app.event_sources:
        if not isinstance(source, SQSEventConfig):
            continue
        queue_name = source.queue or (source.queue_arn or "").rsplit(":", 1)[-1]
        url = by_name.get(queue_name) or queue_urls.get(FUNCTION_QUEUES.get(source.name, ""), "")
        if not url:
            log.warning("no local queue for function %s; it is not pumped", source.name)
            continue
        scoped = Config(
            chalice_stage=LOCAL_STAGE, function_name=source.name, config_from_disk=config_from_disk
        )
        consumers.append(
            Consumer(
                function_name=source.name,
                queue_url=url,
                handler=app.handler_map[source.name],
                batch_size=max(1, min(SQS_MAX_BATCH, source.batch_size)),
                timeout_seconds=int(scoped.lambda_timeout or 30),
                memory_mb=int(scoped.lambda_memory_size or 128),
                workers=min(LOCAL_WORKERS, event_source_concurrency(source.name)),
            )
        )
    return consumers


def _message_attributes(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """SQS API message attributes in the shape Lambda's event uses (camelCase, base64)."""
    converted = {}
    for name, value in attributes.items():
        binary = value.get("BinaryValue")
        converted[name] = {
            "stringValue": value.get("StringValue"),
            "binaryValue": base64.b64encode(binary).decode() if binary is not None else None,
            "stringListValues": value.get("StringListValues", []),
            "binaryListValues": [
                base64.b64encode(b).decode() for b in value.get("BinaryListValues", [])
            ],
            "dataType": value.get("DataType", "String"),
        }
    return converted


def sqs_record(message: Mapping[str, Any], *, queue_arn: str, region: str) -> dict[str, Any]:
    """One received SQS message as a record of a Lambda SQS event."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": _message_attributes(message.get("MessageAttributes", {})),
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def sqs_event(
    messages: Iterable[Mapping[str, Any]], *, queue_arn: str, region: str
) -> dict[str, Any]:
    """Received SQS messages as the Lambda SQS event (``{"Records": [...]}``)."""
    return {"Records": [sqs_record(m, queue_arn=queue_arn, region=region) for m in messages]}


def failed_message_ids(result: Any, message_ids: list[str]) -> set[str]:
    """The messages Lambda would leave on the queue after the handler returned `result`."""
    if not isinstance(result, Mapping) or not result.get("batchItemFailures"):
        return set()
    failed = set()
    for item in result["batchItemFailures"]:
        identifier = item.get("itemIdentifier") if isinstance(item, Mapping) else None
        if not identifier or identifier not in message_ids:
            return set(message_ids)  # Lambda treats an invalid report as a failed batch
        failed.add(str(identifier))
    return failed


class Pump:
    """Feeds queue messages to the functions, `workers` threads per function (Lambda's event
    source polls with up to its maximum concurrency)."""

    def __init__(
        self,
        consumers: list[Consumer],
        *,
        region: str = DEFAULT_REGION,
        wait_seconds: int = 1,
        retry_after_seconds: int | None = None,
        sqs: Any = None,
    ) -> None:
        self.consumers = consumers
        self.region = region
        self.wait_seconds = wait_seconds
        self.retry_after_seconds = retry_after_seconds
        self._sqs = sqs
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._arns: dict[str, str] = {}
        self.stats: dict[str, Stats] = {c.function_name: Stats() for c in consumers}

    @property
    def sqs(self) -> Any:
        if self._sqs is None:
            from chalicelib.store import aws

            self._sqs = aws.client("sqs")
        return self._sqs

    def _queue_arn(self, url: str) -> str:
        if url not in self._arns:
            attributes = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
            self._arns[url] = attributes["Attributes"]["QueueArn"]
        return self._arns[url]

    def run_once(self, consumer: Consumer) -> int:
        """Receive one batch and hand it to the function; returns how many messages it got."""
        stats = self.stats[consumer.function_name]
        response = self.sqs.receive_message(
            QueueUrl=consumer.queue_url,
            MaxNumberOfMessages=consumer.batch_size,
            WaitTimeSeconds=self.wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = response.get("Messages", [])
        if not messages:
            return 0
        self._deliver(consumer, messages, stats)
        return len(messages)

    def _deliver(self, consumer: Consumer, messages: list[dict[str, Any]], stats: Stats) -> None:
        arn = self._queue_arn(consumer.queue_url)
        event = sqs_event(messages, queue_arn=arn, region=self.region)
        ids = [m["MessageId"] for m in messages]
        context = LocalLambdaContext(
            consumer.function_name,
            memory_mb=consumer.memory_mb,
            timeout_seconds=consumer.timeout_seconds,
            region=self.region,
        )
        stats.batches += 1
        stats.received += len(messages)
        started = time.monotonic()
        try:
            result = consumer.handler(event, context)
        except Exception as exc:
            # The exception text may quote file contents: log its type and the ids only.
            stats.handler_errors += 1
            stats.failed += len(messages)
            log.error(
                "%s raised %s on a batch of %d (messages %s); nothing deleted, SQS retries them",
                consumer.function_name,
                type(exc).__name__,
                len(messages),
                ",".join(ids),
            )
            self._retry_later(consumer, messages)
            return
        failed = failed_message_ids(result, ids)
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self._delete(consumer, done)
            stats.deleted += len(done)
        if failed:
            stats.failed += len(failed)
            log.warning(
                "%s reported %d of %d messages failed (%s); they are retried",
                consumer.function_name,
                len(failed),
                len(messages),
                ",".join(sorted(failed)),
            )
            self._retry_later(consumer, [m for m in messages if m["MessageId"] in failed])
        log.debug(
            "%s: batch of %d done in %.2fs (%d deleted, %d failed)",
            consumer.function_name,
            len(messages),
            time.monotonic() - started,
            len(done),
            len(failed),
        )

    def _delete(self, consumer: Consumer, messages: list[dict[str, Any]]) -> None:
        entries = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
        ]
        response = self.sqs.delete_message_batch(QueueUrl=consumer.queue_url, Entries=entries)
        for failure in response.get("Failed", []):
            log.error(
                "%s: could not delete a message (%s)", consumer.function_name, failure.get("Code")
            )

    def _retry_later(self, consumer: Consumer, messages: list[dict[str, Any]]) -> None:
        if self.retry_after_seconds is None:
            return
        for message in messages:
            try:
                self.sqs.change_message_visibility(
                    QueueUrl=consumer.queue_url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=self.retry_after_seconds,
                )
            except Exception as exc:
                log.warning("could not shorten the retry delay (%s)", type(exc).__name__)

    def _loop(self, consumer: Consumer) -> None:
        stats = self.stats[consumer.function_name]
        failures_in_a_row = 0
        while not self._stop.is_set():
            try:
                self.run_once(consumer)
                failures_in_a_row = 0
            except Exception as exc:
                # The embedded AWS restarting, a network hiccup, ...: log, back off, go on.
                stats.pump_errors += 1
                failures_in_a_row += 1
                log.error("pump for %s: %s; retrying", consumer.function_name, type(exc).__name__)
                self._stop.wait(min(5.0, 0.5 * failures_in_a_row))

    def start(self) -> None:
        for consumer in self.consumers:
            for worker in range(consumer.workers):
                thread = threading.Thread(
                    target=self._loop,
                    args=(consumer,),
                    name=f"pump-{consumer.function_name}-{worker}",
                )
                thread.daemon = True
                thread.start()
                self._threads.append(thread)
        log.info(
            "pumping %s",
            ", ".join(f"{c.function_name} <- {c.queue_url}" for c in self.consumers) or "nothing",
        )

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop polling; wait for running batches up to `timeout`. True if all threads ended."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in self._threads)


def pump_for_run(app: Any, info: Mapping[str, Any]) -> Pump:
    """A pump for the app against the local run that `info` (local.json) describes."""
    retry = os.environ.get("PUMP_RETRY_SECONDS", "").strip()
    return Pump(
        find_consumers(app, {k: str(v) for k, v in info.items() if k.endswith("_queue_url")}),
        region=str(info.get("region", DEFAULT_REGION)),
        retry_after_seconds=int(retry) if retry else DEFAULT_RETRY_SECONDS,
    )


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        info = read_run_info()
    except LocalRunNotFound as exc:
        log.error("%s", exc)
        return 1
    apply_environment(environment_from_run_info(info))
    from app import app

    pump = pump_for_run(app, info)
    pump.start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        pump.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
