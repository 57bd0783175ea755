"""A tiny month-start storm (bench/storm.py) so that its code paths cannot rot: the partners'
files, the delayed and metered backend, worker processes running the handler of two versions
of the repository, the checks and the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def test_a_tiny_storm_runs_both_designs_checks_them_and_writes_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a clean environment (the storm starts its own backend) and a document to update
    from bench import storm

    for key in ("AWS_ENDPOINT_URL", "INGEST_QUEUE_URL", "ACTIVATION_QUEUE_URL"):
        monkeypatch.delenv(key, raising=False)
    docs = tmp_path / "benchmarks.md"
    docs.write_text(f"intro\n{storm.BEGIN}\nold\n{storm.END}\noutro\n", encoding="utf-8")
    monkeypatch.setattr(storm, "DOCS", docs)

    # when two partners storm, the serial design being this commit too (a fresh clone has it)
    code = storm.main(
        [
            "--partners",
            "2",
            "--large-rows",
            "30",
            "--rows",
            "10",
            "--latency-ms",
            "1",
            "--workers",
            "2",
            "--baseline",
            "HEAD",
            "--out",
            str(tmp_path),
            "--update-docs",
        ]
    )

    # then every delivery was accepted in order with nothing dead-lettered, both rounds metered
    assert code == 0
    results = json.loads((tmp_path / "storm.json").read_text())
    for design in ("serial", "parallel"):
        new, unchanged = results[design]["new"], results[design]["unchanged"]
        assert (new["deliveries"], unchanged["deliveries"]) == (4, 2)
        assert new["order_kept"] is True
        assert new["dlq"] == unchanged["dlq"] == 0
        assert new["meter"]["units"]["register"] > unchanged["meter"]["units"]["register"] > 0
    # and the report replaced the marked block, the projection included
    text = docs.read_text()
    assert "old" not in text
    assert "Projection for AWS" in text
