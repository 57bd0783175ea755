"""`make bench`: the ingest and the lookups measured against the floor of the same backend
(issue 6; docs/benchmarks.md explains the figures).

    make bench                                  # ingest 10k; parse/validate 10k,100k,1M
    make bench SIZES=10k,100k                   # also the full ingest of 100k rows (~25 min)
    python -m scripts.bench --sizes 10k --parse-sizes 10k --clients 2000 --update-docs

- (a) parse, (b) parse + validate + normalise: each size in its own process (peak RSS);
- (c) the real ingest handler, (d) boto3 `batch_writer` of the same items, (e) one `put_item`
  per item, against a moto server in another process (`scripts.bench_backend`), each in its own
  process, on a fresh table; (e) on the first `--naive-rows` rows only (one request per item);
- lookups on a register of `--clients` clients: p50/p95 latency and DynamoDB requests per
  query form of `GET /v1/clients` and for `POST /v1/coverage-checks` (`scripts.bench_lookups`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scripts.bench_backend import (
    BUCKET,
    ROOT,
    Backend,
    bench_env,
    provisioned,
    running_backend,
)
from scripts.bench_data import BENCH_PARTNER, OUT, parse_sizes, portfolio_file, rows_for

DOCS = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
NAIVE_ROWS = 1000
Result = dict[str, Any]


def _child(mode: str, env: dict[str, str], *args: str) -> Result:
    """Run one `scripts.bench_ingest` measurement in its own process; its JSON result."""
    completed = subprocess.run(
        [sys.executable, "-m", "scripts.bench_ingest", mode, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"bench_ingest {mode} failed:\n{completed.stderr[-4000:]}")
    result: Result = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def _base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.pop("AWS_PROFILE", None)
    return env


def measure_parsing(path: Path) -> dict[str, Result]:
    env = _base_env()
    return {
        "parse": _child("parse", env, "--file", str(path)),
        "validate": _child("validate", env, "--file", str(path)),
    }


def _upload(backend: Backend, env: dict[str, str], path: Path) -> None:
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=backend.endpoint_url,
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    s3.upload_file(str(path), BUCKET, f"incoming/{BENCH_PARTNER}/full/{path.name}")


def measure_writes(backend: Backend, path: Path, naive_rows: int) -> dict[str, Result]:
    """(c), (d), (e) for one file, each on a fresh backend state."""
    results: dict[str, Result] = {}
    resources = provisioned(backend)
    env = {**_base_env(), **bench_env(backend.endpoint_url, resources)}
    _upload(backend, env, path)
    results["ingest"] = _child("ingest", env, "--queue-url", resources["ingest_queue_url"])
    results["ingest"]["backend_rss_mb"] = backend.rss_mb()

    resources = provisioned(backend)
    env = {**_base_env(), **bench_env(backend.endpoint_url, resources)}
    results["floor"] = _child("floor", env, "--file", str(path))

    resources = provisioned(backend)
    env = {**_base_env(), **bench_env(backend.endpoint_url, resources)}
    results["naive"] = _child("naive", env, "--file", str(path), "--limit-rows", str(naive_rows))
    return results


# --- report -------------------------------------------------------------------------------------


def _rate(result: Result | None) -> float | None:
    if not result or not result.get("seconds"):
        return None
    rate: float = result["rows"] / result["seconds"]
    return rate


def _fmt(value: float | None, unit: str = "", digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}{unit}"


def _writes_per_1000(result: Result) -> str:
    calls = result.get("calls", {})
    rows = result["rows"] or 1
    writes = calls.get("BatchWriteItem", 0) + calls.get("PutItem", 0)
    detail = ", ".join(f"{op} {1000 * n / rows:.1f}" for op, n in sorted(calls.items()))
    return f"{1000 * writes / rows:.1f} ({detail})"


def render(results: Result) -> str:
    """The results as Markdown (printed, and written into docs/benchmarks.md)."""
    lines: list[str] = []
    lines.append("### Ingest (rows/s; wall clock; peak RSS of the measuring process)\n")
    lines.append(
        "| size | (a) parse | (b) parse+validate | validate only | (b) peak RSS "
        "| (c) full ingest | (d) batch_writer floor | (e) naive put_item | c/d | c/e "
        "| ingest peak RSS | DynamoDB writes per 1,000 rows (requests by operation) |"
    )
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for label, entry in results["sizes"].items():
        parse, validate = entry.get("parse"), entry.get("validate")
        ingest, floor_, naive_ = entry.get("ingest"), entry.get("floor"), entry.get("naive")
        validate_only = None
        if parse and validate and validate["cpu_seconds"] > parse["cpu_seconds"]:
            validate_only = validate["rows"] / (validate["cpu_seconds"] - parse["cpu_seconds"])
        c, d, e = _rate(ingest), _rate(floor_), _rate(naive_)
        lines.append(
            "| "
            + " | ".join(
                [
                    label,
                    _fmt(_rate(parse)),
                    _fmt(_rate(validate)),
                    _fmt(validate_only),
                    _fmt(validate["peak_rss_mb"] if validate else None, " MB"),
                    _fmt(c),
                    _fmt(d),
                    _fmt(e) + (f" ({naive_['rows']:,} rows)" if naive_ else ""),
                    _fmt(c / d if c and d else None, "", 2),
                    _fmt(c / e if c and e else None, "", 1),
                    (
                        f"{ingest['peak_rss_mb']:.0f} MB (at start {ingest['rss_before_mb']:.0f})"
                        if ingest
                        else "–"
                    ),
                    _writes_per_1000(ingest) if ingest else "–",
                ]
            )
            + " |"
        )
    details = []
    for label, entry in results["sizes"].items():
        for key in ("ingest", "floor", "naive"):
            if key in entry:
                r = entry[key]
                details.append(
                    f"- {label} {key}: {r['rows']:,} rows"
                    + (f", {r['items']:,} items" if "items" in r else "")
                    + f" in {r['seconds']:.1f} s wall, {r['cpu_seconds']:.1f} s CPU in the "
                    f"measuring process ({1e6 * r['cpu_seconds'] / max(r['rows'], 1):.0f} µs/row)"
                    + (
                        f", backend RSS {r['backend_rss_mb']:.0f} MB"
                        if "backend_rss_mb" in r
                        else ""
                    )
                )
    if details:
        lines.append("")
        lines.extend(details)
    lookups = results.get("lookups")
    if lookups:
        lines.append(
            f"\n### Lookups on a register of {lookups['clients']:,} clients "
            f"({lookups['items']:,} items, {lookups['samples']} requests per form)\n"
        )
        lines.append("| request | p50 | p95 | DynamoDB reads per request | other requests |")
        lines.append("|---|---|---|---|---|")
        for form in lookups["forms"]:
            lines.append(
                f"| {form['form']} | {form['p50_ms']:.1f} ms | {form['p95_ms']:.1f} ms "
                f"| {form['reads']} | {form['other']} |"
            )
    return "\n".join(lines) + "\n"


def machine() -> str:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory = f"{pages / 1024**3:.1f} GiB RAM"
    except (OSError, ValueError):
        memory = "RAM unknown"
    return (
        f"{os.cpu_count()} CPU ({model}), {memory}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def update_docs(text: str, docs: Path | None = None) -> None:
    """Replace the measured block of docs/benchmarks.md (between the bench markers)."""
    docs = docs or DOCS
    current = docs.read_text(encoding="utf-8")
    head, _, rest = current.partition(BEGIN)
    _, _, tail = rest.partition(END)
    docs.write_text(f"{head}{BEGIN}\n{text}{END}{tail}", encoding="utf-8")


def run(args: argparse.Namespace) -> Result:
    from scripts.bench_lookups import measure_lookups

    ingest_sizes = parse_sizes(args.sizes)
    parse_sizes_ = parse_sizes(args.parse_sizes)
    labels = list(dict.fromkeys(parse_sizes_ + ingest_sizes))
    results: Result = {"sizes": {label: {} for label in labels}}
    files = {}
    for label in labels:
        print(f"file {label} ...", file=sys.stderr, flush=True)
        files[label] = portfolio_file(rows_for(label), Path(args.out))
    for label in parse_sizes_:
        print(f"(a)/(b) {label} ...", file=sys.stderr, flush=True)
        results["sizes"][label].update(measure_parsing(files[label]))
    if ingest_sizes or args.clients:
        with running_backend() as backend:
            for label in ingest_sizes:
                print(f"(c)/(d)/(e) {label} ...", file=sys.stderr, flush=True)
                naive_rows = min(args.naive_rows, rows_for(label))
                results["sizes"][label].update(measure_writes(backend, files[label], naive_rows))
            if args.clients:
                print(f"lookups on {args.clients} clients ...", file=sys.stderr, flush=True)
                results["lookups"] = measure_lookups(
                    backend, args.clients, args.samples, Path(args.out)
                )
    results["machine"] = machine()
    results["date"] = datetime.now(UTC).strftime("%Y-%m-%d")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        default=os.environ.get("SIZES", "10k"),
        help="sizes of the full ingest, floor and naive runs (env SIZES; e.g. 10k,100k)",
    )
    parser.add_argument(
        "--parse-sizes",
        default=os.environ.get("PARSE_SIZES", "10k,100k,1M"),
        help="sizes of the parse and parse+validate runs (env PARSE_SIZES)",
    )
    parser.add_argument("--naive-rows", type=int, default=NAIVE_ROWS)
    parser.add_argument(
        "--clients", type=int, default=int(os.environ.get("CLIENTS", "100000")), help="0 = skip"
    )
    parser.add_argument("--samples", type=int, default=200, help="requests per lookup form")
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--update-docs", action="store_true", help="rewrite docs/benchmarks.md")
    args = parser.parse_args(argv)
    results = run(args)
    text = f"Measured {results['date']} on {results['machine']}.\n\n" + render(results)
    print(text)
    out = Path(args.out)
    (out / "results.json").write_text(json.dumps(results, indent=2))
    (out / "results.md").write_text(text)
    if args.update_docs:
        update_docs(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
