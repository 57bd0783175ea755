"""A tiny run of `make bench` (scripts/bench.py) so that the benchmark's code paths cannot rot:
the file generator, every measuring mode in its own process, the moto server backend, the
lookups through the app, and the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def test_a_tiny_bench_run_measures_every_figure_and_writes_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a clean environment (the bench starts its own AWS backend) and a tiny size
    from scripts import bench

    for key in ("AWS_ENDPOINT_URL", "INGEST_QUEUE_URL", "ACTIVATION_QUEUE_URL"):
        monkeypatch.delenv(key, raising=False)
    docs = tmp_path / "benchmarks.md"
    docs.write_text(f"intro\n{bench.BEGIN}\nold\n{bench.END}\noutro\n", encoding="utf-8")
    monkeypatch.setattr(bench, "DOCS", docs)

    # when: the benchmark runs on 200 rows and a register of 200 clients
    code = bench.main(
        [
            "--sizes",
            "200",
            "--parse-sizes",
            "200",
            "--naive-rows",
            "10",
            "--clients",
            "200",
            "--samples",
            "2",
            "--out",
            str(tmp_path),
            "--update-docs",
        ]
    )

    # then: every figure was measured on the same rows and reported
    assert code == 0
    results = json.loads((tmp_path / "results.json").read_text())
    size = results["sizes"]["200"]
    assert size["parse"]["rows"] == 200
    assert size["validate"]["rows"] == 200
    assert size["ingest"]["rows"] == size["floor"]["rows"] == 200
    assert size["naive"]["rows"] == 10
    assert size["ingest"]["calls"]["BatchWriteItem"] >= size["floor"]["calls"]["BatchWriteItem"]
    assert size["ingest"]["peak_rss_mb"] > 0
    forms = {form["form"]: form for form in results["lookups"]["forms"]}
    assert forms["GET /v1/clients?policy_number"]["reads"] == "BatchGetItem ≤1, Query ≤1"
    assert "POST /v1/coverage-checks" in forms
    text = docs.read_text(encoding="utf-8")
    assert text.startswith("intro\n")
    assert text.endswith("outro\n")
    assert "old" not in text
    assert "| 200 |" in text
