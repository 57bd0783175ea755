"""`make bench-recognition`: how well `GET /v1/clients` recognises callers on a noisy
multi-partner portfolio, and how fast (issue 11; docs/benchmarks.md, "Recognition").

    make bench-recognition                                  # 600 persons, a few minutes
    make bench-recognition PERSONS=3000 CLIENTS=100000      # the figures: 100k clients
    python -m bench.recognition --help

1. `bench.noisy` generates the portfolio (households delivered by three partners, with noise)
   and the queries (structured and the search box `q`, each with its kind of noise).
2. A moto server in its own process (`bench.backend`) gets fresh resources. With `--clients`
   above the portfolio's size, the register is first filled up to that many clients with the
   items of generated deliveries of the demo partners (`bench.lookups.register_file`, loaded
   straight into moto: the lookup benchmark's register), so lookups run on a register of that
   size.
3. Each partner's file is uploaded to S3 as a full delivery and the REAL ingest handler runs
   on the queue's messages (`bench.ingest.drain_ingest_queue`).
4. Truth: every policy of the portfolio is opened through the API
   (`GET /v1/policies/{partner_id}/{policy_number}`), and each delivered party is matched to
   the party the API shows (birth date, role, initials): which `client_id` each delivered
   person got. Linkage precision and recall are pairwise over the delivered parties.
5. Every query goes through the app (`chalice.test.Client`, a `jsc` token) and is judged:
   recall@1, recall@5, a wrong person first (and at score 1.0), empty results, per form and
   per kind of noise; latency p50/p95 and the DynamoDB requests per lookup (budget: at most
   two Queries, one BatchGetItem, no Scan).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench.backend import PARTNERS as DEMO_PARTNERS
from bench.backend import ROOT, TABLE, bench_env, provisioned, running_backend
from bench.data import OUT
from bench.noisy import (
    CONFUSER_KINDS,
    FORMS,
    NOISE_KINDS,
    PARTNERS,
    SEED,
    Portfolio,
    Query,
    generate_portfolio,
    generate_queries,
    partner_rows,
)

DOCS = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- recognition:begin -->", "<!-- recognition:end -->"
QUERY_BUDGET = {"Query": 2, "BatchGetItem": 1, "Scan": 0}
# The lookup path before this benchmark's improvements: main when it was written (the noise-
# tolerant retrieval of issue 11 had landed; the same item layout as today).
BASELINE_REF = "e20eaf4"
Result = dict[str, Any]


def sample_queries(queries: list[Query], per_cell: int, seed: int = SEED) -> list[Query]:
    """At most `per_cell` queries of each (form, noise) cell, chosen at random (seeded): rare
    kinds of noise keep all their queries, common ones do not drown them."""
    cells: dict[tuple[str, str], list[Query]] = defaultdict(list)
    for query in queries:
        cells[(query.form, query.noise)].append(query)
    rng = random.Random(seed)
    chosen: list[Query] = []
    for cell in cells.values():
        chosen.extend(cell if len(cell) <= per_cell else rng.sample(cell, per_cell))
    return sorted(chosen, key=lambda q: q.query_id)


# --- truth: which client_id each delivered person got ------------------------------------------


@dataclass
class Linkage:
    """The client ids the API shows for the portfolio's delivered parties."""

    client_of_record: dict[tuple[str, str, str], str] = field(default_factory=dict)
    persons_of_client: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    unmatched: int = 0
    # The delivery noise of each record ("clean" for none), and the confuser of each person.
    noise_of_record: dict[tuple[str, str, str], str] = field(default_factory=dict)
    confuser_of: dict[str, str] = field(default_factory=dict)

    def by_kind(self) -> dict[str, dict[str, float]]:
        """Per kind of delivery noise of a pair of records of one person (`clean+typo`: one
        partner without noise, one with a typo): the true pairs, how many got two client ids,
        and the recall. Pairs of two persons given one client id are counted by the persons'
        confusers (`different persons: twin`), so a merge shows what it was."""
        records: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for record, client_id in self.client_of_record.items():
            records[record[2]].append((client_id, self.noise_of_record.get(record, "clean")))
        kinds: dict[str, dict[str, float]] = defaultdict(lambda: {"pairs": 0, "missed": 0})
        for person_records in records.values():
            for i, (client_a, noise_a) in enumerate(person_records):
                for client_b, noise_b in person_records[i + 1 :]:
                    figures = kinds["+".join(sorted({noise_a, noise_b}))]
                    figures["pairs"] += 1
                    figures["missed"] += client_a != client_b
        for persons in self.persons_of_client.values():
            if len(persons) > 1:
                confusers = sorted({self.confuser_of.get(p) or "none" for p in persons})
                kinds[f"different persons: {'+'.join(confusers)}"]["pairs"] += 1
        for figures in kinds.values():
            pairs = figures["pairs"]
            figures["recall"] = 1 - figures["missed"] / pairs if pairs else 1.0
        return dict(sorted(kinds.items()))

    def pairwise(self) -> dict[str, float]:
        """Pairwise precision and recall of "same client_id" against "same person", over every
        delivered party (one record per person per policy)."""

        def pairs(counts: Iterable[int]) -> int:
            return sum(n * (n - 1) // 2 for n in counts)

        by_person: Counter[str] = Counter()
        by_client: Counter[str] = Counter()
        by_both: Counter[tuple[str, str]] = Counter()
        for (_, _, person_id), client_id in self.client_of_record.items():
            by_person[person_id] += 1
            by_client[client_id] += 1
            by_both[(person_id, client_id)] += 1
        true_pairs, found_pairs, right = (
            pairs(by_person.values()),
            pairs(by_client.values()),
            pairs(by_both.values()),
        )
        split = sum(
            1 for person_id in by_person if len({c for (p, c) in by_both if p == person_id}) > 1
        )
        multi = sum(1 for n in by_person.values() if n > 1)
        return {
            "records": len(self.client_of_record),
            "persons_delivered_more_than_once": multi,
            "persons_split": split,
            "clients_with_two_persons": sum(
                1 for s in self.persons_of_client.values() if len(s) > 1
            ),
            "true_pairs": true_pairs,
            "precision": right / found_pairs if found_pairs else 1.0,
            "recall": right / true_pairs if true_pairs else 1.0,
            "by_kind": self.by_kind(),
        }


def _party_fit(delivered: Any, shown: Mapping[str, Any]) -> int:
    """How well a party the API shows fits a delivered one (-1: not the same person)."""
    person = delivered.person
    if person.gender == "R":
        return 1 if shown.get("is_legal_entity") else -1
    if shown.get("birth_date") != person.birth_date.isoformat():
        return -1
    name = shown.get("name") or {}
    fit = int(shown.get("role") == delivered.role)
    fit += int(str(name.get("initials") or "")[:1].upper() == person.initials[:1].upper())
    fit += 2 * int((name.get("first_name") or "") == person.first_name)
    return fit


def read_linkage(client: Any, headers: dict[str, str], portfolio: Portfolio) -> Linkage:
    """Open every policy of the portfolio through the API and match its parties."""
    linkage = Linkage()
    for policy in portfolio.policies:
        path = f"/v1/policies/{policy.partner_id}/{quote(policy.policy_number, safe='')}"
        response = client.http.get(path, headers=headers)
        shown = json.loads(response.body)["parties"] if response.status_code == 200 else []
        for delivered in policy.parties:
            fits: list[tuple[int, Mapping[str, Any]]] = [
                (_party_fit(delivered, s), s) for s in shown
            ]
            best = max(fits, key=lambda f: f[0], default=(-1, {}))
            record = (policy.partner_id, policy.policy_number, delivered.person.person_id)
            if best[0] < 0:
                linkage.unmatched += 1
                continue
            client_id = str(best[1]["client_id"])
            linkage.client_of_record[record] = client_id
            linkage.noise_of_record[record] = delivered.noise or "clean"
            linkage.confuser_of[delivered.person.person_id] = delivered.person.confuser
            linkage.persons_of_client[client_id].add(delivered.person.person_id)
    return linkage


# --- the queries -------------------------------------------------------------------------------


@dataclass
class Outcome:
    query: Query
    first_right: bool
    in_top5: bool
    wrong_first: bool  # someone else first, who is not a look-alike of what was said
    wrong_first_exact: bool  # ... with score 1.0
    ambiguous: bool  # someone else first who has exactly the name and birth date said
    right_first_exact: bool  # the right person first with score 1.0
    empty: bool
    status: int
    ms: float
    calls: Counter[str]


def judge(
    query: Query,
    status: int,
    candidates: list[Mapping[str, Any]],
    persons_of_client: Mapping[str, set[str]],
    ms: float,
    calls: Counter[str],
) -> Outcome:
    def right(candidate: Mapping[str, Any]) -> bool:
        return bool(persons_of_client.get(candidate["client_id"], set()) & query.accept)

    first = candidates[0] if candidates else None
    exact_first = first is not None and first["score"] >= 1.0
    other_first = first is not None and not right(first)
    ambiguous = first is not None and other_first and look_alike(query, first)
    return Outcome(
        query=query,
        first_right=first is not None and right(first),
        in_top5=any(right(c) for c in candidates[:5]),
        wrong_first=other_first and not ambiguous,
        wrong_first_exact=other_first and not ambiguous and exact_first,
        ambiguous=ambiguous,
        right_first_exact=first is not None and right(first) and exact_first,
        empty=not candidates,
        status=status,
        ms=ms,
        calls=calls,
    )


def look_alike(query: Query, candidate: Mapping[str, Any]) -> bool:
    """Whether someone else has exactly the name (surname, and the first name or initial if
    one was said) and the birth date the caller said: then the query is ambiguous (the
    register holds two people who fit it) rather than the answer wrong. Compared on the
    generator's record of what was said, folded for case and accents only, not with the
    register's matching rules."""
    from chalicelib.normalise import name_key

    surname, given = query.said_name
    name = candidate.get("name") or {}
    if not surname or name_key(str(name.get("surname") or "")) != name_key(surname):
        return False
    if query.said_birth_date and candidate.get("birth_date") != query.said_birth_date:
        return False
    if not given:
        return True
    said, first = name_key(given), name_key(str(name.get("first_name") or ""))
    initial = (first or name_key(str(name.get("initials") or "")))[:1]
    return initial == said if len(said) == 1 else first == said


def _percentile(values: list[float], q: int) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def summarise(outcomes: list[Outcome]) -> Result:
    n = len(outcomes)

    def share(flag: str) -> float:
        return sum(getattr(o, flag) for o in outcomes) / n if n else 0.0

    latencies = [o.ms for o in outcomes]
    return {
        "queries": n,
        "recall_at_1": share("first_right"),
        "recall_at_5": share("in_top5"),
        "wrong_first": share("wrong_first"),
        "wrong_first_at_1": sum(o.wrong_first_exact for o in outcomes),
        "ambiguous": sum(o.ambiguous for o in outcomes),
        "right_first_at_1": share("right_first_exact"),
        "empty": share("empty"),
        "errors": sum(o.status != 200 for o in outcomes),
        "p50_ms": _percentile(latencies, 50),
        "p95_ms": _percentile(latencies, 95),
    }


def _group(query: Query) -> str:
    if query.noise == "exact":
        return "exact"
    return "confusers" if query.noise in CONFUSER_KINDS else "noisy"


def over_budget(calls: Counter[str]) -> bool:
    return any(calls.get(op, 0) > most for op, most in QUERY_BUDGET.items())


def replay_chunk(
    tree: Path, env: Mapping[str, str], queries: list[Query], work: Path
) -> list[Result]:
    work.mkdir(parents=True, exist_ok=True)
    asked, answered = work / "queries.json", work / "answers.jsonl"
    asked.write_text(json.dumps([{"query_id": q.query_id, "params": q.params} for q in queries]))
    script = [sys.executable, "-m", "bench.replay"]
    if tree != ROOT:  # an exported older revision: the replay is copied into it
        shutil.copy(ROOT / "bench" / "replay.py", tree / "bench_replay.py")
        script = [sys.executable, "bench_replay.py"]
    completed = subprocess.run(
        [*script, "--queries", str(asked), "--answers", str(answered)],
        cwd=tree,
        env={**_child_env(), **env, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"the replay in {tree} failed:\n{completed.stderr[-4000:]}")
    return [json.loads(line) for line in answered.read_text().splitlines()]


def _child_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}


def export_revision(ref: str, out: Path) -> tuple[Path, str]:
    """The repository at `ref`, exported (git archive) into `out`: the baseline's source tree."""
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", ref],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    tree = out / f"baseline-{commit}"
    if not (tree / "app.py").exists():
        tree.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", commit], capture_output=True, check=True
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tree, filter="data")
    return tree, commit


def judge_answers(
    queries: list[Query], answers: list[Result], persons_of_client: Mapping[str, set[str]]
) -> tuple[list[Outcome], dict[str, dict[str, set[str]]], list[Result]]:
    """The outcome of every query, how each client was shown (display names and addresses,
    for "one client, one face"), and the first misses as examples."""
    faces: dict[str, dict[str, set[str]]] = {
        "names": defaultdict(set),
        "addresses": defaultdict(set),
    }
    misses: list[Result] = []
    outcomes: list[Outcome] = []
    by_id = {q.query_id: q for q in queries}
    for answer in answers:
        query = by_id[answer["query_id"]]
        candidates = answer["candidates"]
        outcome = judge(
            query,
            answer["status"],
            candidates,
            persons_of_client,
            answer["ms"],
            Counter(answer["calls"]),
        )
        outcomes.append(outcome)
        for candidate in candidates[:5]:
            faces["names"][candidate["client_id"]].add(candidate["display"])
            faces["addresses"][candidate["client_id"]].add(candidate["address"])
        if not outcome.first_right and len(misses) < 400:
            misses.append(
                {
                    "form": query.form,
                    "noise": query.noise,
                    "params": query.params,
                    "status": answer["status"],
                    "first": candidates[0] if candidates else answer["said"],
                    "right": next(
                        (
                            rank
                            for rank, c in enumerate(candidates, start=1)
                            if persons_of_client.get(c["client_id"], set()) & query.accept
                        ),
                        None,
                    ),
                }
            )
    return outcomes, faces, misses


def evaluate(outcomes: list[Outcome], faces: Mapping[str, Mapping[str, set[str]]]) -> Result:
    by_group: dict[str, list[Outcome]] = defaultdict(list)
    by_form: dict[str, list[Outcome]] = defaultdict(list)
    by_noise: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_group[_group(outcome.query)].append(outcome)
        by_form[outcome.query.form].append(outcome)
        by_noise[outcome.query.noise].append(outcome)
    worst: Counter[str] = Counter()
    for outcome in outcomes:
        for op, n in outcome.calls.items():
            worst[op] = max(worst[op], n)
    exact_p95 = summarise(by_group["exact"])["p95_ms"] if by_group["exact"] else 0.0
    noisy = [o for o in outcomes if o.query.noise != "exact"]
    return {
        "groups": {g: summarise(by_group[g]) for g in ("exact", "noisy", "confusers")},
        "forms": {f: summarise(by_form[f]) for f in FORMS if by_form[f]},
        "noise": {k: summarise(by_noise[k]) for k in NOISE_KINDS if by_noise[k]},
        "latency": {
            "all": summarise(outcomes),
            "noisy_p95_vs_exact_p95": (
                summarise(noisy)["p95_ms"] / exact_p95 if exact_p95 and noisy else None
            ),
        },
        "calls": {
            "most_per_lookup": dict(worst),
            "over_budget": sum(over_budget(o.calls) for o in outcomes),
        },
        "faces": {
            "clients_shown": len(faces["names"]),
            "names_shown_more_than_one_way": sum(1 for f in faces["names"].values() if len(f) > 1),
            "addresses_shown_more_than_one_way": sum(
                1 for f in faces["addresses"].values() if len(f) > 1
            ),
            "examples": [sorted(f) for f in faces["names"].values() if len(f) > 1][:30],
        },
    }


# --- the run ------------------------------------------------------------------------------------


def _write_files(portfolio: Portfolio, out: Path) -> dict[str, Path]:
    from scripts.demo_data import write_csv

    out.mkdir(parents=True, exist_ok=True)
    files = {}
    for partner_id in PARTNERS:
        path = out / f"noisy-{partner_id}.csv"
        write_csv(path, partner_rows(portfolio, partner_id))
        files[partner_id] = path
    return files


def _reports(env: Mapping[str, str]) -> list[Result]:
    import boto3

    s3 = boto3.client("s3", region_name=env["AWS_DEFAULT_REGION"])
    listing = s3.list_objects_v2(Bucket=env["BUCKET_NAME"], Prefix="reports/")
    reports = []
    for entry in listing.get("Contents", []):
        if entry["Key"].endswith(".json"):
            body = s3.get_object(Bucket=env["BUCKET_NAME"], Key=entry["Key"])["Body"].read()
            report = json.loads(body)
            reports.append(
                {
                    "partner_id": report.get("partner_id"),
                    "status": report.get("status"),
                    "rows_accepted": report.get("rows_accepted"),
                    "rows_rejected": report.get("rows_rejected"),
                }
            )
    return reports


def run(args: argparse.Namespace) -> Result:
    from bench.backend import Backend
    from bench.ingest import drain_ingest_queue
    from bench.lookups import register_file, settings_for
    from bench.run import machine, upload

    out = Path(args.out).resolve()  # the replay children run in other directories
    print(f"portfolio of {args.persons} persons ...", file=sys.stderr, flush=True)
    portfolio = generate_portfolio(args.persons, seed=args.seed)
    queries = sample_queries(generate_queries(portfolio, seed=args.seed), args.per_cell, args.seed)
    files = _write_files(portfolio, out)
    baseline = export_revision(args.baseline, out) if args.baseline else None
    with running_backend() as backend:
        backend_: Backend = backend
        resources = provisioned(backend_)
        env = {
            **bench_env(backend_.endpoint_url, resources),
            "PARTNERS": ",".join((*DEMO_PARTNERS.split(","), *PARTNERS)),
        }
        with settings_for(env):
            import boto3
            from chalice.test import Client

            from app import app
            from chalicelib.auth import issue_token

            print("real ingest of the partners' files ...", file=sys.stderr, flush=True)
            for partner_id, path in files.items():
                upload(backend_, env, path, partner_id)
            sqs = boto3.client("sqs", region_name=env["AWS_DEFAULT_REGION"])
            started = time.perf_counter()
            invocations = drain_ingest_queue(app, sqs, env["INGEST_QUEUE_URL"])
            ingest_seconds = time.perf_counter() - started
            reports = _reports(env)
            # The filler after the ingest: moto answers a query on an index by walking the
            # whole table, which the ingest's reads of its partner's active policies would do
            # 100k clients deep. Lookups read table partitions and are not affected.
            filler = max(0, args.clients - len(portfolio.persons))
            items = 0
            if filler:
                print(f"register of {filler} more clients ...", file=sys.stderr, flush=True)
                path, _ = register_file(filler, env["CLIENT_ID_KEY"], out)
                items = backend_.load_items(path, TABLE)
            headers = {"Authorization": f"Bearer {issue_token('jsc')}"}
            with Client(app, project_dir=str(out)) as client:
                print("truth: every policy through the API ...", file=sys.stderr, flush=True)
                linkage = read_linkage(client, headers, portfolio)
        # The queries, in alternating chunks through this tree and the baseline's, each in its
        # own process: load on the shared machine drifts, and both see the same drift.
        answers: dict[str, list[Result]] = {"current": [], "baseline": []}
        size = max(1, -(-len(queries) // args.chunks))
        for number, start in enumerate(range(0, len(queries), size), start=1):
            chunk = queries[start : start + size]
            print(f"queries, part {number} of {args.chunks} ...", file=sys.stderr, flush=True)
            if baseline is not None:
                answers["baseline"] += replay_chunk(baseline[0], env, chunk, out / "baseline-run")
            answers["current"] += replay_chunk(ROOT, env, chunk, out / "current-run")
    results: Result = {}
    for name, given in answers.items():
        if given:
            outcomes, faces, misses = judge_answers(queries, given, linkage.persons_of_client)
            results[name] = {**evaluate(outcomes, faces), "misses": misses}
    results["linkage"] = {**linkage.pairwise(), "unmatched_records": linkage.unmatched}
    results["setup"] = {
        "persons": len(portfolio.persons),
        "policies": len(portfolio.policies),
        "delivered_parties": sum(len(p.parties) for p in portfolio.policies),
        "partners": list(PARTNERS),
        "filler_clients": filler,
        "filler_items": items,
        "clients": len(portfolio.persons) + filler,
        "queries_per_cell_at_most": args.per_cell,
        "ingest_seconds": ingest_seconds,
        "ingest_invocations": invocations,
        "reports": reports,
        "seed": args.seed,
        "baseline": baseline[1] if baseline else None,
        "current": _revision(),
    }
    results["machine"] = machine()
    results["date"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return results


def _revision() -> str:
    """This tree's commit, marked when the working tree has changes."""
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return f"{commit} with changes" if dirty else commit


# --- the report ---------------------------------------------------------------------------------


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _row(label: str, s: Result, before: Result | None = None) -> str:
    was = f" | {before['recall_at_1']:.3f}" if before else (" | –" if before is not None else "")
    return (
        f"| {label} | {s['queries']:,}{was} | {s['recall_at_1']:.3f} | {s['recall_at_5']:.3f} "
        f"| {_pct(s['wrong_first'])} | {s['wrong_first_at_1']} | {s.get('ambiguous', 0)} "
        f"| {_pct(s['empty'])} "
        f"| {_pct(s['right_first_at_1'])} | {s['p50_ms']:.0f} / {s['p95_ms']:.0f} |"
    )


def _header(what: str, with_before: bool) -> str:
    before = " recall@1 before |" if with_before else ""
    return (
        f"| {what} | queries |{before} recall@1 | recall@5 | wrong first | wrong first at 1.0 "
        "| ambiguous | empty | right first at 1.0 | p50 / p95 ms |\n"
        + "|---" * (10 + with_before)
        + "|"
    )


def _table(what: str, current: Result, baseline: Result | None, key: str) -> list[str]:
    lines = [_header(what, baseline is not None)]
    for label, summary in current[key].items():
        if not summary["queries"]:
            continue
        before = None if baseline is None else baseline[key].get(label, {})
        lines.append(_row(f"**{label}**" if key == "groups" else label, summary, before))
    return lines


def _latency_and_calls(name: str, figures: Result) -> list[str]:
    latency, calls, faces = figures["latency"], figures["calls"], figures["faces"]
    ratio = latency["noisy_p95_vs_exact_p95"]
    return [
        f"- {name}: all {latency['all']['queries']:,} lookups p50 "
        f"{latency['all']['p50_ms']:.1f} ms, p95 {latency['all']['p95_ms']:.1f} ms"
        + (f" (p95 of the noisy ones / p95 of the exact ones: {ratio:.2f})" if ratio else "")
        + "; DynamoDB requests per lookup at most "
        + ", ".join(f"{op} {n}" for op, n in sorted(calls["most_per_lookup"].items()))
        + f", lookups over the budget: **{calls['over_budget']}**; clients shown with more "
        f"than one name: {faces['names_shown_more_than_one_way']} of {faces['clients_shown']:,}, "
        f"with more than one address: {faces['addresses_shown_more_than_one_way']}.",
    ]


def _linkage_table(link: Result) -> list[str]:
    """Linkage per kind of delivery noise of the two records of a pair."""
    lines = [
        "| linkage: delivery noise of the pair | true pairs | split | recall |",
        "|---|---|---|---|",
    ]
    for kind, figures in link.get("by_kind", {}).items():
        if kind.startswith("different persons"):
            lines.append(f"| {kind} (one client id) | – | {figures['pairs']} merged | – |")
        else:
            lines.append(
                f"| {kind} | {figures['pairs']:,} | {figures['missed']} | {figures['recall']:.3f} |"
            )
    return lines


def render(results: Result) -> str:
    setup, link = results["setup"], results["linkage"]
    current, baseline = results["current"], results.get("baseline")
    deliveries = ", ".join(
        f"{r['partner_id']} {r['status']} ({r['rows_accepted']} rows)"
        for r in sorted(setup["reports"], key=lambda r: str(r["partner_id"]))
    )
    lines = [
        f"Measured {results['date']} on {results['machine']}; this tree: {setup['current']}"
        + (f", baseline: {setup['baseline']}" if setup["baseline"] else "")
        + ".",
        "",
        f"Register: {setup['clients']:,} clients: {setup['persons']:,} persons of the noisy "
        f"portfolio through the real ingest ({setup['policies']:,} policies, "
        f"{setup['delivered_parties']:,} delivered parties, {len(setup['partners'])} partners, "
        f"{setup['ingest_seconds']:.0f} s; deliveries: {deliveries}) and "
        f"{setup['filler_clients']:,} generated clients loaded directly "
        f"({setup['filler_items']:,} items).",
        "",
        *_table("queries", current, baseline, "groups"),
        "",
        *_table("form", current, baseline, "forms"),
        "",
        *_table("kind of noise", current, baseline, "noise"),
        "",
        f"- Linkage over {link['records']:,} delivered parties "
        f"({link['persons_delivered_more_than_once']:,} persons delivered more than once): "
        f"pairwise precision **{link['precision']:.4f}**, recall **{link['recall']:.4f}**; "
        f"{link['persons_split']} persons split over two or more client ids, "
        f"{link['clients_with_two_persons']} client ids holding two or more persons, "
        f"{link['unmatched_records']} delivered parties not found in their policy.",
        "",
        *_linkage_table(link),
        "",
        *_latency_and_calls("This tree", current),
    ]
    if baseline:
        lines += _latency_and_calls(f"Baseline ({setup['baseline']})", baseline)
        ratio = current["latency"]["all"]["p95_ms"] / baseline["latency"]["all"]["p95_ms"]
        lines.append(f"- p95 of this tree / p95 of the baseline, same run: **{ratio:.2f}**.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--persons",
        type=int,
        default=int(os.environ.get("PERSONS", "600")),
        help="persons in the noisy portfolio, delivered through the real ingest (env PERSONS)",
    )
    parser.add_argument(
        "--clients",
        type=int,
        default=int(os.environ.get("CLIENTS", "0")),
        help="clients in the register: the portfolio's persons plus a register of generated "
        "clients loaded directly (env CLIENTS; e.g. 100000; 0: the portfolio alone)",
    )
    parser.add_argument(
        "--per-cell",
        type=int,
        default=int(os.environ.get("PER_CELL", "60")),
        help="at most this many queries of each form and kind of noise (env PER_CELL)",
    )
    parser.add_argument(
        "--baseline",
        default=os.environ.get("BASELINE", BASELINE_REF),
        help="the git revision whose lookup path answers the same queries in the same run "
        "(env BASELINE; empty: none)",
    )
    parser.add_argument(
        "--chunks",
        type=int,
        default=4,
        help="the queries are asked in this many parts, alternating baseline and this tree",
    )
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--update-docs", action="store_true", help="rewrite docs/benchmarks.md")
    args = parser.parse_args(argv)
    from bench.run import publish

    results = run(args)
    text = render(results)
    print(text)
    docs = DOCS if args.update_docs else None
    publish(results, text, Path(args.out), "recognition", docs=docs, markers=(BEGIN, END))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
