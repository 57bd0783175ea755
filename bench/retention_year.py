"""`make bench-year`: a year of monthly full deliveries of an unchanged portfolio (issue 14;
docs/benchmarks.md, "A year of unchanged deliveries").

    python -m bench.retention_year                  # 1,000 rows, 13 monthly deliveries
    python -m bench.retention_year --rows 200 --months 4

One partner delivers the same generated portfolio (the storm's generator) once a month: the
first delivery writes every row new, the next twelve change nothing. Each delivery is an S3
upload on the benchmark's moto server (bench.backend, no injected latency), handled by the real
ingest handler in this process, with the S3 event's time and the app's clock set to the month's
first day, so the retention refresh (`RETENTION_REFRESH_MONTHS`) sees the months go by. The
server's meter counts every DynamoDB request and its write units by DynamoDB's rules, by item
kind (register, identity, bookkeeping), per delivery.

Checked, not assumed, after every delivery (a scan of the benchmark's own table): every item
carries an expiry, and every register and identity item expires no later than `RETENTION_MONTHS`
after this delivery and no earlier than `RETENTION_MONTHS - RETENTION_REFRESH_MONTHS` after it
(docs/configuration.md, "Retention"); every delivery ends `accepted` with every row accepted.
Exits non-zero otherwise.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from bench.backend import (
    REGION,
    bench_env,
    kind_of,
    provisioned,
    running_backend,
    scan_items,
)
from bench.ingest import drain_ingest_queue

PARTNER = "demo-volmacht"
SEED = 6_000_007  # the storm's second partner, as bench.row_writes
FIRST_DELIVERY = datetime(2027, 1, 1, 6, 0, tzinfo=UTC)
Result = dict[str, Any]


def _portfolio(rows: int) -> bytes:
    from scripts.demo_data import generate_rows, write_csv

    stream = io.BytesIO()
    write_csv(stream, itertools.islice(generate_rows(rows, seed=SEED, partner_id=PARTNER), rows))
    return stream.getvalue()


def _with_event_time(message: dict[str, Any], moment: datetime) -> dict[str, Any]:
    """The S3 notification of an upload as if it happened at `moment` (the month's delivery)."""
    body = json.loads(message["Body"])
    for record in body.get("Records", []):
        record["eventTime"] = moment.isoformat().replace("+00:00", "Z")
    return {**message, "Body": json.dumps(body)}


def retention_breaches(items: list[dict[str, Any]], moment: datetime) -> dict[str, int]:
    """Items that break the retention contract after a delivery at `moment`: without an expiry,
    or a register/identity item expiring later than `RETENTION_MONTHS` or earlier than
    `RETENTION_MONTHS - RETENTION_REFRESH_MONTHS` after it."""
    from chalicelib.config import get_settings
    from chalicelib.rules.dates import expires_at

    settings = get_settings()
    latest = expires_at(moment, settings.retention_months)
    earliest = expires_at(moment, settings.retention_months - settings.retention_refresh_months)
    breaches = {"no expiry": 0, "too late": 0, "too early": 0}
    for item in items:
        expiry = int(item.get("expires_at") or 0)
        if not expiry:
            breaches["no expiry"] += 1
        elif kind_of(str(item["pk"])) in ("register", "identity"):
            if expiry > latest:
                breaches["too late"] += 1
            elif expiry < earliest:
                breaches["too early"] += 1
    return breaches


def _report(s3: Any, bucket: str, month: int) -> dict[str, Any]:
    """The delivery report of the month's upload."""
    listing = s3.list_objects_v2(Bucket=bucket, Prefix="reports/")
    for entry in listing.get("Contents", []):
        key = entry["Key"]
        if key.endswith(".json"):
            report = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
            if str(report.get("object_key", "")).endswith(f"month-{month:02d}.csv"):
                return dict(report)
    raise RuntimeError(f"no report for month {month}")


def run(rows: int, months: int) -> Result:
    import boto3

    body = _portfolio(rows)
    deliveries: list[Result] = []
    with running_backend(latency_ms=0) as backend:
        resources = provisioned(backend)
        os.environ.update(bench_env(backend.endpoint_url, resources))
        os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"  # no metric lines among the figures
        from chalicelib import clock
        from chalicelib.config import get_settings, reset_settings
        from chalicelib.store.aws import reset_clients

        reset_settings()
        reset_clients()
        from app import app

        settings = get_settings()
        endpoint: dict[str, Any] = {"endpoint_url": backend.endpoint_url, "region_name": REGION}
        s3 = boto3.client("s3", **endpoint)
        sqs = boto3.client("sqs", **endpoint)
        table = boto3.resource("dynamodb", **endpoint).Table(resources["table"])
        backend.meter()  # provisioning is not a delivery
        for month in range(months):
            moment = _month(month)
            s3.put_object(
                Bucket=resources["bucket"],
                Key=f"incoming/{PARTNER}/full/month-{month:02d}.csv",
                Body=body,
            )
            started = time.monotonic()
            with clock.frozen(_clock_at(moment)):
                drain_ingest_queue(
                    app,
                    sqs,
                    resources["ingest_queue_url"],
                    wait_seconds=1,
                    prepare=partial(_with_event_time, moment=moment),
                )
            seconds = time.monotonic() - started
            metered = backend.meter()
            report = _report(s3, resources["bucket"], month)
            items = list(scan_items(table))
            backend.meter()  # the check's scan is not the next delivery's
            deliveries.append(
                {
                    "month": month,
                    "delivered": moment.date().isoformat(),
                    "status": report.get("status"),
                    "rows": report.get("rows_accepted"),
                    "rows_total": report.get("rows_total"),
                    "requests": sum(metered["requests"].values()),
                    "operations": metered["requests"],
                    "units": metered["units"],
                    "items": metered["items"],
                    "seconds": round(seconds, 1),
                    "breaches": retention_breaches(items, moment),
                }
            )
            print(json.dumps(deliveries[-1]), file=sys.stderr, flush=True)
    return {
        "rows": rows,
        "months": months,
        "retention_months": settings.retention_months,
        "refresh_months": settings.retention_refresh_months,
        "deliveries": deliveries,
        "machine": f"{os.cpu_count()} CPU, Python {platform.python_version()}",
        "load": os.getloadavg()[0],
        "at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def _clock_at(moment: datetime) -> Callable[[], datetime]:
    """The app's clock during a delivery: a few minutes after its upload."""
    return lambda: moment + timedelta(minutes=5)


def _month(index: int) -> datetime:
    from chalicelib.rules.dates import add_months

    day = add_months(FIRST_DELIVERY.date(), index)
    return FIRST_DELIVERY.replace(year=day.year, month=day.month, day=day.day)


def per_row(
    delivery: Result, kinds: tuple[str, ...] = ("register", "identity", "bookkeeping")
) -> float:
    rows = int(delivery["rows"] or 0)
    return sum(int(delivery["units"].get(kind, 0)) for kind in kinds) / rows if rows else 0.0


def problems(result: Result) -> list[str]:
    """What breaks the contract in a run (empty when every check holds)."""
    found: list[str] = []
    for delivery in result["deliveries"]:
        if delivery["status"] != "accepted" or delivery["rows"] != delivery["rows_total"]:
            found.append(
                f"month {delivery['month']}: {delivery['status']}, {delivery['rows']} rows"
            )
        for breach, count in delivery["breaches"].items():
            if count:
                found.append(f"month {delivery['month']}: {count} items {breach}")
    return found


def render(result: Result) -> str:
    later = result["deliveries"][1:]
    lines = [
        f"Measured {result['at']} on {result['machine']}, load average {result['load']:.1f}; "
        f"{result['rows']} rows of one partner, {result['months']} monthly full deliveries, "
        f"RETENTION_MONTHS {result['retention_months']}, "
        f"RETENTION_REFRESH_MONTHS {result['refresh_months']}.",
        "",
        "| delivery | date | requests | write units: register | identity | bookkeeping "
        "| per row | expiry breaches |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for delivery in result["deliveries"]:
        units = delivery["units"]
        lines.append(
            f"| {delivery['month']} {'(new)' if delivery['month'] == 0 else '(unchanged)'} "
            f"| {delivery['delivered']} | {delivery['requests']:,} "
            f"| {units.get('register', 0):,} | {units.get('identity', 0):,} "
            f"| {units.get('bookkeeping', 0):,} | {per_row(delivery):.2f} "
            f"| {sum(delivery['breaches'].values())} |"
        )
    if later:
        year = later[:12]
        average = sum(per_row(d) for d in year) / len(year)
        register = sum(per_row(d, ("register", "identity")) for d in year) / len(year)
        lines += [
            "",
            f"Average over the {len(year)} unchanged deliveries: **{average:.2f} write units per "
            f"row** ({register:.2f} of them register and identity items, the rest bookkeeping); "
            f"a new row: {per_row(result['deliveries'][0]):.2f}.",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--months", type=int, default=13, help="deliveries, one a month")
    args = parser.parse_args(argv)
    result = run(args.rows, args.months)
    print(render(result))
    found = problems(result)
    for problem in found:
        print(f"FAILED: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
