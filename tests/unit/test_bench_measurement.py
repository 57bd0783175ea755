"""The benchmark's memory figures are the measuring process's own."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit

PARENT_MB = 300


def test_a_measuring_child_does_not_report_the_memory_of_the_process_that_started_it() -> None:
    # given a parent holding 300 MB of touched memory
    ballast = bytearray(PARENT_MB * 1024 * 1024)
    for offset in range(0, len(ballast), 4096):
        ballast[offset] = 1
    # when a child process reports its peak resident set
    child = subprocess.run(
        [sys.executable, "-c", "from bench.ingest import _peak_rss_mb; print(_peak_rss_mb())"],
        capture_output=True,
        text=True,
        check=True,
    )
    # then the figure is the child's own (an interpreter with the bench imported), not the parent's
    assert 5 < float(child.stdout) < PARENT_MB / 3
    del ballast
