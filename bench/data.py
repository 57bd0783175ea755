"""Deterministic benchmark inputs: portfolio files of a given number of rows, and the items a
file's valid rows become.

Files go to `bench/out/` (gitignored) as `portfolio-<rows>.csv`, next to a `.json` sidecar with
their row count, size and sha256; a file whose sidecar still matches is not generated again.
The rows come from `scripts.demo_data.generate_rows` (seed `BENCH_SEED`, no deliberate bad
rows: the benchmark measures the happy path), cut at exactly `rows` rows.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

from chalicelib.models.portfolio import ValidRow
from chalicelib.rules.rows import map_header, validate_row
from chalicelib.services.reader import RawRow, open_rows
from chalicelib.store.register_items import policy_items
from scripts.demo_data import generate_rows, write_csv

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
BENCH_SEED = 6_000_006
BENCH_PARTNER = "demo-volmacht"
GENERATOR_VERSION = 1  # bump when the generator's output changes on purpose
# The validation day the benchmark uses (birth dates in the generated files lie before it).
TODAY = date(2025, 6, 1)

SIZE_LABELS = {"10k": 10_000, "100k": 100_000, "1M": 1_000_000}


def parse_sizes(text: str) -> list[str]:
    """`"10k,100k"` -> `["10k", "100k"]`; also plain numbers (`"2000"`)."""
    labels = [part.strip() for part in text.split(",") if part.strip()]
    for label in labels:
        rows_for(label)
    return labels


def rows_for(label: str) -> int:
    if label in SIZE_LABELS:
        return SIZE_LABELS[label]
    if label.isdigit() and int(label) > 0:
        return int(label)
    raise ValueError(f"unknown size {label!r}: use {', '.join(SIZE_LABELS)} or a row count")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def bench_rows(rows: int, *, partner_id: str = BENCH_PARTNER) -> Iterator[dict[str, str]]:
    """Exactly `rows` generated rows (the last policy may lose some of its co-insured)."""
    return itertools.islice(
        generate_rows(rows, seed=BENCH_SEED, partner_id=partner_id, bad_rows=False), rows
    )


def portfolio_file(rows: int, out: Path = OUT) -> Path:
    """The benchmark file of `rows` rows, generated unless an identical one is there."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"portfolio-{rows}.csv"
    sidecar = path.with_suffix(".json")
    wanted = {"rows": rows, "seed": BENCH_SEED, "generator": GENERATOR_VERSION}
    if path.exists() and sidecar.exists():
        known = json.loads(sidecar.read_text())
        if (
            {k: known.get(k) for k in wanted} == wanted
            and known.get("bytes") == path.stat().st_size
            and known.get("sha256") == _sha256(path)
        ):
            return path
    write_csv(path, bench_rows(rows))
    sidecar.write_text(
        json.dumps({**wanted, "bytes": path.stat().st_size, "sha256": _sha256(path)}, indent=2)
    )
    return path


def by_policy(rows: Iterable[ValidRow]) -> Iterator[list[ValidRow]]:
    """Consecutive valid rows grouped per policy, as the ingest groups them."""
    group: list[ValidRow] = []
    for row in rows:
        if group and row.policy.policy_number != group[0].policy.policy_number:
            yield group
            group = []
        group.append(row)
    if group:
        yield group


def valid_policies(path: Path, *, limit_rows: int | None = None) -> Iterator[list[ValidRow]]:
    """The file's valid rows grouped per policy, as the ingest groups them."""
    with path.open("rb") as handle:
        reader = open_rows(handle, filename=path.name)
        header = map_header(list(reader.format.labels), "full")

        def valid_rows() -> Iterator[ValidRow]:
            for item in itertools.islice(reader, limit_rows):
                if isinstance(item, RawRow):
                    row = validate_row(
                        item.values, header, kind="full", line=item.line, today=TODAY
                    ).row
                    if row is not None:
                        yield row

        yield from by_policy(valid_rows())


def items_of(
    policies: Iterator[list[ValidRow]], *, partner_id: str, client_id_key: str
) -> Iterator[dict[str, Any]]:
    """The items the ingest writes for these policies (a first delivery: every policy new)."""
    seq = "20250601T000000.000000#00000000000000000000000000000001"
    for rows in policies:
        yield from policy_items(
            partner_id,
            rows,
            seq=seq,
            delivery_id="bench",
            delivered_at="2025-06-01T00:00:00+00:00",
            expires_at=2_000_000_000,
            client_id_key=client_id_key,
        )
