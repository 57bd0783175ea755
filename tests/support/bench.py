"""A benchmark run inside a test: its own AWS backend, and a docs file of its own to update."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

PREVIOUS = "PREVIOUS FIGURES"


def isolated_bench(module: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No AWS endpoint or queues from the test stage (the bench starts its own backend), and
    `module.DOCS` pointed at a file with the module's markers around PREVIOUS: its path."""
    for key in ("AWS_ENDPOINT_URL", "INGEST_QUEUE_URL", "ACTIVATION_QUEUE_URL"):
        monkeypatch.delenv(key, raising=False)
    docs = tmp_path / "benchmarks.md"
    docs.write_text(f"intro\n{module.BEGIN}\n{PREVIOUS}\n{module.END}\noutro\n", encoding="utf-8")
    monkeypatch.setattr(module, "DOCS", docs)
    return docs
