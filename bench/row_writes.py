"""What a new row writes, item by item (docs/benchmarks.md, "What a new row writes").

    python -m bench.row_writes                  # 2,000 generated rows, one partner
    python -m bench.row_writes --rows 400

Delivers one generated portfolio (scripts/demo_data.py, the storm's generator) through the real
ingest on moto in this process, then reads every stored item back and sizes it by DynamoDB's
rules (bench/backend.py's `write_units`: 1 unit per started KB, once for the table and once for
each index whose keys the item has; both indexes project every attribute). Per kind of item
(policy, party, each lookup partition, identity bucket, bookkeeping): items per row, mean size,
and write units per row in the table and in the indexes. The identity buckets are counted as
stored, once (a bucket written twice in the delivery counts once here; the storm's meter counts
every request). Then the client CPU per written item of the write path, with DynamoDB answered
at the transport (`client_cpu`).
"""

from __future__ import annotations

import argparse
import csv
import io
import itertools
import json
import os
from collections import defaultdict
from typing import Any

from bench.backend import CREDENTIALS, REGION, attribute_size, scan_items, write_units

PARTNER = "demo-volmacht"
SEED = 6_000_007  # the storm's second partner (bench/storm.py: BENCH_SEED + index)


def _kind(item: dict[str, Any]) -> str:
    kind = str(item.get("type") or str(item["pk"]).split("#")[0].lower())
    if kind == "lookup":
        partition = str(item["pk"]).split("#")[1]
        return f"lookup {partition}" + (" (grouped)" if "parties" in item else "")
    return kind


def measure(rows: int) -> tuple[int, dict[str, list[float]]]:
    """(rows delivered, per kind: [items, bytes, table units, index units]) of one delivery."""
    from boto3.dynamodb.types import TypeSerializer
    from moto import mock_aws

    from scripts.demo_data import generate_rows
    from scripts.provision import provision

    os.environ.update({**CREDENTIALS, "STAGE": "test", "TABLE_NAME": "row-writes"})
    os.environ.update({"BUCKET_NAME": "row-writes", "PARTNERS": PARTNER})
    os.environ.update({"JWT_SECRET": "x" * 40, "CLIENT_ID_KEY": "row-writes-key-0000000"})
    os.environ.update({"SES_SENDER": "noreply@polisregister.test", "LOG_LEVEL": "WARNING"})
    os.environ.pop("AWS_ENDPOINT_URL", None)
    from chalicelib.config import reset_settings
    from chalicelib.store.aws import reset_clients

    generated = list(itertools.islice(generate_rows(rows, seed=SEED, partner_id=PARTNER), rows))
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(generated[0]), delimiter=";")
    writer.writeheader()
    writer.writerows(generated)
    serialise = TypeSerializer().serialize
    stats: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0, 0])
    with mock_aws():
        resources = provision(
            None, REGION, table_name="row-writes", bucket_name="row-writes", stage="test"
        )
        os.environ["INGEST_QUEUE_URL"] = resources["ingest_queue_url"]
        os.environ["ACTIVATION_QUEUE_URL"] = resources["activation_queue_url"]
        reset_settings()
        reset_clients()
        import boto3

        from app import app
        from bench.ingest import drain_ingest_queue

        boto3.client("s3", region_name=REGION).put_object(
            Bucket="row-writes", Key=f"incoming/{PARTNER}/full/rows.csv", Body=text.getvalue()
        )
        sqs = boto3.client("sqs", region_name=REGION)
        drain_ingest_queue(app, sqs, resources["ingest_queue_url"])
        table = boto3.resource("dynamodb", region_name=REGION).Table("row-writes")
        for item in scan_items(table):
            wire: dict[str, Any] = {name: serialise(value) for name, value in item.items()}
            size = sum(len(name.encode()) + attribute_size(v) for name, v in wire.items())
            table_units = -(-size // 1024)
            entry = stats[_kind(item)]
            entry[0] += 1
            entry[1] += size
            entry[2] += table_units
            entry[3] += write_units(wire) - table_units
    return len(generated), dict(stats)


def client_cpu(rows: int) -> dict[str, float]:
    """Client CPU per item of the write and read paths, with DynamoDB answered at the transport
    (no backend at all): the items of `rows` generated rows, serialised and sent in batches of
    25 as the ingest's BatchWriter sends them, and as boto3's TypeSerializer and botocore's own
    request serialisation (parameter validation off) would; then the same items read back in
    BatchGetItems of 100 as the ingest's read_many reads them (the bulk client, the answer taken
    as its JSON and decoded by `item_from_wire`), and as botocore's parser and TypeDeserializer
    would. Then a whole BatchWriteItem of 25 of these items as the ingest pays it, over HTTP
    (`over_http`)."""
    import time

    import boto3
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
    from botocore.awsrequest import AWSResponse
    from botocore.config import Config

    from bench.data import TODAY, by_policy
    from chalicelib.rules.rows import map_header, validate_row
    from chalicelib.store import aws
    from chalicelib.store.register_items import policy_items
    from chalicelib.store.table import item_from_wire, wire_item
    from scripts.demo_data import generate_rows

    generated = list(itertools.islice(generate_rows(rows, seed=SEED, partner_id=PARTNER), rows))
    header = map_header(list(generated[0]), "full")
    valid = [
        validate_row(list(r.values()), header, kind="full", line=n, today=TODAY).row
        for n, r in enumerate(generated, start=2)
    ]
    items = [
        item
        for policy in by_policy(row for row in valid if row is not None)
        for item in policy_items(
            PARTNER,
            policy,
            seq="20261201T000000.000000#" + "0" * 32,
            delivery_id="d" * 32,
            delivered_at="2026-12-01T00:00:00+00:00",
            expires_at=1_859_343_868,
            client_id_key="row-writes-key-0000000",
        )
    ]

    def answered(request: Any, **_: Any) -> AWSResponse:
        class Raw:
            def stream(self, **_: Any) -> Any:
                yield b'{"UnprocessedItems": {}}'

        return AWSResponse(request.url, 200, {}, Raw())

    def per_item(serialise: Any, client: Any) -> tuple[float, float]:
        client.meta.events.register("before-send.dynamodb.BatchWriteItem", answered)
        started = time.process_time()
        requests = [{"PutRequest": {"Item": serialise(item)}} for item in items]
        serialised = time.process_time()
        for start in range(0, len(requests), 25):
            client.batch_write_item(RequestItems={"t": requests[start : start + 25]})
        sent = time.process_time()
        return (serialised - started) / len(items) * 1e6, (sent - serialised) / len(items) * 1e6

    type_serialise = TypeSerializer().serialize
    plain = boto3.client("dynamodb", region_name=REGION, config=Config(parameter_validation=False))
    before = per_item(lambda i: {k: type_serialise(v) for k, v in i.items()}, plain)
    now = per_item(wire_item, aws.bulk_client("dynamodb"))

    answers = [
        json.dumps({"Responses": {"t": [wire_item(i) for i in items[start : start + 100]]}})
        for start in range(0, len(items), 100)
    ]

    def read_per_item(deserialise: Any, client: Any) -> float:
        pending = list(answers)

        def answered_read(request: Any, **_: Any) -> AWSResponse:
            body = pending.pop(0).encode()

            class Raw:
                def stream(self, **_: Any) -> Any:
                    yield body

            return AWSResponse(request.url, 200, {}, Raw())

        client.meta.events.register("before-send.dynamodb.BatchGetItem", answered_read)
        key = {"pk": {"S": "k"}, "sk": {"S": "k"}}
        started = time.process_time()
        for _ in answers:
            response = client.batch_get_item(RequestItems={"t": {"Keys": [key]}})
            for item in response["Responses"]["t"]:
                deserialise(item)
        client.meta.events.unregister("before-send.dynamodb.BatchGetItem", answered_read)
        return (time.process_time() - started) / len(items) * 1e6

    type_deserialise = TypeDeserializer().deserialize
    read_before = read_per_item(lambda i: {k: type_deserialise(v) for k, v in i.items()}, plain)
    read_now = read_per_item(item_from_wire, aws.bulk_client("dynamodb"))
    groups = [
        [{"PutRequest": {"Item": wire_item(item)}} for item in items[start : start + 25]]
        for start in range(0, len(items), 25)
    ]
    return {
        "items per row": len(items) / len(generated),
        "TypeSerializer µs/item": before[0],
        "botocore batch_write_item µs/item": before[1],
        "wire_item µs/item": now[0],
        "bulk client µs/item": now[1],
        "read: botocore batch_get_item + TypeDeserializer µs/item": read_before,
        "read: bulk client + item_from_wire µs/item": read_now,
        "BatchWriteItem of 25 over HTTP, connection kept alive: µs/request": over_http(
            groups, keep_alive=True
        ),
        "BatchWriteItem of 25 over HTTP, a new connection each: µs/request": over_http(
            groups, keep_alive=False
        ),
    }


def over_http(groups: list[list[dict[str, Any]]], *, keep_alive: bool) -> float:
    """Client CPU (the sending thread's) per BatchWriteItem that the store's `write_batch`
    sends over HTTP to an answerer on this machine (in threads of its own, not counted): the
    whole request as the ingest pays it, signing, the HTTP client and the answer included.
    `keep_alive`: one connection for every request, as DynamoDB keeps them open; otherwise a
    new connection for each, as the storm's backend serves them (its HTTP server closes every
    connection after its answer)."""
    import http.server
    import threading
    import time

    from chalicelib.config import reset_settings
    from chalicelib.store import aws
    from chalicelib.store.table import write_batch

    class Answer(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"
        disable_nagle_algorithm = True
        wbufsize = 1 << 16

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            body = b'{"UnprocessedItems": {}}'
            self.send_response(200)
            self.send_header("content-type", "application/x-amz-json-1.0")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()

        def log_message(self, *_: Any) -> None:
            """Quiet."""

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    before = os.environ.get("AWS_ENDPOINT_URL")
    os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{server.server_address[1]}"
    reset_settings()
    aws.reset_clients()
    try:
        write_batch("t", groups[0])  # the client built and connected before the clock
        best = float("inf")
        for _ in range(3):
            started = time.thread_time()
            for group in groups:
                write_batch("t", group)
            best = min(best, (time.thread_time() - started) / len(groups) * 1e6)
        return best
    finally:
        server.shutdown()
        server.server_close()
        if before is None:
            os.environ.pop("AWS_ENDPOINT_URL", None)
        else:
            os.environ["AWS_ENDPOINT_URL"] = before
        reset_settings()
        aws.reset_clients()


def render(rows: int, stats: dict[str, list[float]]) -> str:
    lines = [
        "| item | items per row | mean size (B) | units per row: table | indexes | all |",
        "|---|---|---|---|---|---|",
    ]
    totals = [0.0, 0.0, 0.0]
    for kind, (count, size, table_units, index_units) in sorted(stats.items()):
        per_row = [count / rows, table_units / rows, index_units / rows]
        totals = [t + p for t, p in zip(totals, per_row, strict=True)]
        lines.append(
            f"| {kind} | {per_row[0]:.2f} | {size / count:,.0f} | {per_row[1]:.2f} "
            f"| {per_row[2]:.2f} | {per_row[1] + per_row[2]:.2f} |"
        )
    lines.append(
        f"| **all** | {totals[0]:.2f} | | {totals[1]:.2f} | {totals[2]:.2f} "
        f"| **{totals[1] + totals[2]:.2f}** |"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000)
    args = parser.parse_args(argv)
    import logging

    logging.disable(logging.INFO)
    rows, stats = measure(args.rows)
    for name, value in client_cpu(args.rows).items():
        print(f"{name}: {value:,.2f}")
    print(f"{rows} rows of partner {PARTNER} (seed {SEED}), one full delivery into an empty table")
    print(render(rows, stats))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
