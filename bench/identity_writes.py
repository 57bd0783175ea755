"""`make bench-identity`: what identity resolution writes per new row when the register is full
(issue 14's write units per new row; docs/benchmarks.md, "Identity writes at register density").

A small register shows nothing: its identity buckets hold a trace or two. This benchmark puts the
buckets a delivery touches at the density of a register of `--clients` clients (persons spread
over `--birth-dates` birth dates, each kept by `--partners-per-client` partners on average),
filled with made-up clients of other surnames (so none is the delivered person), and then
resolves a first delivery of the noisy portfolio (`bench.noisy`, every row new) through the real
`IdentityResolver`, in batches of 100 policies as the ingest does. Every item the resolver writes
is sized by DynamoDB's rules (`bench.backend.write_units`, twice in a TransactWriteItems), and
every bucket it reads counts read units (consistent: 1 per 4 KB).

    make bench-identity                       # 1M clients, 36,500 birth dates
    python -m bench.identity_writes --help
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from boto3.dynamodb.types import TypeSerializer

from bench.backend import attribute_size, write_units
from bench.noisy import FIRST_M, FIRST_V, PARTNERS, SEED, generate_portfolio, partner_rows
from chalicelib.rules.identity import Bucket, Trace, bucket_keys
from chalicelib.store.identity import (
    Join,
    bucket_from_item,
    bucket_item,
    join_items,
)
from chalicelib.store.table import Item

# Surnames of the made-up clients: none is a surname of the noisy portfolio, so none is taken
# for a delivered person (the rows stay new).
OTHER_SURNAMES = (
    "Vermeer", "Dijkman", "Groen", "Hermans", "Scholten", "Roos", "Kuiper", "Boer", "Smits",
    "Veenstra", "Schouten", "Stam", "Zwart", "Bosman", "Evers", "Meulenbelt", "Haverkamp",
    "Oosterhuis", "Wijnands", "Terpstra",
)  # fmt: skip
_SERIALIZE = TypeSerializer().serialize


def dynamo_json(item: Item) -> dict[str, Any]:
    return {name: _SERIALIZE(value) for name, value in item.items()}


def item_bytes(item: Item) -> int:
    """DynamoDB's size of an item (names and values, `bench.backend.attribute_size`)."""
    return sum(
        len(name.encode()) + attribute_size(value) for name, value in dynamo_json(item).items()
    )


def read_units(item: Item) -> int:
    """Consistent read units of reading `item`: 1 per 4 KB."""
    return max(1, math.ceil(item_bytes(item) / 4096))


@dataclass
class MeteredBuckets:
    """An identity store in memory (the DynamoDB adapter's item builders) that sizes what is
    read and written."""

    items: dict[str, Item] = field(default_factory=dict)
    written_units: int = 0
    written_items: int = 0
    read_units: int = 0
    bucket_sizes: list[int] = field(default_factory=list)

    def buckets(self, keys: Sequence[str]) -> dict[str, Bucket]:
        found = {}
        for key in dict.fromkeys(keys):
            item = self.items.get(key)
            # A key without an item costs a consistent read's minimum, 1 unit, all the same.
            self.read_units += 1 if item is None else read_units(item)
            if item is not None:
                found[key] = bucket_from_item(key, item)
        return found

    def parties_of(self, partner_id: str, numbers: Sequence[str]) -> dict[str, list[Item]]:
        return {}

    def save(self, buckets: Sequence[Bucket], joins: Sequence[Join]) -> bool:
        for bucket in buckets:
            stored = self.items.get(bucket.key)
            if (int(stored["version"]) if stored else 0) != bucket.version:
                return False
        for bucket in buckets:
            item = bucket_item(bucket)
            self.items[bucket.key] = item
            self._written(item)
        for join in joins:
            for item in join_items(join):
                self._written(item)
        return True

    def _written(self, item: Item) -> None:
        """As `DynamoIdentities.save` writes it: buckets and joins in TransactWriteItems,
        which cost twice the units of their items."""
        self.written_units += 2 * write_units(dynamo_json(item))
        self.written_items += 1
        self.bucket_sizes.append(item_bytes(item))


def filler_trace(rng: random.Random, birth_date: str, number: int, expires_at: int) -> Trace:
    gender = rng.random() < 0.5
    first = rng.choice(FIRST_M if gender else FIRST_V)
    return Trace(
        client_id=f"c_{rng.getrandbits(96):024x}",
        legal=False,
        surname=rng.choice(OTHER_SURNAMES),
        tussenvoegsels=rng.choice((None, None, None, "van", "de", "van der")),
        first_name=first.lower() if rng.random() < 0.75 else "",
        initials=first[0].lower(),
        birth_date=birth_date,
        postcode=f"{rng.randint(1000, 9999)}AB",
        house_number=str(rng.randint(1, 400)),
        contacts=frozenset({f"+316{rng.randint(10_000_000, 99_999_999)}", f"x{number}@ziggo.nl"}),
        partner_id=rng.choice(PARTNERS),
        since=f"2025-{rng.randint(1, 12):02d}-01T00:00:00.000000Z#{number:08d}"[:32],
        expires_at=expires_at,
    )


def prefill(
    store: MeteredBuckets,
    birth_dates: set[str],
    *,
    per_birth_date: float,
    seed: int,
    expires_at: int,
) -> int:
    """Put made-up clients into the buckets of `birth_dates`, as many as a birth date holds at
    the register's density (Poisson), each kept in the buckets its trace belongs to."""
    rng = random.Random(seed)
    count = 0
    for birth_date in sorted(birth_dates):
        lam, k, p = per_birth_date, 0, 1.0
        limit = math.exp(-lam)
        while True:  # Knuth's Poisson draw
            p *= rng.random()
            if p <= limit:
                break
            k += 1
        for _ in range(k):
            count += 1
            trace = filler_trace(rng, birth_date, count, expires_at)
            for key in bucket_keys(trace):
                bucket = store.items.get(key)
                held = bucket_from_item(key, bucket) if bucket else Bucket(key)
                held.keep(trace)
                store.items[key] = bucket_item(held)
    return count


def run(args: argparse.Namespace) -> dict[str, Any]:
    from chalicelib.rules.rows import map_header, validate_row
    from chalicelib.services.identity import IdentityResolver, PolicyParties
    from scripts.demo_data import COLUMNS

    portfolio = generate_portfolio(args.persons, seed=args.seed)
    header = map_header(list(COLUMNS), "full")
    today = date(2025, 6, 1)
    expires_at = 1_900_000_000
    store = MeteredBuckets()
    traces_per_birth_date = args.clients * args.partners_per_client / args.birth_dates
    policies: dict[str, list[PolicyParties]] = {}
    birth_dates: set[str] = set()
    rows = 0
    for partner_id in PARTNERS:
        grouped: dict[str, list[Any]] = {}
        for line, values in enumerate(partner_rows(portfolio, partner_id, seed=args.seed), 2):
            outcome = validate_row(
                [values[c] for c in COLUMNS], header, kind="full", line=line, today=today
            )
            assert outcome.row is not None
            grouped.setdefault(outcome.row.policy.policy_number, []).append(outcome.row.party)
            if outcome.row.party.birth_date:
                birth_dates.add(outcome.row.party.birth_date)
            rows += 1
        policies[partner_id] = [PolicyParties(n, p, None) for n, p in grouped.items()]
    filler = prefill(
        store,
        birth_dates,
        per_birth_date=traces_per_birth_date,
        seed=args.seed,
        expires_at=expires_at,
    )
    before_sizes = [item_bytes(i) for i in store.items.values()]
    store.read_units = 0
    resolver = IdentityResolver(store, key="bench-identity-key")  # type: ignore[arg-type]
    for partner_id, partner_policies in policies.items():
        for start in range(0, len(partner_policies), args.batch):
            resolver.resolve(
                partner_id,
                partner_policies[start : start + args.batch],
                seq=f"2026-01-01T00:00:00.000000Z#{partner_id}",
                expires_at=expires_at,
                now=1_800_000_000,
            )
    sizes = sorted(store.bucket_sizes)
    return {
        "clients": args.clients,
        "birth_dates": args.birth_dates,
        "partners_per_client": args.partners_per_client,
        "traces_per_birth_date": round(traces_per_birth_date, 1),
        "filler_traces": filler,
        "buckets_before": len(before_sizes),
        "bucket_bytes_before_mean": round(sum(before_sizes) / max(1, len(before_sizes))),
        "new_rows": rows,
        "items_written": store.written_items,
        "write_units": store.written_units,
        "write_units_per_new_row": round(store.written_units / rows, 2),
        "read_units_per_new_row": round(store.read_units / rows, 2),
        "written_bytes_p50": sizes[len(sizes) // 2] if sizes else 0,
        "written_bytes_p95": sizes[int(len(sizes) * 0.95)] if sizes else 0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1_000_000)
    parser.add_argument("--birth-dates", type=int, default=36_500)
    parser.add_argument("--partners-per-client", type=float, default=1.5)
    parser.add_argument("--persons", type=int, default=3000, help="the noisy portfolio's size")
    parser.add_argument("--batch", type=int, default=100, help="policies per resolution")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    results = run(args)
    json.dump(results, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
