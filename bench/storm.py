"""`make bench-storm` (part of `make bench`): the first of the month, every partner's full
delivery at once (issue 14; docs/benchmarks.md, "Month-start storm").

    python -m bench.storm                       # 8 partners, one large; ~10 minutes
    python -m bench.storm --partners 3 --large-rows 200 --rows 60 --latency-ms 2   # a smoke

Two designs on the same backend in the same run, each on fresh resources:

- **serial** (the design before issue 14): the repository at `--baseline` (a commit, exported
  with `git archive` into bench/out/), one worker, so one delivery at a time;
- **parallel** (this version): `--workers` workers, each partner's deliveries in its lane,
  concurrent batch writes.

The backend is a moto server in its own process (bench.backend) in which every DynamoDB
request first waits `--latency-ms` (DynamoDB's round trip) and is metered (requests, write
units by item kind), then is answered by moto one request at a time. Every worker is its own
process running the real ingest handler behind the local run's event-source mapping
(`bench/storm_worker.py`). Per design, two rounds:

1. *new*: every partner uploads its full portfolio and, right after, a mutation that changes
   a few of its policies; the clock runs until every delivery is final;
2. *unchanged*: every partner uploads the same full portfolio again.

Checked, not assumed: every delivery accepted, each partner's mutation applied after its full
delivery (its changed policies carry the mutation's `seq`), no message in either DLQ.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import boto3

from bench.backend import BUCKET, REGION, ROOT, Backend, bench_env, provisioned, running_backend
from bench.data import BENCH_SEED, OUT
from scripts.demo_data import generate_rows, write_csv

DOCS = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- storm:begin -->", "<!-- storm:end -->"
MARK = "STORM "  # bench/storm_worker.py's answers
# main before issue 14: reserved concurrency 1, one batch write at a time, every row written.
BASELINE = "f876de2"
# A DynamoDB round trip from Lambda in the same region (docs/benchmarks.md, "Month-start storm").
LATENCY_MS = 10.0
CHANGED_PER_MUTATION = 10
POLL_SECONDS = 0.2  # how often the harness looks whether every delivery is final
Result = dict[str, Any]


@dataclass(frozen=True)
class Delivery:
    partner: str
    kind: str
    path: Path


def partner_files(partners: int, large_rows: int, rows: int, out: Path) -> list[list[Delivery]]:
    """Per partner: its full portfolio (the first partner's `large_rows`, the others between
    `rows` and twice that) and a mutation changing the mobile number of the first
    CHANGED_PER_MUTATION policies' rows."""
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for index in range(partners):
        partner = f"storm-{index + 1:02d}"
        size = large_rows if index == 0 else rows + (rows * index) // max(partners - 1, 1)
        full_rows = list(generate_rows(size, seed=BENCH_SEED + index, partner_id=partner))[:size]
        full = out / f"{partner}-full.csv"
        write_csv(full, iter(full_rows))
        numbers = list(dict.fromkeys(r["PP_NUMMER"] for r in full_rows))[:CHANGED_PER_MUTATION]
        changed = [
            {**r, "PP_VRWRKCD": "1", "MOBIEL": "0611111111"}
            for r in full_rows
            if r["PP_NUMMER"] in numbers
        ]
        mutation = out / f"{partner}-mutation.csv"
        write_csv(mutation, iter(changed))
        files.append([Delivery(partner, "full", full), Delivery(partner, "mutation", mutation)])
    return files


def baseline_tree(commit: str, out: Path) -> Path:
    """The repository at `commit`, exported once into `out` (git archive)."""
    target = out / f"baseline-{commit}"
    if (target / "app.py").exists():
        return target
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit], cwd=ROOT, capture_output=True, check=True
    ).stdout
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target


def _clients(backend: Backend) -> tuple[Any, Any, Any]:
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    url = backend.endpoint_url
    return (
        session.client("s3", endpoint_url=url),
        session.client("sqs", endpoint_url=url),
        session.resource("dynamodb", endpoint_url=url),
    )


def _deliveries(table: Any, partners: list[str]) -> list[dict[str, Any]]:
    """The partners' delivery records (one index query each: a scan of the table would hold
    up the backend, which answers one DynamoDB request at a time)."""
    from boto3.dynamodb.conditions import Key

    items = []
    for partner in partners:
        page = table.query(
            IndexName="gsi2", KeyConditionExpression=Key("gsi2pk").eq(f"DELIVERIES#{partner}")
        )
        items.extend(page["Items"])
    return items


def _reports(s3: Any) -> int:
    """Delivery reports in the bucket: the ingest writes one just before it marks the delivery
    final. Counted on S3 so that watching the storm costs the DynamoDB backend nothing."""
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix="reports/")
    return sum(1 for page in pages for o in page.get("Contents", []) if o["Key"].endswith(".json"))


def _wait_final(
    s3: Any,
    table: Any,
    partners: list[str],
    expected: int,
    timeout: float,
    workers: list[subprocess.Popen[str]],
) -> tuple[list[dict[str, Any]], float]:
    """The records once every delivery is final, and when that was seen (monotonic): the
    reports are watched every POLL_SECONDS, the records read only once they are all there.
    A failed message would come back only after the queue's visibility timeout (90 minutes,
    as on AWS), so the storm stops at once with what the workers logged."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _ask(workers)["failed"]:
            raise RuntimeError("an ingest message failed; see the workers' logs (storm-*.log)")
        if _reports(s3) >= expected:
            records = _deliveries(table, partners)
            if len(records) >= expected and all(r["status"] != "processing" for r in records):
                return records, time.monotonic()
        time.sleep(POLL_SECONDS)
    raise RuntimeError(f"the storm did not finish within {timeout:.0f} s")


def _dlq_messages(sqs: Any, resources: dict[str, str]) -> int:
    total = 0
    for name in ("ingest_dlq_url", "activation_dlq_url"):
        attributes = sqs.get_queue_attributes(
            QueueUrl=resources[name],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        total += sum(int(v) for v in attributes.values())
    return total


def _order_kept(table: Any, records: list[dict[str, Any]], files: list[list[Delivery]]) -> bool:
    """Each partner's register is what applying its deliveries in upload order gives: the
    policies its mutation changed carry the mutation's seq (not overwritten by the older full
    delivery, whichever of the two ran first), the others the full delivery's."""
    for deliveries in files:
        partner = deliveries[0].partner
        mine = {r["kind"]: r for r in records if r["partner_id"] == partner}
        full, mutation = mine.get("full"), mine.get("mutation")
        if not full or not mutation:
            return False
        with deliveries[1].path.open(encoding="utf-8") as handle:
            numbers = {line.split(";", 1)[0] for line in list(handle)[1:]}
        for number in numbers:
            policy = table.get_item(
                Key={"pk": f"POLICY#{partner}#{number}", "sk": "POLICY"}, ConsistentRead=True
            ).get("Item")
            if policy is None or policy["data_seq"] != mutation["seq"]:
                return False
        with deliveries[0].path.open(encoding="utf-8") as handle:
            others = {line.split(";", 1)[0] for line in list(handle)[1:]} - numbers
        for number in sorted(others)[:CHANGED_PER_MUTATION]:
            policy = table.get_item(
                Key={"pk": f"POLICY#{partner}#{number}", "sk": "POLICY"}, ConsistentRead=True
            ).get("Item")
            if policy is None or policy["data_seq"] != full["seq"]:
                return False
    return True


def _in_upload_order(records: list[dict[str, Any]], files: list[list[Delivery]]) -> int:
    """Partners whose full delivery finished before their mutation (the lane's order when both
    notifications were in before either started; otherwise the newer one runs first and the
    older one's rows for its policies are superseded)."""
    count = 0
    for deliveries in files:
        mine = {r["kind"]: r for r in records if r["partner_id"] == deliveries[0].partner}
        if "full" in mine and "mutation" in mine:
            count += mine["full"]["finished_at"] <= mine["mutation"]["finished_at"]
    return count


def _round(
    backend: Backend,
    resources: dict[str, str],
    uploads: list[Delivery],
    files: list[list[Delivery]],
    timeout: float,
    workers: list[subprocess.Popen[str]],
) -> Result:
    s3, sqs, dynamodb = _clients(backend)
    table = dynamodb.Table(resources["table"])
    partners = [ds[0].partner for ds in files]
    before = len(_deliveries(table, partners))
    backend.meter()  # start counting from here
    started = time.monotonic()
    for delivery in uploads:
        key = f"incoming/{delivery.partner}/{delivery.kind}/{delivery.path.name}"
        s3.upload_file(str(delivery.path), BUCKET, key)
    expected = before + len(uploads)
    records, finished = _wait_final(s3, table, partners, expected, timeout, workers)
    seconds = finished - started
    meter = backend.meter()
    fresh = sorted(records, key=lambda r: r["received_at"])[before:]
    rows = sum(int(r["progress"].get("rows_accepted", 0)) for r in fresh)
    return {
        "seconds": seconds,
        "deliveries": len(fresh),
        "statuses": sorted({str(r["status"]) for r in fresh}),
        "rows": rows,
        "meter": meter,
        "records": records,
        "dlq": _dlq_messages(sqs, resources),
        "order_kept": _order_kept(table, records, files) if len(uploads) > len(files) else None,
        "in_upload_order": _in_upload_order(records, files),
    }


def _ask(processes: list[subprocess.Popen[str]]) -> dict[str, float]:
    """The workers' CPU seconds and failed messages so far, summed."""
    total = {"cpu_seconds": 0.0, "failed": 0.0}
    for process in processes:
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.write("cpu\n")
        process.stdin.flush()
        answer = _answer(process.stdout.readline)
        for name in total:
            total[name] += float(answer[name])
    return total


def _cpu(processes: list[subprocess.Popen[str]]) -> float:
    return _ask(processes)["cpu_seconds"]


def _answer(readline: Any) -> Result:
    """The worker's next answer (lines starting with its mark; the app logs to stdout too)."""
    while True:
        line = readline()
        if not line:
            return {}
        if line.startswith(MARK):
            answer: Result = json.loads(line[len(MARK) :])
            return answer


def _start_worker(
    root: Path, queue_url: str, env: dict[str, str], log: Path
) -> subprocess.Popen[str]:
    """A worker process running the handler of the code at `root`; its stderr into `log`."""
    with log.open("w") as handle:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "bench" / "storm_worker.py"),
                *("--root", str(root), "--queue-url", queue_url),
            ],
            cwd=root,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=handle,
            text=True,
        )


def run_design(
    backend: Backend,
    root: Path,
    workers: int,
    files: list[list[Delivery]],
    timeout: float,
    logs: Path,
) -> Result:
    """Both rounds of one design on fresh resources; the workers' CPU over both. Each worker's
    log (stderr) goes to `logs`-<n>.log. The settings are the deployed defaults: a delivery
    that waits for its partner's earlier one is woken when that one leaves the lane, and
    retries by itself only after INGEST_WAIT_SECONDS (60)."""
    resources = provisioned(backend)
    partners = ",".join(d[0].partner for d in files)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        **bench_env(backend.endpoint_url, resources),
        "PARTNERS": partners,
    }
    logs.parent.mkdir(parents=True, exist_ok=True)
    queue_url = resources["ingest_queue_url"]
    processes = [
        _start_worker(root, queue_url, env, Path(f"{logs}-{index}.log")) for index in range(workers)
    ]
    try:
        for process in processes:
            assert process.stdout is not None
            _answer(process.stdout.readline)  # ready
        uploads = [d for ds in files for d in ds]
        new = _round(backend, resources, uploads, files, timeout, processes)
        cpu_new = _cpu(processes)
        unchanged = _round(backend, resources, [ds[0] for ds in files], files, timeout, processes)
        cpu_both = _cpu(processes)
    finally:
        outputs = []
        for process in processes:
            assert process.stdin is not None
            process.stdin.close()
        for process in processes:
            assert process.stdout is not None
            outputs.append(_answer(process.stdout.readline))
            process.stdout.read()
            process.wait(timeout=120)
    cpu = sum(o.get("cpu_seconds", 0.0) for o in outputs)
    return {
        "workers": workers,
        "new": {k: v for k, v in new.items() if k != "records"},
        "unchanged": {k: v for k, v in unchanged.items() if k != "records"},
        "cpu_seconds": cpu,
        "cpu_new_seconds": cpu_new,
        "cpu_unchanged_seconds": cpu_both - cpu_new,
        "messages": sum(o.get("messages", 0) for o in outputs),
        "failed_messages": sum(o.get("failed", 0) for o in outputs),
    }


def _moto_line(entry: Result) -> str:
    """moto's own CPU for the round's DynamoDB requests (one at a time in the backend)."""
    busy = entry["meter"].get("moto_cpu_seconds", {})
    total, requests = sum(busy.values()), sum(entry["meter"].get("requests", {}).values())
    slowest = sorted(busy.items(), key=lambda kv: -kv[1])[:3]
    return (
        f"moto's CPU {total:.1f} s for {requests:,} DynamoDB requests "
        f"({1000 * total / max(requests, 1):.1f} ms each, {total / entry['seconds']:.0%} of the "
        f"wall time; most in {', '.join(f'{op} {sec:.1f} s' for op, sec in slowest)})"
    )


def _per_row(result: Result, round_name: str, kind: str | None = None) -> float:
    entry = result[round_name]
    units = entry["meter"].get("units", {})
    total = units.get(kind, 0) if kind else sum(units.values())
    return float(total) / max(entry["rows"], 1)


def render(results: dict[str, Result], settings: Result) -> str:
    serial, parallel = results["serial"], results["parallel"]
    rows_total = serial["new"]["rows"] + serial["unchanged"]["rows"]
    lines = [
        f"Measured {settings['when']} on {settings['machine']}; {settings['partners']} partners "
        f"({settings['rows_new']:,} rows: one of {settings['large_rows']:,}, the others "
        f"{settings['rows']:,}–{2 * settings['rows']:,}, plus a mutation of "
        f"{CHANGED_PER_MUTATION} policies each), DynamoDB round trip {settings['latency_ms']} ms "
        f"injected; serial = commit {settings['baseline']} with 1 worker, parallel = this "
        f"version with {parallel['workers']} workers.",
        "",
        "| | serial (before) | parallel (now) | ratio |",
        "|---|---|---|---|",
    ]

    def row(label: str, a: float, b: float, unit: str = "", digits: int = 1) -> None:
        ratio = a / b if b else float("inf")
        lines.append(f"| {label} | {a:,.{digits}f}{unit} | {b:,.{digits}f}{unit} | {ratio:.2f}× |")

    row(
        "storm, new: wall time until every delivery final",
        serial["new"]["seconds"],
        parallel["new"]["seconds"],
        " s",
    )
    row(
        "storm, unchanged re-delivery: wall time",
        serial["unchanged"]["seconds"],
        parallel["unchanged"]["seconds"],
        " s",
    )
    row(
        "write units per new row (all writes)",
        _per_row(serial, "new"),
        _per_row(parallel, "new"),
        "",
        2,
    )
    row(
        "write units per new row (register items only)",
        _per_row(serial, "new", "register"),
        _per_row(parallel, "new", "register"),
        "",
        2,
    )
    row(
        "write units per unchanged row (all writes)",
        _per_row(serial, "unchanged"),
        _per_row(parallel, "unchanged"),
        "",
        2,
    )
    row(
        "client CPU per new row (µs)",
        1e6 * serial["cpu_new_seconds"] / max(serial["new"]["rows"], 1),
        1e6 * parallel["cpu_new_seconds"] / max(parallel["new"]["rows"], 1),
        "",
        0,
    )
    row(
        "client CPU per unchanged row (µs)",
        1e6 * serial["cpu_unchanged_seconds"] / max(serial["unchanged"]["rows"], 1),
        1e6 * parallel["cpu_unchanged_seconds"] / max(parallel["unchanged"]["rows"], 1),
        "",
        0,
    )
    row(
        "client CPU per row, both rounds (µs)",
        1e6 * serial["cpu_seconds"] / max(rows_total, 1),
        1e6 * parallel["cpu_seconds"] / max(rows_total, 1),
        "",
        0,
    )
    for name, result in (("serial", serial), ("parallel", parallel)):
        for round_name in ("new", "unchanged"):
            entry = result[round_name]
            lines.append("")
            lines.append(
                f"- {name}, {round_name}: {entry['deliveries']} deliveries "
                f"({', '.join(entry['statuses'])}), {entry['rows']:,} rows, "
                f"DLQ messages {entry['dlq']}, per-partner order kept: "
                + (
                    "n/a; "
                    if entry["order_kept"] is None
                    else f"{entry['order_kept']} ({entry['in_upload_order']} of "
                    f"{settings['partners']} partners' mutations finished after their full "
                    "delivery); "
                )
                + f"requests {json.dumps(entry['meter'].get('requests', {}), sort_keys=True)}; "
                f"write units by kind {json.dumps(entry['meter'].get('units', {}), sort_keys=True)}"
                + f"; {_moto_line(entry)}"
            )
        lines.append(
            f"- {name}: workers' CPU {result['cpu_seconds']:.1f} s over both rounds, "
            f"{result['messages']} messages handled, {result['failed_messages']} failed"
        )
    lines += [
        "",
        "Projection for AWS from each design's figures above (the serial design: its own CPU, "
        "write units and requests per row, one delivery and one request at a time):",
        "",
    ]
    lines.append(render_projection(parallel, serial, settings["latency_ms"]))
    return "\n".join(lines) + "\n"


# --- the projection for AWS (docs/benchmarks.md, "Projection") --------------------------------

AWS_STORM = [1_000_000] + [100_000] * 50  # rows per partner: one of 1M, fifty of 100k
LAMBDA_FULL_VCPU_MB = 1769  # Lambda allocates CPU in proportion to memory: 1,769 MB = 1 vCPU
NEW_TABLE_WCU = 4_000  # a new on-demand table serves this at once ...
DOUBLING_SECONDS = 30 * 60  # ... and up to twice its previous peak, raised every 30 minutes
TABLE_QUOTA_WCU = 40_000  # the default per-table write throughput quota
EVENT_SOURCE_CONCURRENCY = 8  # infra/template.yaml, ScalingConfig.MaximumConcurrency
WRITE_CONCURRENCY = 8  # INGEST_WRITE_CONCURRENCY
WARM_WCU = 40_000  # infra/template.yaml WarmWriteUnitsPerSecond in prod (the default quota)


def project(
    cpu_us: float,
    units: float,
    requests: float,
    memory_mb: int,
    rtt_ms: float,
    *,
    warm_wcu: int = 0,
    serial: bool = False,
) -> Result:
    """Minutes for the AWS storm and what binds, from per-row figures measured here: client CPU
    (µs on this machine, taken as equal to a full Lambda vCPU), write units and DynamoDB
    requests. An invocation's rows/s is the lower of its CPU (its share of a vCPU) and its
    round trips (WRITE_CONCURRENCY requests in flight); the table's capacity starts at
    NEW_TABLE_WCU, or at `warm_wcu` for a table created with warm throughput, and doubles every
    30 minutes up to the quota; each partner's delivery is one invocation at a time (its lane),
    at most EVENT_SOURCE_CONCURRENCY at once.

    `serial`: the design before issue 14 (the serial design's own figures): reserved
    concurrency 1, so one invocation and one delivery at a time, and one request at a time,
    each waited for, so its CPU and its round trips add up."""
    vcpu = min(memory_mb / LAMBDA_FULL_VCPU_MB, 1.0)
    by_cpu = vcpu * 1e6 / cpu_us
    if serial:
        per_invocation = 1 / (cpu_us / 1e6 / vcpu + requests * rtt_ms / 1000)
        invocations = 1
    else:
        by_round_trips = WRITE_CONCURRENCY * 1000 / rtt_ms / max(requests, 1e-9)
        per_invocation = min(by_cpu, by_round_trips)
        invocations = EVENT_SOURCE_CONCURRENCY
    left = sorted(AWS_STORM, reverse=True)  # the large one starts first
    running: list[float] = []
    seconds, capacity_peak, throttled_seconds = 0, 0.0, 0
    while left or running:
        while left and len(running) < invocations:
            running.append(float(left.pop(0)))
        ramp = NEW_TABLE_WCU * 2 ** (seconds // DOUBLING_SECONDS)
        capacity = min(TABLE_QUOTA_WCU, max(warm_wcu, ramp))
        wanted = len(running) * per_invocation * units
        share = min(1.0, capacity / wanted) if wanted else 1.0
        throttled_seconds += share < 1.0
        capacity_peak = max(capacity_peak, min(wanted, capacity))
        running = [rows - per_invocation * share for rows in running]
        running = [rows for rows in running if rows > 0]
        seconds += 1
    if throttled_seconds > seconds / 2:
        binds = "DynamoDB write capacity"
    elif serial:
        binds = "one delivery at a time: reserved concurrency 1"
    elif per_invocation == by_cpu:
        binds = "the 1M partner's invocation CPU (one at a time)"
    else:
        binds = "round trips"
    return {
        "minutes": seconds / 60,
        "rows_per_invocation_s": per_invocation,
        "peak_wcu_s": capacity_peak,
        "binds": binds,
        "throttled_share": throttled_seconds / seconds,
    }


def _row_figures(result: Result, round_name: str) -> tuple[float, float, float]:
    """A design's client CPU (µs), write units and DynamoDB requests per row of one round."""
    entry = result[round_name]
    rows = max(entry["rows"], 1)
    cpu = 1e6 * result[f"cpu_{round_name}_seconds"] / rows
    made = entry["meter"].get("requests", {})
    requests = sum(n for op, n in made.items() if op != "Scan") / rows
    return cpu, _per_row(result, round_name), requests


def render_projection(parallel: Result, serial: Result, latency_ms: float) -> str:
    scenarios = [
        ("first storm: every row new; a new table (4,000 WCU/s, doubling)", "new", 0),
        ("first storm: every row new; table warmed to 40,000 WCU/s (prod)", "new", WARM_WCU),
        ("a later month: every row unchanged; warm table (prod)", "unchanged", WARM_WCU),
    ]
    lines = [
        "| storm (1 × 1M + 50 × 100k rows) | Lambda memory | CPU µs/row | WCU/row "
        "| requests/row | rows/s per invocation | minutes | peak WCU/s | binds "
        "| serial design: minutes (binds) | serial ÷ parallel |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label, round_name, warm in scenarios:
        cpu, units, per_row = _row_figures(parallel, round_name)
        before = _row_figures(serial, round_name)
        for memory in (1024, LAMBDA_FULL_VCPU_MB):
            p = project(cpu, units, per_row, memory, latency_ms, warm_wcu=warm)
            s = project(*before, memory, latency_ms, warm_wcu=warm, serial=True)
            lines.append(
                f"| {label} | {memory} MB | {cpu:,.0f} | {units:.2f} | {per_row:.3f} "
                f"| {p['rows_per_invocation_s']:,.0f} | {p['minutes']:,.1f} "
                f"| {p['peak_wcu_s']:,.0f} | {p['binds']} "
                f"| {s['minutes']:,.1f} ({s['binds']}) | {s['minutes'] / p['minutes']:.2f}× |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partners", type=int, default=8)
    parser.add_argument("--large-rows", type=int, default=6000)
    parser.add_argument("--rows", type=int, default=800, help="the smallest partner's rows")
    parser.add_argument("--workers", type=int, default=4, help="simulated Lambda workers")
    parser.add_argument("--latency-ms", type=float, default=LATENCY_MS)
    parser.add_argument("--baseline", default=BASELINE, help="commit of the serial design")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--update-docs", action="store_true")
    args = parser.parse_args(argv)
    out = Path(args.out)
    files = partner_files(args.partners, args.large_rows, args.rows, out / "storm")
    baseline = baseline_tree(args.baseline, out)
    settings = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{os.cpu_count()} CPU, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f} at start",
        "partners": args.partners,
        "large_rows": args.large_rows,
        "rows": args.rows,
        "rows_new": sum(1 for d in files for _ in d[0].path.open()) - len(files),
        "latency_ms": args.latency_ms,
        "baseline": args.baseline,
    }
    with running_backend(latency_ms=args.latency_ms) as backend:
        results = {
            "serial": run_design(backend, baseline, 1, files, args.timeout, out / "storm-serial"),
            "parallel": run_design(
                backend, ROOT, args.workers, files, args.timeout, out / "storm-parallel"
            ),
        }
    text = render(results, settings)
    print(text)
    (out / "storm.json").write_text(json.dumps({"settings": settings, **results}, indent=2))
    (out / "storm.md").write_text(text)
    if args.update_docs:
        document = DOCS.read_text()
        start, end = document.index(BEGIN) + len(BEGIN), document.index(END)
        DOCS.write_text(document[:start] + "\n" + text + document[end:])
    ok = all(
        results[name][round_name]["dlq"] == 0
        and results[name][round_name]["statuses"] == ["accepted"]
        and results[name][round_name]["order_kept"] in (True, None)
        for name in results
        for round_name in ("new", "unchanged")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
