"""The check-only figure is the median of pairs taken back to back, not of separate runs."""

from __future__ import annotations

import pytest

from bench.run import check_ratios, render

pytestmark = pytest.mark.unit


def _run(rows: int, seconds: float, cpu_seconds: float) -> dict[str, object]:
    return {"rows": rows, "seconds": seconds, "cpu_seconds": cpu_seconds, "invocations": 2}


def _pair(b_seconds: float, check_seconds: float, first: str = "validate") -> dict[str, object]:
    return {
        "validate": _run(100_000, b_seconds, b_seconds),
        "check": _run(100_000, check_seconds, check_seconds),
        "first": first,
        "load_before": 1.0,
        "load_after": 1.2,
    }


def test_a_pairs_ratio_is_the_checks_rows_per_second_against_bs_and_its_cpu_per_row() -> None:
    # given (b) at 2 s of wall and 1 s of CPU, and the check at 4 s of wall and 1.25 s of CPU
    pair = {
        "validate": _run(100_000, 2.0, 1.0),
        "check": _run(100_000, 4.0, 1.25),
    }
    # when its ratios are taken
    rate, cpu = check_ratios(pair)
    # then the check ran at half of (b)'s rows/s and 0.8 of its CPU per row
    assert rate == pytest.approx(0.5)
    assert cpu == pytest.approx(0.8)


def test_the_reported_figure_is_the_median_of_the_pairs_ratios_with_every_pair_listed() -> None:
    # given three pairs, one of them taken while the machine slowed (b) down
    pairs = [_pair(1.0, 1.25), _pair(3.0, 1.3, first="check"), _pair(1.0, 1.5)]
    # when the results are rendered
    text = render({"sizes": {"100k": {"check_pairs": pairs}}})
    # then the median of the ratios (0.80 of 0.80, 2.31 and 0.67) is the figure, with its range
    assert "| 100k | 3 | 0.80 (0.67–2.31) |" in text
    # and every pair is listed with which run went first and the load average around it
    assert text.count("| 1.0 → 1.2 |") == 3
    assert "| 100k | 2 | check |" in text
