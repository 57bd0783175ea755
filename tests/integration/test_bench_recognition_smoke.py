"""A tiny run of `make bench-recognition` (bench/recognition.py), so its code paths cannot rot:
the noisy portfolio through the real ingest, the truth read through the policy route, every
query through the app, and the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.bench import PREVIOUS, isolated_bench

pytestmark = pytest.mark.integration


def test_a_tiny_recognition_bench_judges_every_query_and_writes_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a clean environment (the bench starts its own AWS backend) and a tiny portfolio
    from bench import recognition as bench

    docs = isolated_bench(bench, tmp_path, monkeypatch)

    # when: the benchmark runs on 40 persons and a register filled up to 60 clients, with the
    # committed tree (HEAD, exported) as the baseline
    code = bench.main(
        ["--persons", "40", "--clients", "60", "--per-cell", "2", "--out", str(tmp_path),
         "--baseline", "HEAD", "--chunks", "1", "--update-docs"]
    )  # fmt: skip

    # then: every delivery was accepted, every delivered party was found through the policy
    # route, every query was answered within the call budget, and the report was written
    assert code == 0
    results = json.loads((tmp_path / "recognition.json").read_text())
    setup = results["setup"]
    assert {r["status"] for r in setup["reports"]} == {"accepted"}
    assert setup["filler_clients"] > 0
    assert results["linkage"]["records"] == setup["delivered_parties"]
    assert results["linkage"]["unmatched_records"] == 0
    for tree in ("current", "baseline"):
        figures = results[tree]
        assert figures["groups"]["exact"]["queries"] > 0
        assert figures["groups"]["exact"]["recall_at_1"] == 1.0
        assert sum(s["errors"] for s in figures["forms"].values()) == 0
        assert figures["calls"]["over_budget"] == 0
    assert (
        results["baseline"]["latency"]["all"]["queries"]
        == (results["current"]["latency"]["all"]["queries"])
    )
    text = docs.read_text(encoding="utf-8")
    assert text.startswith("intro\n")
    assert text.endswith("outro\n")
    assert PREVIOUS not in text
    assert "| **exact** |" in text
    header, rule, exact = text.split("\n\n")[2].splitlines()[:3]
    assert header.count("|") == rule.count("|") == exact.count("|")
    assert "p95 of this tree / p95 of the baseline" in text
