"""A short year of monthly deliveries (bench/retention_year.py) so that its code paths cannot
rot: the backend's meter per delivery, the moved clock, the retention checks and the report."""

from __future__ import annotations

import os
from unittest import mock

import pytest

pytestmark = pytest.mark.integration


def test_unchanged_monthly_deliveries_write_nothing_until_the_refresh_window_passes() -> None:
    # given a clean environment (the benchmark starts its own backend) and a one-month window
    from bench import retention_year
    from chalicelib.config import reset_settings
    from chalicelib.store.aws import reset_clients

    with mock.patch.dict(os.environ, {"RETENTION_REFRESH_MONTHS": "1"}):
        for key in ("AWS_ENDPOINT_URL", "INGEST_QUEUE_URL", "ACTIVATION_QUEUE_URL"):
            os.environ.pop(key, None)
        try:
            # when one partner delivers the same 40 rows three months running
            result = retention_year.run(rows=40, months=3)
        finally:
            reset_settings()
            reset_clients()

    # then every delivery was accepted whole and kept the retention contract
    assert retention_year.problems(result) == []
    new, unchanged, refreshed = result["deliveries"]
    # and the first wrote every row, the second (inside the window) no register item, the
    # third (past it) every register item again for its retention
    assert retention_year.per_row(new, ("register",)) > 3
    assert unchanged["units"].get("register", 0) == 0
    assert retention_year.per_row(refreshed, ("register",)) > 3
    assert "Average over the 2 unchanged deliveries" in retention_year.render(result)
