"""One measurement of the ingest benchmark, run in its own process so that its peak RSS is its
own (the AWS backend is another process: `bench.backend`).

    python -m bench.ingest <mode> --file bench/out/portfolio-10000.csv [...]

Modes (issue 6):

- `parse`: the streaming reader over the local file, nothing else;
- `validate`: reader + `validate_row` (validation and normalisation);
- `ingest`: the REAL ingest handler (`app.handler_map["ingest"]`) on the SQS message(s) the
  upload's S3 notification put on the ingest queue (the parent uploaded the file), continued
  until the queue is empty (hand-overs included); the app's AWS clients are made before the
  clock, as a warm Lambda has them (`client_setup_cpu_seconds`: what making them took);
- `floor`: boto3 `batch_writer` of the same items (`policy_items` of the file's rows), built
  before the clock starts;
- `naive`: the same items, one `put_item` each (of the first `--limit-rows` rows).

Prints one JSON object: rows, seconds (wall), cpu_seconds (this process), peak RSS (MB,
`ru_maxrss`), RSS before the measured part, and DynamoDB requests by operation (botocore
`before-call` hooks on the clients this process uses). With `--parts` (modes `validate` and
`ingest`), also where the time went in place (`bench.parts`): `validate_row`, and in the ingest
closing each policy, judging it, counting its fields, and every AWS request's wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.backend import rss_mb

Result = dict[str, Any]


def _peak_rss_mb() -> float:
    # VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss across exec, so a measuring child
    # would report the RSS of the process that started it (bench.run holds the generated files).
    return rss_mb(os.getpid(), "VmHWM")


class CallCounter:
    """DynamoDB requests by operation name."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-call.dynamodb", self._count)

    def attach_to_every_new_client(self) -> None:
        """Every client created from now on by boto3's default session (botocore copies the
        session's event hooks into each new client), whichever way the store makes them."""
        import boto3

        if boto3.DEFAULT_SESSION is None:  # `--parts` may have made it, with its own hooks
            boto3.setup_default_session()
        assert boto3.DEFAULT_SESSION is not None
        boto3.DEFAULT_SESSION.events.register("before-call.dynamodb", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1


def _measure(run: Callable[[], int], calls: CallCounter | None = None) -> Result:
    before = rss_mb(os.getpid())
    cpu, wall = time.process_time(), time.perf_counter()
    rows = run()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "rows": rows,
        "seconds": wall,
        "cpu_seconds": cpu,
        "rss_before_mb": before,
        "peak_rss_mb": _peak_rss_mb(),
        "calls": dict(calls.calls) if calls else {},
    }


def parse_only(path: Path) -> Result:
    from chalicelib.services.reader import RawRow, open_rows

    def run() -> int:
        rows = 0
        with path.open("rb") as handle:
            for item in open_rows(handle, filename=path.name):
                rows += isinstance(item, RawRow)
        return rows

    return _measure(run)


def parse_and_validate(path: Path) -> Result:
    from bench.data import TODAY
    from chalicelib.rules.rows import map_header, validate_row
    from chalicelib.services.reader import RawRow, open_rows

    def run() -> int:
        rows = 0
        with path.open("rb") as handle:
            reader = open_rows(handle, filename=path.name)
            header = map_header(list(reader.format.labels), "full")
            for item in reader:
                if isinstance(item, RawRow):
                    outcome = validate_row(
                        item.values, header, kind="full", line=item.line, today=TODAY
                    )
                    rows += outcome.row is not None
        return rows

    return _measure(run)


def full_ingest(queue_url: str) -> Result:
    """The real handler on the queue's messages until the queue is empty."""
    import boto3

    calls = CallCounter()
    calls.attach_to_every_new_client()  # before the app's store makes its (lazy) clients

    from app import app  # imported before the clock starts: a cold start is not throughput
    from chalicelib.config import get_settings

    sqs = boto3.client("sqs", region_name=get_settings().aws_region)
    invocations = 0
    cold_clients = warm_clients()

    def run() -> int:
        nonlocal invocations
        invocations = drain_ingest_queue(app, sqs, queue_url)
        return 0

    result = _measure(run, calls)
    # Read after the clock stopped: the harness reading the report is not the ingest's work.
    result["rows"] = _accepted_rows()
    result["invocations"] = invocations
    result["client_setup_cpu_seconds"] = cold_clients
    return result


def warm_clients() -> float:
    """Make the app's AWS clients before the clock starts, as a warm Lambda holds them from its
    earlier invocations (a cold start is not throughput); the CPU seconds that took, reported
    beside the figures, not in them."""
    from chalicelib.store import aws

    cpu = time.process_time()
    for service in ("s3", "sqs", "dynamodb"):
        aws.client(service)
    aws.resource("dynamodb")
    aws.bulk_client("dynamodb")
    return time.process_time() - cpu


def drain_ingest_queue(
    app: Any,
    sqs: Any,
    queue_url: str,
    *,
    wait_seconds: int = 0,
    prepare: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> int:
    """The real ingest handler on the queue's messages, one at a time, until the queue is
    empty (as Lambda's poller would: a message is deleted once handled); the invocations.
    `prepare` rewrites a received message before the handler sees it (a benchmark moving an
    upload's notification in time)."""
    invocations = 0
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=wait_seconds
        ).get("Messages", [])
        if not messages:
            return invocations
        message = prepare(messages[0]) if prepare else messages[0]
        result = app.handler_map["ingest"](_sqs_event(message), LambdaContext())
        invocations += 1
        if result.get("batchItemFailures"):
            raise RuntimeError(f"the ingest reported failures: {result}")
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=messages[0]["ReceiptHandle"])


class LambdaContext:
    """What the handler reads of Lambda's context: a full 15 minutes left, always."""

    function_name = "ingest"
    memory_limit_in_mb = 1024
    aws_request_id = "bench"
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:ingest"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


def _sqs_event(message: Any) -> dict[str, Any]:
    """The Lambda SQS event of one received message."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": {},
                "messageAttributes": {},
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:ingest",
                "awsRegion": "eu-west-1",
            }
        ]
    }


def _accepted_rows() -> int:
    """rows_accepted of the (only) delivery, from its report."""
    import boto3

    from chalicelib.config import get_settings

    settings = get_settings()
    # A session of its own: the default session's hooks count and time the ingest's requests.
    s3 = boto3.session.Session().client("s3", region_name=settings.aws_region)
    listing = s3.list_objects_v2(Bucket=settings.bucket_name, Prefix="reports/")
    reports = [
        json.loads(s3.get_object(Bucket=settings.bucket_name, Key=o["Key"])["Body"].read())
        for o in listing.get("Contents", [])
        if o["Key"].endswith(".json")  # not its spreadsheet copy (.csv)
    ]
    # The generated files have no deliberate bad rows, but a large one holds a few policies
    # with two rows for the same person (generated twins): those are rejected, the rest counts.
    if len(reports) != 1 or reports[0]["status"] not in ("accepted", "accepted_with_errors"):
        raise RuntimeError(f"expected one accepted delivery: {[r['status'] for r in reports]}")
    accepted: int = reports[0]["rows_accepted"]
    return accepted


def _prebuilt_items(path: Path, limit_rows: int | None) -> tuple[int, list[dict[str, Any]]]:
    from bench.data import BENCH_PARTNER, items_of, valid_policies
    from chalicelib.config import get_settings

    policies = list(valid_policies(path, limit_rows=limit_rows))
    rows = sum(len(p) for p in policies)
    items = list(
        items_of(
            iter(policies), partner_id=BENCH_PARTNER, client_id_key=get_settings().client_id_key
        )
    )
    return rows, items


def _write_prebuilt(
    path: Path, limit_rows: int | None, write: Callable[[Any, list[Any]], None]
) -> Result:
    """The items of `path`'s rows, built before the clock starts, written by `write(table,
    items)` with boto3's Table resource, DynamoDB requests counted."""
    import boto3

    from chalicelib.config import get_settings

    rows, items = _prebuilt_items(path, limit_rows)
    settings = get_settings()
    table = boto3.resource("dynamodb", region_name=settings.aws_region).Table(settings.table_name)
    calls = CallCounter()
    calls.attach(table.meta.client)

    def run() -> int:
        write(table, items)
        return rows

    result = _measure(run, calls)
    result["items"] = len(items)
    return result


def _batch_writer(table: Any, items: list[Any]) -> None:
    with table.batch_writer() as writer:
        for item in items:
            writer.put_item(Item=item)


def _one_put_per_item(table: Any, items: list[Any]) -> None:
    for item in items:
        table.put_item(Item=item)


def floor(path: Path, limit_rows: int | None) -> Result:
    return _write_prebuilt(path, limit_rows, _batch_writer)


def naive(path: Path, limit_rows: int | None) -> Result:
    return _write_prebuilt(path, limit_rows, _one_put_per_item)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("parse", "validate", "ingest", "floor", "naive"))
    parser.add_argument("--file", type=Path)
    parser.add_argument("--queue-url")
    parser.add_argument("--limit-rows", type=int)
    parser.add_argument("--parts", action="store_true", help="time the parts in place")
    args = parser.parse_args()
    if args.parts:
        from bench.parts import timing

        with timing(_timed_parts(args.mode), requests=args.mode == "ingest") as parts:
            result = _run(args)
        result["parts"] = parts.result()
    else:
        result = _run(args)
    print(json.dumps(result))


def _timed_parts(mode: str) -> dict[str, tuple[Any, str]]:
    """The functions `--parts` times, each where the measured code calls it from (imported
    here only for the mode that runs them: (b)'s process stays as light as without)."""
    if mode == "validate":
        import chalicelib.rules.rows

        return {"validate_row": (chalicelib.rules.rows, "validate_row")}
    if mode == "ingest":
        import chalicelib.rules.ingest
        import chalicelib.services.ingest
        from chalicelib.rules.quality import FieldTally

        return {
            "validate_row": (chalicelib.services.ingest, "validate_row"),
            "close": (chalicelib.services.ingest.IngestService, "_close"),
            "judge": (chalicelib.rules.ingest, "writable_rows"),
            "tally": (FieldTally, "add_valid"),
        }
    raise SystemExit(f"--parts times the modes validate and ingest, not {mode}")


def _run(args: argparse.Namespace) -> Result:
    if args.mode == "parse":
        result = parse_only(args.file)
    elif args.mode == "validate":
        result = parse_and_validate(args.file)
    elif args.mode == "ingest":
        result = full_ingest(args.queue_url)
    elif args.mode == "floor":
        result = floor(args.file, args.limit_rows)
    else:
        result = naive(args.file, args.limit_rows)
    return result


if __name__ == "__main__":
    main()
