"""Upload a portfolio file to the running local run, as a partner would (no `aws` CLI needed):

    .venv/bin/python -m scripts.upload my-file.csv --partner demo-volmacht --kind mutation

The file lands at `incoming/<partner>/<kind>/<name>` of the local bucket; the ingest picks it up
and writes `reports/<partner>/<delivery_id>.json`. `--wait` waits for that report and prints it;
the exit status is then 1 when the delivery was `rejected` (or no report came in time), else 0.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from scripts.local_env import (
    LocalRunNotFound,
    apply_environment,
    environment_from_run_info,
    read_run_info,
)


def upload(path: Path, *, partner: str, kind: str, name: str | None = None) -> tuple[str, str]:
    """Put the file into the local bucket; returns (bucket, key). The environment must be the
    local run's (apply_environment)."""
    from chalicelib.config import get_settings
    from chalicelib.store import aws

    bucket = get_settings().bucket_name
    key = f"incoming/{partner}/{kind}/{name or path.name}"
    with path.open("rb") as body:
        aws.client("s3").put_object(Bucket=bucket, Key=key, Body=body)
    return bucket, key


def wait_for_report(partner: str, since: float, timeout: float) -> dict[str, Any] | None:
    """The first report of `partner` written after `since` (epoch seconds)."""
    from chalicelib.config import get_settings
    from chalicelib.store import aws

    s3 = aws.client("s3")
    bucket = get_settings().bucket_name
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listing = s3.list_objects_v2(Bucket=bucket, Prefix=f"reports/{partner}/")
        for entry in listing.get("Contents", []):
            if entry["Key"].endswith(".json") and entry["LastModified"].timestamp() >= since - 1:
                body = s3.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read()
                report: dict[str, Any] = json.loads(body)
                return report
        time.sleep(0.5)
    return None


def exit_code_for(report: Mapping[str, Any]) -> int:
    """The exit status after `--wait`: 1 for a `rejected` delivery, 0 for any other status
    (`held_for_review` and `accepted_with_errors` were received and are not failures)."""
    return 1 if report.get("status") == "rejected" else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Upload a portfolio file to the local run.",
        epilog="Exit status: 0 once uploaded. With --wait the report is printed, and the exit "
        "status is 1 when its status is 'rejected' or no report arrived within --timeout, "
        "else 0.",
    )
    parser.add_argument("file", type=Path)
    parser.add_argument("--partner", required=True)
    parser.add_argument("--kind", choices=("full", "mutation", "check"), default="mutation")
    parser.add_argument("--name", default=None, help="object name (default: the file's name)")
    parser.add_argument(
        "--wait",
        action="store_true",
        help="wait for the report and print it; exit 1 if the delivery was rejected",
    )
    parser.add_argument("--timeout", type=float, default=120)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        info = read_run_info()
    except LocalRunNotFound as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not args.file.is_file():
        print(f"error: {args.file} is not a file", file=sys.stderr)
        return 1
    apply_environment(environment_from_run_info(info))
    started = time.time()
    bucket, key = upload(args.file, partner=args.partner, kind=args.kind, name=args.name)
    print(f"uploaded s3://{bucket}/{key}", file=sys.stderr)
    if args.wait:
        report = wait_for_report(args.partner, started, args.timeout)
        if report is None:
            print("error: no report within the timeout", file=sys.stderr)
            return 1
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return exit_code_for(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
