"""`make bench`: the ingest and the lookups measured against the floor of the same backend
(issue 6; docs/benchmarks.md explains the figures).

    make bench                                  # ingest 10k; parse/validate 10k,100k,1M
    make bench SIZES=10k,100k                   # also the full ingest of 100k rows (~25 min)
    make bench MEMORY_SIZES=100k,1M             # also the ingest's peak RSS at 100k and 1M
    python -m bench.run --sizes 10k --parse-sizes 10k --clients 2000 --update-docs

- (a) parse, (b) parse + validate + normalise: each size in its own process (peak RSS);
- (c) the real ingest handler, (d) boto3 `batch_writer` of the same items, (e) one `put_item`
  per item, against a moto server in another process (`bench.backend`), each in its own
  process, on a fresh table; (e) on the first `--naive-rows` rows only (one request per item);
- `--memory-sizes`: the full ingest (c) again on a backend that acknowledges portfolio writes
  without keeping them (`bench.backend`, memory mode), for its peak RSS at sizes whose
  items would not fit in moto's memory (1M rows); its rows/s are that backend's only;
- lookups on a register of `--clients` clients: p50/p95 latency and DynamoDB requests per
  query form of `GET /v1/clients` and for `POST /v1/coverage-checks` (`bench.lookups`).
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
from statistics import median
from typing import Any

from bench.backend import (
    BUCKET,
    ROOT,
    Backend,
    bench_env,
    provisioned,
    running_backend,
)
from bench.data import BENCH_PARTNER, OUT, parse_sizes, portfolio_file, rows_for

DOCS = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
NAIVE_ROWS = 1000
Result = dict[str, Any]


def _child(mode: str, env: dict[str, str], *args: str) -> Result:
    """Run one `bench.ingest` measurement in its own process; its JSON result."""
    completed = subprocess.run(
        [sys.executable, "-m", "bench.ingest", mode, *args],
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


def upload(
    backend: Backend,
    env: dict[str, str],
    path: Path,
    partner_id: str = BENCH_PARTNER,
    kind: str = "full",
) -> None:
    """The file as a partner's delivery of `kind`, uploaded to the backend's bucket."""
    import boto3
    from boto3.s3.transfer import TransferConfig

    s3 = boto3.client(
        "s3",
        endpoint_url=backend.endpoint_url,
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    # One PutObject, as a partner's upload of a file this size would be: moto notifies a
    # multipart upload twice (two event times, so two deliveries of the same file).
    single = TransferConfig(multipart_threshold=5 * 1024**3)
    key = f"incoming/{partner_id}/{kind}/{path.name}"
    s3.upload_file(str(path), BUCKET, key, Config=single)


def measure_ingest(backend: Backend, path: Path, kind: str = "full", *options: str) -> Result:
    """(c): the file uploaded to fresh resources, then the real handler in its own process
    (`kind="check"`: the same as a check-only delivery, which validates, scores and reports
    but writes nothing to the register); `options` go to `bench.ingest`."""
    resources = provisioned(backend)
    env = {**_base_env(), **bench_env(backend.endpoint_url, resources)}
    upload(backend, env, path, kind=kind)
    result = _child("ingest", env, "--queue-url", resources["ingest_queue_url"], *options)
    result["backend_rss_mb"] = backend.rss_mb()
    return result


def measure_check_pairs(backend: Backend, path: Path, pairs: int, *options: str) -> list[Result]:
    """The check-only delivery of `path` against (b) of the same file, `pairs` times. On a
    shared machine the load moves within seconds, so the two runs of a pair are taken back to
    back, each in a fresh process, and which one goes first alternates (neither always gets the
    quieter moment); each pair's ratio is a figure, their median the result. `options` go to
    both sides' `bench.ingest` (`--parts`)."""
    measured: list[Result] = []
    for number in range(pairs):
        order = ("validate", "check") if number % 2 == 0 else ("check", "validate")
        load_before = os.getloadavg()[0]
        runs = {
            kind: (
                measure_ingest(backend, path, "check", *options)
                if kind == "check"
                else _child("validate", _base_env(), "--file", str(path), *options)
            )
            for kind in order
        }
        measured.append(
            {
                **runs,
                "first": order[0],
                "load_before": load_before,
                "load_after": os.getloadavg()[0],
            }
        )
    return measured


def measure_writes(backend: Backend, path: Path, naive_rows: int) -> dict[str, Result]:
    """(c), (d), (e) for one file, each on a fresh backend state."""
    results: dict[str, Result] = {"ingest": measure_ingest(backend, path)}

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


def _render_sizes(sizes: dict[str, Result]) -> list[str]:
    """The ingest table: (a)-(e) per size, and the write runs' details."""
    lines: list[str] = []
    lines.append("### Ingest (rows/s; wall clock; peak RSS of the measuring process)\n")
    lines.append(
        "| size | (a) parse | (b) parse+validate | validate only | (b) peak RSS "
        "| (c) full ingest | (d) batch_writer floor | (e) naive put_item | c/d | c/e "
        "| ingest peak RSS | DynamoDB writes per 1,000 rows (requests by operation) |"
    )
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for label, entry in sizes.items():
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
    for label, entry in sizes.items():
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
    return lines


def check_ratios(pair: Result) -> tuple[float, float]:
    """One pair's check-only figure against (b)'s: rows/s (wall clock), and CPU per row (the
    check counts the rows it accepted, (b) the rows that passed validation)."""
    check, validate = pair["check"], pair["validate"]
    rate = (check["rows"] / check["seconds"]) / (validate["rows"] / validate["seconds"])
    cpu = (validate["cpu_seconds"] / validate["rows"]) / (check["cpu_seconds"] / check["rows"])
    return rate, cpu


def _render_checks(sizes: dict[str, Result]) -> list[str]:
    """Check-only deliveries against (b) of the same file in the same run (target >= 0.8): the
    median of the pairs' ratios, then every pair with the load average it ran at."""
    summary = [
        "\n### Check-only deliveries (validated, scored, reported; nothing written)\n",
        "Each pair: (b) and the check-only delivery of the same file back to back, each in a "
        "fresh process, the order alternating from pair to pair; the figure is the median of "
        "the pairs' ratios.\n",
        "| size | pairs | check / (b), rows/s: median (range) | check / (b), CPU per row: "
        "median (range) | check-only rows/s (median) | (b) rows/s (median) |",
        "|---|---|---|---|---|---|",
    ]
    pairs_lines = [
        "",
        "| size | pair | first | load average before → after | (b) wall / CPU "
        "| check wall / CPU | handler invocations | check / (b), rows/s | check / (b), CPU |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for label, entry in sizes.items():
        pairs = entry.get("check_pairs")
        if not pairs:
            continue
        ratios = [check_ratios(pair) for pair in pairs]
        rates, cpus = [r for r, _ in ratios], [c for _, c in ratios]
        summary.append(
            f"| {label} | {len(pairs)} | {median(rates):.2f} ({min(rates):.2f}–{max(rates):.2f}) "
            f"| {median(cpus):.2f} ({min(cpus):.2f}–{max(cpus):.2f}) "
            f"| {_fmt(median(_rate(p['check']) or 0 for p in pairs))} "
            f"| {_fmt(median(_rate(p['validate']) or 0 for p in pairs))} |"
        )
        for number, (pair, (rate, cpu)) in enumerate(zip(pairs, ratios, strict=True), 1):
            check, validate = pair["check"], pair["validate"]
            pairs_lines.append(
                f"| {label} | {number} | {pair['first']} "
                f"| {pair['load_before']:.1f} → {pair['load_after']:.1f} "
                f"| {validate['seconds']:.2f} s / {validate['cpu_seconds']:.2f} s "
                f"| {check['seconds']:.2f} s / {check['cpu_seconds']:.2f} s "
                f"| {check.get('invocations', '–')} | {rate:.2f} | {cpu:.2f} |"
            )
    return summary + pairs_lines if len(summary) > 4 else []


def render(results: Result) -> str:
    """The results as Markdown (printed, and written into docs/benchmarks.md)."""
    lines: list[str] = _render_sizes(results["sizes"]) if results["sizes"] else []
    lines.extend(_render_checks(results["sizes"]))
    if results.get("memory"):
        lines.append(_render_memory(results["memory"]))
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


def _render_memory(memory: dict[str, Result]) -> str:
    """The memory-mode table: the full ingest's peak RSS per size, against the smallest size."""
    lines = [
        "\n### Full ingest at scale: peak RSS (memory mode: portfolio items acknowledged, "
        "not kept)\n",
        "| size | rows accepted | handler invocations | peak RSS | RSS at start "
        f"| peak RSS vs {next(iter(memory))} | rows/s (this backend only; not comparable to (c)) "
        "| wall | CPU of the ingest process | DynamoDB writes per 1,000 rows | backend RSS after |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    base = next(iter(memory.values()))["peak_rss_mb"]
    for label, r in memory.items():
        lines.append(
            f"| {label} | {r['rows']:,} | {r.get('invocations', '–')} "
            f"| {r['peak_rss_mb']:.0f} MB | {r['rss_before_mb']:.0f} MB "
            f"| {r['peak_rss_mb'] / base:.2f} | {_fmt(_rate(r))} | {r['seconds']:,.0f} s "
            f"| {r['cpu_seconds']:,.0f} s | {_writes_per_1000(r)} "
            f"| {r.get('backend_rss_mb', 0):.0f} MB |"
        )
    return "\n".join(lines)


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


def update_docs(
    text: str, docs: Path | None = None, markers: tuple[str, str] = (BEGIN, END)
) -> None:
    """Replace the measured block of docs/benchmarks.md (between the markers)."""
    docs = docs or DOCS
    begin, end = markers
    current = docs.read_text(encoding="utf-8")
    head, _, rest = current.partition(begin)
    _, _, tail = rest.partition(end)
    docs.write_text(f"{head}{begin}\n{text}{end}{tail}", encoding="utf-8")


def publish(
    results: Result,
    text: str,
    out: Path,
    stem: str,
    *,
    docs: Path | None = None,
    markers: tuple[str, str] = (BEGIN, END),
) -> None:
    """The figures as `<stem>.json` and `<stem>.md` in `out`, and into `docs` when given."""
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{stem}.json").write_text(json.dumps(results, indent=2, default=str))
    (out / f"{stem}.md").write_text(text)
    if docs is not None:
        update_docs(text, docs, markers)


def run(args: argparse.Namespace) -> Result:
    from bench.lookups import measure_lookups

    ingest_sizes = parse_sizes(args.sizes)
    parse_sizes_ = parse_sizes(args.parse_sizes)
    memory_sizes = parse_sizes(args.memory_sizes)
    check_sizes = parse_sizes(args.check_sizes)
    # A check-only figure is compared with (b) of the same file in the same run.
    parse_sizes_ = list(dict.fromkeys(parse_sizes_ + check_sizes))
    labels = list(dict.fromkeys(parse_sizes_ + ingest_sizes + memory_sizes))
    results: Result = {"sizes": {label: {} for label in parse_sizes_ + ingest_sizes}}
    files = {}
    for label in labels:
        print(f"file {label} ...", file=sys.stderr, flush=True)
        files[label] = portfolio_file(rows_for(label), Path(args.out))
    for label in parse_sizes_:
        print(f"(a)/(b) {label} ...", file=sys.stderr, flush=True)
        results["sizes"][label].update(measure_parsing(files[label]))
    if ingest_sizes or args.clients or check_sizes:
        with running_backend() as backend:
            for label in check_sizes:
                print(f"check-only {label} against (b) ...", file=sys.stderr, flush=True)
                results["sizes"][label]["check_pairs"] = measure_check_pairs(
                    backend, files[label], args.check_pairs
                )
            for label in ingest_sizes:
                print(f"(c)/(d)/(e) {label} ...", file=sys.stderr, flush=True)
                naive_rows = min(args.naive_rows, rows_for(label))
                results["sizes"][label].update(measure_writes(backend, files[label], naive_rows))
            if args.clients:
                print(f"lookups on {args.clients} clients ...", file=sys.stderr, flush=True)
                results["lookups"] = measure_lookups(
                    backend, args.clients, args.samples, Path(args.out)
                )
    if memory_sizes:
        results["memory"] = {}
        with running_backend(discard_portfolio_writes=True) as backend:
            for label in memory_sizes:
                print(f"(c) in memory mode {label} ...", file=sys.stderr, flush=True)
                results["memory"][label] = measure_ingest(backend, files[label])
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
    parser.add_argument(
        "--memory-sizes",
        default=os.environ.get("MEMORY_SIZES", ""),
        help="sizes of the full ingest's peak RSS in memory mode (env MEMORY_SIZES; e.g. "
        "100k,1M; off by default: 1M takes about an hour)",
    )
    parser.add_argument(
        "--check-sizes",
        default=os.environ.get("CHECK_SIZES", "100k"),
        help="sizes of the check-only delivery run, against (b) of the same size (env "
        "CHECK_SIZES; empty = skip)",
    )
    parser.add_argument(
        "--check-pairs",
        type=int,
        default=int(os.environ.get("CHECK_PAIRS", "5")),
        help="(b) + check-only runs back to back per check size, order alternating (env "
        "CHECK_PAIRS); the figure is the median of their ratios",
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
    publish(results, text, Path(args.out), "results", docs=DOCS if args.update_docs else None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
