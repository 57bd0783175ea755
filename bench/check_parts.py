"""`make bench-check-parts`: where a check-only delivery's time goes against (b) parse +
validate of the same file, each part timed in place (docs/benchmarks.md, "Check-only
deliveries").

    python -m bench.check_parts --rows 100000 --runs 5

Each run is one of `bench.run`'s check pairs (`measure_check_pairs`: (b) and the check-only
delivery of the same file, each in its own fresh process, the order alternating), with
`bench.ingest --parts`.
Reported in microseconds a row (the median of the runs): the CPU and wall time of each side,
`validate_row` on each side, and what the check does beyond it: closing each policy (judging it,
counting its fields, the rest: bookkeeping and the policies seen before), the AWS requests
(wall time, from the first SQS receive to the last delete), and what is left (reading the file,
grouping the rows into policies, the report). The parts are wall-clock times: on a busy machine
the rest also holds the time the process waited for a CPU, so measure on a quiet one.
"""

from __future__ import annotations

import argparse
import os
import platform
from statistics import median
from typing import Any

from bench.backend import running_backend
from bench.data import portfolio_file
from bench.run import measure_check_pairs

Result = dict[str, Any]


def _per_row(seconds: float, rows: int) -> float:
    return seconds * 1e6 / rows


def figures(validate: Result, check: Result) -> dict[str, float]:
    """One run's figures in microseconds a row, each side on its own rows."""
    b_rows, c_rows = validate["rows"], check["rows"]
    timed = check["parts"]["timed"]
    wrapper = check["parts"]["wrapper_ns"] / 1e9

    def part(name: str) -> float:
        return float(timed[name]["seconds"])

    # Judging and counting run inside closing: their timers' own cost is in its total too.
    inner = (timed["judge"]["calls"] + timed["tally"]["calls"]) * wrapper
    close = max(0.0, part("close") - inner)
    requests = sum(r["seconds"] for r in check["parts"]["requests"].values())
    return {
        "b_cpu": _per_row(validate["cpu_seconds"], b_rows),
        "b_wall": _per_row(validate["seconds"], b_rows),
        "b_validate": _per_row(validate["parts"]["timed"]["validate_row"]["seconds"], b_rows),
        "check_cpu": _per_row(check["cpu_seconds"], c_rows),
        "check_wall": _per_row(check["seconds"], c_rows),
        "check_validate": _per_row(part("validate_row"), c_rows),
        "close": _per_row(close, c_rows),
        "judge": _per_row(part("judge"), c_rows),
        "tally": _per_row(part("tally"), c_rows),
        "close_rest": _per_row(max(0.0, close - part("judge") - part("tally")), c_rows),
        "requests": _per_row(requests, c_rows),
        "check_rest": _per_row(check["seconds"] - part("validate_row") - close - requests, c_rows),
        "b_rest": _per_row(
            validate["seconds"] - validate["parts"]["timed"]["validate_row"]["seconds"], b_rows
        ),
    }


ROWS_OF_TABLE = (
    ("wall", "b_wall", "check_wall"),
    ("CPU", "b_cpu", "check_cpu"),
    ("`validate_row`", "b_validate", "check_validate"),
    (
        "the rest: reading the file (the check: also grouping the rows, the report, and any"
        " wait for a CPU beyond the requests)",
        "b_rest",
        "check_rest",
    ),
    ("closing the policies, in all", None, "close"),
    ("- judging each policy (`writable_rows`)", None, "judge"),
    ("- counting its fields (`FieldTally.add_valid`)", None, "tally"),
    ("- the rest (bookkeeping, the policies seen before)", None, "close_rest"),
    ("AWS requests (wall)", None, "requests"),
)


def operations(check: Result) -> dict[str, int]:
    """The check's AWS requests by operation."""
    return {name: int(r["calls"]) for name, r in sorted(check["parts"]["requests"].items())}


def render(
    runs: list[dict[str, float]], requests: dict[str, int], load: tuple[float, float]
) -> str:
    def cell(key: str | None) -> str:
        if key is None:
            return "–"
        values = [run[key] for run in runs]
        return f"{median(values):.2f} ({min(values):.2f}–{max(values):.2f})"

    lines = [
        f"{len(runs)} runs; load average {load[0]:.1f} → {load[1]:.1f}; "
        f"{os.cpu_count()} CPU, Python {platform.python_version()}",
        "",
        "| µs a row: median (range) | (b) parse + validate | check-only |",
        "|---|---|---|",
        *(f"| {label} | {cell(b)} | {cell(c)} |" for label, b, c in ROWS_OF_TABLE),
        "",
        f"AWS requests of the check ({sum(requests.values())}, the last run): "
        + ", ".join(f"{name} {calls}" for name, calls in requests.items())
        + ".",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    path = portfolio_file(args.rows)
    load_before = os.getloadavg()[0]
    with running_backend() as backend:
        pairs = measure_check_pairs(backend, path, args.runs, "--parts")
    runs = [figures(pair["validate"], pair["check"]) for pair in pairs]
    requests = operations(pairs[-1]["check"])
    print(render(runs, requests, (load_before, os.getloadavg()[0])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
