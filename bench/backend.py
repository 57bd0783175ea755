"""The benchmark's AWS backend: a moto server in its own process on 127.0.0.1.

A separate process, so that what the benchmark measures in the ingest process (its peak RSS, its
CPU) is the ingest's own and not moto's storage of every written item.

    python -m bench.backend --port 4599          # serve until killed

Three changes to moto's speed, not its behaviour, applied in the server process only:
`_fast_item_size_check` (moto re-measures the whole item for every attribute it stores, about
70% of its time per item; the same 400 KB check with a running total) and the local run's
`scripts.embedded_aws.install_partition_queries` (moto answers every Query, on the table or an
index, by sorting all of the table's items first: seconds per lookup on a 100k-client
register) and `install_copy_free_transactions` (moto copies the whole table once per item of
a TransactWriteItems, to roll back with). Every other part of moto (parsing, key schema, indexes,
conditions) is unchanged, and every figure of the benchmark runs on the same backend, so their
ratios are fair.

`--discard-portfolio-writes` (the "memory" mode, `bench.run --memory-sizes`): the server
answers a BatchWriteItem's or PutItem's put of a portfolio item (pk `POLICY#…` or `LOOKUP#…`:
policy, party and lookup items) as written, after moto's own checks of the request, but does
not keep the item. Everything else (delivery records, checkpoints, queues, S3) is stored as
usual. A full ingest of 1M rows writes about 6.2M items, which moto would keep at 4-6 KB each;
in this mode the server's memory stays flat and the ingest process can be measured at 1M rows.
Reads of portfolio items then find nothing, as on a first delivery.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REGION = "eu-west-1"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
}
TABLE = "polisregister-bench"
BUCKET = "polisregister-bench"
PARTNERS = "demo-volmacht,demo-verzekeraar,demo-intermediair"
ITEM_LIMIT_BYTES = 405_000  # moto's own figure for DynamoDB's 400 KB limit
PORTFOLIO_PREFIXES = ("POLICY#", "LOOKUP#")  # chalicelib.store.keys: policy/party, lookup items


def _fast_item_size_check() -> None:
    """Replace moto's O(attributes²) item-size check by an O(1) running total (same limit)."""
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, LimitedSizeDict
    from moto.dynamodb.models.utilities import bytesize

    def entry_size(key: str, value: Any) -> int:
        size = value.size() if type(value) is DynamoType else bytesize(str(value))
        return bytesize(key) + size

    def setitem(self: Any, key: str, value: Any) -> None:
        total = self.__dict__.get("_bench_size")
        if total is None or self.__dict__.get("_bench_len") != len(self):
            total = sum(entry_size(k, v) for k, v in self.items())
        if key in self:
            total -= entry_size(key, dict.__getitem__(self, key))
        total += entry_size(key, value)
        if total > ITEM_LIMIT_BYTES:
            raise ItemSizeTooLarge
        dict.__setitem__(self, key, value)
        self.__dict__["_bench_size"] = total
        self.__dict__["_bench_len"] = len(self)

    LimitedSizeDict.__setitem__ = setitem  # type: ignore[method-assign]


def _is_portfolio(item: dict[str, Any]) -> bool:
    pk = item.get("pk", {}).get("S", "")
    return isinstance(pk, str) and pk.startswith(PORTFOLIO_PREFIXES)


BATCH_WRITE_TARGET = "DynamoDB_20120810.BatchWriteItem"


def _without_portfolio_puts(document: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """A BatchWriteItem request without its portfolio puts, and how many it had. Checks the
    taken-out puts as DynamoDB would (ValueError): key attributes present and not empty, no key
    twice in one request. (The benchmark's table has `pk` and `sk` as its key.)"""
    seen: set[tuple[str, str, str]] = set()
    kept: dict[str, list[dict[str, Any]]] = {}
    for table_name, requests in document.get("RequestItems", {}).items():
        for request in requests:
            item = request.get("PutRequest", {}).get("Item")
            if item is None or not _is_portfolio(item):
                kept.setdefault(table_name, []).append(request)
                continue
            key = (table_name, item["pk"].get("S", ""), item.get("sk", {}).get("S", ""))
            if not all(key) or key in seen:
                raise ValueError("a key attribute is missing or empty, or a key is there twice")
            seen.add(key)
    return {**document, "RequestItems": kept}, len(seen)


def _discard_portfolio_writes() -> None:
    """The memory mode (module docstring): portfolio items are acknowledged, not kept.

    A BatchWriteItem is looked at before moto: its portfolio puts are checked and taken out
    (`_without_portfolio_puts`); a request left empty is answered as DynamoDB answers a write of
    every item (no UnprocessedItems), anything left goes on to moto. Skipping moto for these
    requests keeps the run of 1M rows (40,000 requests of 25 items) within the hour; the
    ingest process sends and receives the same bytes either way. A PutItem of a portfolio item
    goes through moto with all its checks and conditions, and the item is dropped at once. A
    read of a missing item no longer leaves an empty partition behind in moto's table (its
    `defaultdict` would grow by one entry per key read)."""
    from moto.dynamodb.models.table import Table
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original_call = DomainDispatcherApplication.__call__
    original_put = Table.put_item
    original_get = Table.get_item

    def call(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("HTTP_X_AMZ_TARGET") != BATCH_WRITE_TARGET:
            return original_call(self, environ, start_response)
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        try:
            rest, discarded = _without_portfolio_puts(json.loads(body))
        except ValueError as error:
            return _answer(start_response, "400 Bad Request", _validation_error(str(error)))
        if discarded and not rest["RequestItems"]:
            return _answer(start_response, "200 OK", {"UnprocessedItems": {}})
        if discarded:
            body = json.dumps(rest).encode()
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return original_call(self, environ, start_response)

    def put_item(self: Any, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        item = original_put(self, item_attrs, *args, **kwargs)
        if _is_portfolio(item_attrs):
            partition = self.items.get(item.hash_key)
            if self.range_key_attr is None or partition is None:
                self.items.pop(item.hash_key, None)
            else:
                partition.pop(item.range_key, None)
                if not partition:
                    del self.items[item.hash_key]
        return item

    def get_item(self: Any, hash_key: Any, range_key: Any = None, *args: Any, **kw: Any) -> Any:
        if range_key and hash_key not in self.items:
            return None  # moto's own answer, without adding an empty partition
        return original_get(self, hash_key, range_key, *args, **kw)

    DomainDispatcherApplication.__call__ = call  # type: ignore[method-assign]
    Table.put_item = put_item  # type: ignore[method-assign]
    Table.get_item = get_item  # type: ignore[method-assign]


def _validation_error(message: str) -> dict[str, str]:
    return {"__type": "com.amazon.coral.validate#ValidationException", "message": message}


def _answer(start_response: Any, status: str, document: dict[str, Any]) -> list[bytes]:
    body = json.dumps(document).encode()
    start_response(
        status,
        [("Content-Type", "application/x-amz-json-1.0"), ("Content-Length", str(len(body)))],
    )
    return [body]


def _load_items(path: str, table: str) -> int:
    """Put the items of a JSON Lines file (DynamoDB JSON, one item a line) straight into moto's
    table, without HTTP: seeding a register of 100k clients over HTTP would take longer than
    the whole benchmark. The lookups are then measured over HTTP as usual."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION]
    count = 0
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            backend.put_item(table, json.loads(line))
            count += 1
    return count


def _control(stop: threading.Event, meter: WriteMeter | None = None) -> None:
    """Commands from the parent on stdin, one JSON object a line; answers on stdout."""
    for line in sys.stdin:
        command = json.loads(line)
        if "load" in command:
            loaded = _load_items(command["load"], command["table"])
            print(json.dumps({"loaded": loaded}), flush=True)
        if "meter" in command:
            print(json.dumps(meter.take() if meter else {}), flush=True)
    stop.set()  # stdin closed: the parent is gone


# --- the month-start storm's backend: DynamoDB's round trip, and what the writes cost ----------

# Item kinds by partition key prefix (chalicelib.store.keys), for the write units per row.
REGISTER_PREFIXES = ("POLICY#", "LOOKUP#")
IDENTITY_PREFIXES = ("IDENTITY#", "ALIAS#", "JOINED#")


def attribute_size(value: dict[str, Any]) -> int:
    """DynamoDB's size of one attribute value (DynamoDB JSON): strings and binaries by their
    bytes, numbers about one byte per two digits plus one, lists and maps 3 bytes plus each
    element (plus one each)."""
    ((kind, inner),) = value.items()
    if kind in ("S", "B"):
        return len(str(inner).encode())
    if kind == "N":
        return len(str(inner).lstrip("-").replace(".", "")) // 2 + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(attribute_size(v) + 1 for v in inner)
    if kind == "M":
        return 3 + sum(len(k.encode()) + attribute_size(v) + 1 for k, v in inner.items())
    return sum(len(str(v).encode()) for v in inner)  # SS, NS, BS


def write_units(item: dict[str, Any]) -> int:
    """Write units of putting `item`: 1 per KB, once for the table and once for each index
    whose keys the item has (both indexes project ALL attributes)."""
    size = sum(len(name.encode()) + attribute_size(value) for name, value in item.items())
    units = -(-size // 1024)
    indexes = sum(1 for index in ("gsi1", "gsi2") if f"{index}pk" in item and f"{index}sk" in item)
    return units * (1 + indexes)


def scan_items(table: Any) -> Iterator[dict[str, Any]]:
    """Every item of a benchmark's own table (a boto3 Table resource; a scan: never on a
    request path)."""
    kwargs: dict[str, Any] = {}
    while True:
        page = table.scan(**kwargs)
        yield from page["Items"]
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def kind_of(pk: str) -> str:
    if pk.startswith(REGISTER_PREFIXES):
        return "register"
    if pk.startswith(IDENTITY_PREFIXES):
        return "identity"
    return "bookkeeping"  # deliveries, lanes, seen marks, quality snapshots


class WriteMeter:
    """Requests by operation, and the write units of every write by item kind, as the DynamoDB
    requests reach the server (the measured processes pay nothing for the counting). An
    UpdateItem counts the size of its new values, twice for a delivery record (its index)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[str, int] = {}
        self._units: dict[str, int] = {}
        self._items: dict[str, int] = {}
        self._moto_seconds: dict[str, float] = {}

    def record(self, operation: str, body: bytes) -> None:
        units: dict[str, int] = {}
        items: dict[str, int] = {}

        def add(pk: str, count: int) -> None:
            kind = kind_of(pk)
            units[kind] = units.get(kind, 0) + count
            items[kind] = items.get(kind, 0) + 1

        document = json.loads(body or b"{}")
        if operation == "BatchWriteItem":
            for requests in document.get("RequestItems", {}).values():
                for request in requests:
                    put = request.get("PutRequest", {}).get("Item")
                    key = put or request.get("DeleteRequest", {}).get("Key", {})
                    add(key.get("pk", {}).get("S", ""), write_units(put) if put else 1)
        elif operation == "PutItem":
            item = document.get("Item", {})
            add(item.get("pk", {}).get("S", ""), write_units(item))
        elif operation == "TransactWriteItems":
            for entry in document.get("TransactItems", []):
                item = entry.get("Put", {}).get("Item", {})
                add(item.get("pk", {}).get("S", ""), 2 * write_units(item))
        elif operation in ("UpdateItem", "DeleteItem"):
            pk = document.get("Key", {}).get("pk", {}).get("S", "")
            values = {"m": {"M": document.get("ExpressionAttributeValues", {})}}
            count = write_units(values) * (2 if pk.startswith("DELIVERY#") else 1)
            add(pk, count)
        with self._lock:
            self._requests[operation] = self._requests.get(operation, 0) + 1
            for kind, count in units.items():
                self._units[kind] = self._units.get(kind, 0) + count
            for kind, count in items.items():
                self._items[kind] = self._items.get(kind, 0) + count

    def moto(self, operation: str, cpu_seconds: float) -> None:
        """CPU moto spent answering one request (inside the one-at-a-time lock)."""
        with self._lock:
            self._moto_seconds[operation] = self._moto_seconds.get(operation, 0.0) + cpu_seconds

    def take(self) -> dict[str, dict[str, Any]]:
        """What was counted since the last call."""
        with self._lock:
            taken: dict[str, dict[str, Any]] = {
                "requests": self._requests,
                "units": self._units,
                "items": self._items,
                "moto_cpu_seconds": {k: round(v, 3) for k, v in self._moto_seconds.items()},
            }
            self._requests, self._units, self._items = {}, {}, {}
            self._moto_seconds = {}
        return taken


# Answers that carry items or their keys, for which moto's result is the JSON its serialiser
# makes (DeleteItem's is not: it has a field the service model has not).
ITEM_OPERATIONS = frozenset(
    {
        "GetItem",
        "BatchGetItem",
        "Query",
        "PutItem",
        "UpdateItem",
        "BatchWriteItem",
        "TransactWriteItems",
    }
)
ExecuteResult = Callable[[Any, Any], tuple[int, dict[str, Any], str | bytes]]


def item_answers_as_they_are(original: ExecuteResult) -> ExecuteResult:
    """moto's `ActionResult.execute_result`, except that a DynamoDB item operation's result is
    dumped as it is: moto's generic serialiser walks every attribute value against the service
    model (about a third of the storm backend's CPU, work DynamoDB does not do) and gives the
    same JSON (a test holds them equal)."""

    def execute_result(self: Any, context: Any) -> tuple[int, dict[str, Any], str | bytes]:
        if (
            context.service_model.service_name == "dynamodb"
            and context.operation_model.name in ITEM_OPERATIONS
            and isinstance(self.result, dict)
        ):
            return 200, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(self.result)
        return original(self, context)

    return execute_result


def _lean_answers() -> None:
    from moto.core.responses import ActionResult

    ActionResult.execute_result = item_answers_as_they_are(ActionResult.execute_result)  # type: ignore[method-assign,assignment]


class RoundTrip:
    """WSGI middleware: every DynamoDB request waits `latency_ms` (DynamoDB's round trip), is
    metered, and is then answered by moto one at a time (moto's DynamoDB is not thread-safe;
    scripts/embedded_aws.py), the CPU moto spent on it counted by operation.

    The server runs a thread per connection and the wait is a sleep in that thread before the
    lock, so requests in flight together (the ingest's concurrent batch writes, several
    workers) wait their round trips at the same time, as on DynamoDB; only moto's own work
    after the wait is one request at a time, which DynamoDB's is not."""

    def __init__(self, app: Any, latency_ms: float, meter: WriteMeter) -> None:
        self._app = app
        self._latency = latency_ms / 1000
        self._meter = meter
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        if not target.startswith("DynamoDB"):
            return self._app(environ, start_response)
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        operation = target.rsplit(".", 1)[-1]
        self._meter.record(operation, body)
        time.sleep(self._latency)
        with self._lock:
            started = time.thread_time()
            answer = list(self._app(environ, start_response))
            self._meter.moto(operation, time.thread_time() - started)
        return answer


def _storm_server(port: int, latency_ms: float, meter: WriteMeter) -> Any:
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    class QuietRequestHandler(MotoRequestHandler):
        def log_request(self, *_: Any, **__: Any) -> None:
            """No access log line per request (formatted and written to /dev/null)."""

    class StormServer(ThreadedMotoServer):
        def _server_entry(self) -> None:
            app = RoundTrip(DomainDispatcherApplication(create_backend_app), latency_ms, meter)
            self._server = make_server(
                self._ip_address, self._port, app, True, request_handler=QuietRequestHandler
            )
            self._server_ready_event.set()
            self._server.serve_forever()

    return StormServer(ip_address="127.0.0.1", port=port, verbose=False)


def serve(
    port: int, *, discard_portfolio_writes: bool = False, latency_ms: float | None = None
) -> None:
    """Run the moto server in this process until SIGTERM/SIGINT or stdin closes.
    `latency_ms`: the storm's backend (`RoundTrip`), with a write meter."""
    from moto.server import ThreadedMotoServer

    from scripts.embedded_aws import install_copy_free_transactions, install_partition_queries

    _fast_item_size_check()
    install_partition_queries()
    install_copy_free_transactions()
    if discard_portfolio_writes:
        _discard_portfolio_writes()
    meter = WriteMeter() if latency_ms is not None else None
    if latency_ms is not None and meter is not None:
        _lean_answers()
        server = _storm_server(port, latency_ms, meter)
    else:
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threading.Thread(target=_control, args=(stop, meter), daemon=True).start()
    stop.wait()
    server.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Backend:
    """A running moto server: where it listens and its process (for its RSS)."""

    endpoint_url: str
    process: subprocess.Popen[bytes]

    def rss_mb(self) -> float:
        return rss_mb(self.process.pid)

    def load_items(self, path: Path, table: str) -> int:
        """Seed `table` with the items of `path` (see `_load_items`)."""
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(json.dumps({"load": str(path), "table": table}).encode() + b"\n")
        self.process.stdin.flush()
        answer = json.loads(self.process.stdout.readline())
        loaded: int = answer["loaded"]
        return loaded

    def meter(self) -> dict[str, dict[str, int]]:
        """The storm backend's requests and write units since the last call."""
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(b'{"meter": true}\n')
        self.process.stdin.flush()
        taken: dict[str, dict[str, int]] = json.loads(self.process.stdout.readline())
        return taken

    def reset(self) -> None:
        """Forget every resource (moto's reset API): frees the previous pass's items."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=60):
            pass


def provisioned(backend: Backend) -> dict[str, str]:
    """Fresh resources (the table, queues and bucket of infra/) on the backend."""
    from scripts.provision import provision

    backend.reset()
    resources = provision(
        backend.endpoint_url,
        REGION,
        table_name=TABLE,
        bucket_name=BUCKET,
        stage="bench",
        ses_sender="noreply@polisregister.test",
    )
    _take_test_events(backend.endpoint_url, resources["ingest_queue_url"])
    return resources


def _take_test_events(endpoint_url: str, queue_url: str) -> None:
    """Take the s3:TestEvent off the fresh ingest queue. S3 sends one when a bucket's
    notification is configured: it belongs to setting the bucket up, once, not to a delivery,
    so no measured run receives it (it would add a receive, an invocation and a delete)."""
    import boto3

    sqs = boto3.client(
        "sqs",
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    while messages := sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
    ).get("Messages", []):
        for received in messages:
            if json.loads(received["Body"]).get("Event") != "s3:TestEvent":
                raise RuntimeError(f"a fresh ingest queue held a delivery: {received['Body']}")
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=received["ReceiptHandle"])


def bench_env(endpoint_url: str, resources: dict[str, str]) -> dict[str, str]:
    """The settings (chalicelib.config) of a process that works against the backend."""
    return {
        **CREDENTIALS,
        "STAGE": "test",
        "AWS_ENDPOINT_URL": endpoint_url,
        "TABLE_NAME": resources["table"],
        "BUCKET_NAME": resources["bucket"],
        "INGEST_QUEUE_URL": resources["ingest_queue_url"],
        "ACTIVATION_QUEUE_URL": resources["activation_queue_url"],
        "PARTNERS": PARTNERS,
        "JWT_SECRET": "bench-secret-bench-secret-bench-secret-00",
        "CLIENT_ID_KEY": "bench-client-id-key-000",
        "SES_SENDER": "noreply@polisregister.test",
        "POWERTOOLS_DEV": "false",
        "LOG_LEVEL": "WARNING",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """A process's resident set (Linux /proc), in MB: `VmRSS` now, `VmHWM` its peak."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


@contextmanager
def running_backend(
    port: int | None = None,
    *,
    discard_portfolio_writes: bool = False,
    latency_ms: float | None = None,
) -> Iterator[Backend]:
    """Start `python -m bench.backend` on a free port; stop it (only it) afterwards.
    `discard_portfolio_writes`: the memory mode (module docstring); `latency_ms`: the storm's
    backend (DynamoDB's round trip, a write meter)."""
    port = port or free_port()
    env = {**os.environ, **CREDENTIALS}
    mode = ["--discard-portfolio-writes"] if discard_portfolio_writes else []
    if latency_ms is not None:
        mode += ["--latency-ms", str(latency_ms)]
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.backend", "--port", str(port), *mode],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the moto server did not start") from None
                time.sleep(0.2)
        yield Backend(endpoint, process)
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--discard-portfolio-writes",
        action="store_true",
        help="acknowledge portfolio items (POLICY#, LOOKUP#) without keeping them",
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=None,
        help="the storm's backend: every DynamoDB request waits this long and is metered",
    )
    args = parser.parse_args()
    serve(
        args.port,
        discard_portfolio_writes=args.discard_portfolio_writes,
        latency_ms=args.latency_ms,
    )


if __name__ == "__main__":
    main()
