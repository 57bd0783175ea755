"""Micro-benchmark of row validation + normalisation (no file parsing in the timed part).

    .venv/bin/python -m bench.rules [--rows 100000] [--batch 1000] [--runs 1]

The rows are the benchmark's own (`bench.data.bench_rows`: the demo generator with the
bench seed, the rows of `bench/out/portfolio-<rows>.csv`). Each batch is written as CSV and read
back through the real reader (`services.reader.open_rows`), so `validate_row` sees exactly what
the ingest gives it: fresh string objects per field, as a file read produces them. Writing and
reading are not timed; only `validate_row` is, in CPU time. Prints rows/s on one core.
Target (issue 6): at least 100k rows/s.
"""

from __future__ import annotations

import argparse
import io
import itertools
import time
from collections.abc import Iterator

from bench.data import TODAY, bench_rows
from chalicelib.rules.rows import HeaderMap, map_header, validate_row
from chalicelib.services.reader import RawRow, open_rows
from scripts.demo_data import write_csv


def batches(rows: int, size: int) -> Iterator[tuple[HeaderMap, list[RawRow]]]:
    """The benchmark's first `rows` rows, `size` at a time, as the reader yields them."""
    source = bench_rows(rows)
    while chunk := list(itertools.islice(source, size)):
        buffer = io.BytesIO()
        write_csv(buffer, chunk)
        buffer.seek(0)
        reader = open_rows(buffer, filename="bench.csv")
        header = map_header(list(reader.format.labels), "full")
        yield header, [item for item in reader if isinstance(item, RawRow)]


def measure(rows: int, size: int) -> tuple[int, int, float]:
    """(rows validated, rows accepted, CPU seconds of `validate_row`)."""
    elapsed = 0.0
    done = accepted = 0
    for header, raw_rows in batches(rows, size):
        # Like the ingest, validate rows right after they were read (a batch at a time), so the
        # figure is not dominated by fetching 100k cold rows from memory.
        start = time.process_time()
        for raw in raw_rows:
            if validate_row(raw.values, header, kind="full", line=raw.line, today=TODAY).row:
                accepted += 1
        elapsed += time.process_time() - start
        done += len(raw_rows)
    return done, accepted, elapsed


def reference_loop() -> float:
    """CPU seconds of an empty loop of 10M iterations (about 0.15 s on a current laptop core);
    divide by it to compare figures across machines."""
    start = time.process_time()
    for _ in range(10_000_000):
        pass
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=1, help="repeat the measurement (new caches)")
    args = parser.parse_args()
    for _ in range(args.runs):
        _clear_caches()
        done, accepted, elapsed = measure(args.rows, args.batch)
        reference = reference_loop()
        print(
            f"{done} rows in {elapsed:.3f}s CPU: {done / elapsed:,.0f} rows/s "
            f"({accepted} accepted); reference empty 10M loop {reference:.3f}s CPU"
        )


def _clear_caches() -> None:
    """Start every run cold, as a fresh ingest process does."""
    import chalicelib.normalise as normalise
    import chalicelib.rules.rows as rules_rows

    for module in (normalise, rules_rows):
        for value in vars(module).values():
            clear = getattr(value, "cache_clear", None)
            if callable(clear):
                clear()


if __name__ == "__main__":
    main()
