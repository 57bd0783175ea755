"""Lookup benchmark: `GET /v1/clients` per query form and `POST /v1/coverage-checks` on a
register of N clients, through the real app (chalice.test.Client) over the benchmark's moto
server. Per form: p50/p95 latency and the DynamoDB requests each request made (botocore
`before-call` hooks on the app's clients).

The register is the items `policy_items` builds from generated deliveries of the three demo
partners (clients are shared between partners, as in `scripts.demo_data`), cached in
`bench/out/register-<clients>.jsonl` (DynamoDB JSON) and loaded straight into the moto server
(`Backend.load_items`): seeding 100k clients over HTTP would take longer than the benchmark.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.backend import TABLE, Backend, bench_env, provisioned
from bench.data import BENCH_SEED, GENERATOR_VERSION, TODAY, by_policy

PARTNERS = ("demo-volmacht", "demo-verzekeraar", "demo-intermediair")
POLICIES_PER_PARTNER = 80_000
Sample = dict[str, str]


def _validated_policies(partner_id: str, policies: int) -> Iterator[list[Any]]:
    """Generated policies of one partner, validated and grouped (the ingest's rows)."""
    from chalicelib.rules.rows import map_header, validate_row
    from scripts.demo_data import COLUMNS, generate_rows

    header = map_header(list(COLUMNS), "full")

    def valid_rows() -> Iterator[Any]:
        rows = generate_rows(policies, seed=BENCH_SEED, partner_id=partner_id, bad_rows=False)
        for line, row in enumerate(rows, start=2):
            values = [row[c] for c in COLUMNS]
            valid = validate_row(values, header, kind="full", line=line, today=TODAY).row
            if valid is not None:
                yield valid

    yield from by_policy(valid_rows())


def _sample(partner_id: str, row: Any) -> Sample:
    party, policy = row.party, row.policy
    sample = {
        "partner_id": partner_id,
        "policy_number": policy.policy_number,
        "postcode": party.postcode or "",
        "house_number": party.house_number,
        "birth_date": party.birth_date or "",
        "name": f"{party.tussenvoegsels or ''} {party.surname}".strip(),
        "phone": party.mobile or party.phone or "",
        "email": party.email or "",
        "kvk": party.kvk or "",
        "start_date": policy.start_date,
    }
    return sample


def register_file(clients: int, client_id_key: str, out: Path) -> tuple[Path, dict[str, Any]]:
    """The register's items (cached) and a description with query samples."""
    from boto3.dynamodb.types import TypeSerializer

    from bench.data import items_of

    out.mkdir(parents=True, exist_ok=True)
    path = out / f"register-{clients}.jsonl"
    sidecar = path.with_suffix(".json")
    wanted = {"clients": clients, "seed": BENCH_SEED, "generator": GENERATOR_VERSION}
    if path.exists() and sidecar.exists():
        known = json.loads(sidecar.read_text())
        if {k: known.get(k) for k in wanted} == wanted and known.get("key") == client_id_key:
            return path, known
    serialise = TypeSerializer().serialize
    rng = random.Random(BENCH_SEED)
    seen: set[str] = set()
    samples: list[Sample] = []
    items = 0
    with path.open("w", encoding="utf-8") as handle:
        for partner_id in PARTNERS:
            for rows in _validated_policies(partner_id, POLICIES_PER_PARTNER):
                for item in items_of(
                    iter([rows]), partner_id=partner_id, client_id_key=client_id_key
                ):
                    if item["type"] == "party":
                        seen.add(item["client_id"])
                    handle.write(
                        json.dumps({k: serialise(v) for k, v in item.items()}, default=str)
                    )
                    handle.write("\n")
                    items += 1
                if rng.random() < 0.05 or len(samples) < 20:
                    samples.append(_sample(partner_id, rng.choice(rows)))
                if len(seen) >= clients:
                    break
            if len(seen) >= clients:
                break
    known = {**wanted, "key": client_id_key, "items": items, "samples": samples}
    sidecar.write_text(json.dumps(known))
    return path, known


# Each form: (name, request builder from a sample, whether the sample can be used).
def _forms() -> list[tuple[str, Callable[[Sample], dict[str, str]], Callable[[Sample], bool]]]:
    def has(*fields: str) -> Callable[[Sample], bool]:
        return lambda s: all(s[f] for f in fields)

    def pick(*fields: str) -> Callable[[Sample], dict[str, str]]:
        return lambda s: {f: s[f] for f in fields}

    return [
        ("policy_number", pick("policy_number"), has("policy_number")),
        (
            "policy_number + partner_id",
            pick("policy_number", "partner_id"),
            has("policy_number"),
        ),
        ("postcode + house_number", pick("postcode", "house_number"), has("postcode")),
        (
            "postcode + house_number + birth_date + name",
            pick("postcode", "house_number", "birth_date", "name"),
            has("postcode", "birth_date"),
        ),
        ("name + birth_date", pick("name", "birth_date"), has("birth_date")),
        ("phone", pick("phone"), has("phone")),
        ("email", pick("email"), has("email")),
        ("kvk", pick("kvk"), has("kvk")),
    ]


def _percentile(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


@contextmanager
def settings_for(env: dict[str, str]) -> Iterator[None]:
    """This process's settings and AWS clients pointed at the backend, restored afterwards."""
    from chalicelib.config import reset_settings
    from chalicelib.store import aws

    saved = dict(os.environ)
    os.environ.update(env)
    reset_settings()
    aws.reset_clients()
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        reset_settings()
        aws.reset_clients()


def measure_lookups(backend: Backend, clients: int, samples: int, out: Path) -> dict[str, Any]:
    """Seed the register and time every query form through the app."""
    resources = provisioned(backend)
    env = bench_env(backend.endpoint_url, resources)
    with settings_for(env):
        return _measure_lookups(backend, env, clients, samples, out)


def _measure_lookups(
    backend: Backend, env: dict[str, str], clients: int, samples: int, out: Path
) -> dict[str, Any]:
    from urllib.parse import urlencode

    from chalice.test import Client

    from app import app
    from chalicelib.auth import issue_token
    from chalicelib.store import aws

    path, known = register_file(clients, env["CLIENT_ID_KEY"], out)
    backend.load_items(path, TABLE)

    operations: list[str] = []
    # Every DynamoDB client of the store: the resources' and the bulk clients (batch reads),
    # the workers' and the API requests' (bounded).
    for client in aws.every_client("dynamodb"):
        client.meta.events.register(
            "before-call.dynamodb", lambda model, **_: operations.append(model.name)
        )
    headers = {"Authorization": f"Bearer {issue_token('jsc')}"}
    rng = random.Random(BENCH_SEED)
    pool: list[Sample] = known["samples"]
    forms: list[dict[str, Any]] = []
    with Client(app, project_dir=str(out)) as client:

        def timed(call: Callable[[], Any]) -> tuple[float, Counter[str]]:
            operations.clear()
            start = time.perf_counter()
            response = call()
            elapsed = time.perf_counter() - start
            if response.status_code != 200:
                raise RuntimeError(f"{response.status_code}: {response.body[:300]!r}")
            return elapsed, Counter(operations)

        def measure(
            name: str, call_for: Callable[[Sample], Callable[[], Any]], usable: Any
        ) -> None:
            candidates = [s for s in pool if usable(s)]
            if not candidates:
                return
            chosen = [rng.choice(candidates) for _ in range(samples)]
            for s in chosen[:5]:  # warm-up
                timed(call_for(s))
            latencies: list[float] = []
            reads: Counter[str] = Counter()
            worst: dict[str, int] = {}
            other: Counter[str] = Counter()
            for s in chosen:
                elapsed, ops = timed(call_for(s))
                latencies.append(elapsed * 1000)
                for op, n in ops.items():
                    if op == "PutItem":
                        other[op] += n
                    else:
                        reads[op] += n
                        worst[op] = max(worst.get(op, 0), n)
            forms.append(
                {
                    "form": name,
                    "p50_ms": _percentile(latencies, 50),
                    "p95_ms": _percentile(latencies, 95),
                    "reads": ", ".join(f"{op} ≤{worst[op]}" for op in sorted(worst)) or "none",
                    "other": ", ".join(
                        f"{op} {n / len(chosen):.0f} (audit)" for op, n in sorted(other.items())
                    )
                    or "none",
                }
            )

        def lookup(build: Callable[[Sample], dict[str, str]]) -> Callable[[Sample], Any]:
            def call_for(s: Sample) -> Callable[[], Any]:
                path = f"/v1/clients?{urlencode(build(s))}"
                return lambda: client.http.get(path, headers=headers)

            return call_for

        for name, build, usable in _forms():
            measure(f"GET /v1/clients?{name}", lookup(build), usable)

        def coverage(s: Sample) -> Callable[[], Any]:
            body = {
                "partner_id": s["partner_id"],
                "policy_number": s["policy_number"],
                "event_date": "2025-05-01",
                "reported_date": "2025-05-15",
                "legal_area": "verkeer",
                "claim_amount_eur": 500,
            }
            return lambda: client.http.post(
                "/v1/coverage-checks",
                headers={**headers, "Content-Type": "application/json"},
                body=json.dumps(body),
            )

        measure("POST /v1/coverage-checks", coverage, lambda s: True)
    return {
        "clients": clients,
        "items": known["items"],
        "samples": samples,
        "forms": forms,
    }
