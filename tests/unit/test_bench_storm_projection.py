"""The month-start storm's projection for AWS (bench/storm.py, docs/benchmarks.md): the table's
capacity, the Lambda CPU and the largest partner's lane, each where it binds."""

from __future__ import annotations

import pytest

from bench.storm import AWS_STORM, project

pytestmark = pytest.mark.unit

NEW_ROW = {"cpu_us": 1_600.0, "units": 9.0, "requests": 0.4, "rtt_ms": 10.0}


def test_a_table_warmed_to_the_quota_finishes_the_first_storm_sooner_than_a_new_one():
    # given the figures of a new row, at one whole vCPU
    cold = project(**NEW_ROW, memory_mb=1769)
    warm = project(**NEW_ROW, memory_mb=1769, warm_wcu=40_000)

    # then a new table's ramp from 4,000 WCU/s binds, and a warm one does not make it wait
    assert cold["binds"] == "DynamoDB write capacity"
    assert warm["minutes"] < cold["minutes"] / 2
    assert warm["peak_wcu_s"] <= 40_000


def test_the_largest_partners_delivery_is_the_floor_one_invocation_at_a_time():
    # given rows that cost next to no write capacity
    cheap = project(cpu_us=1_000.0, units=0.1, requests=0.05, memory_mb=1769, rtt_ms=10.0)

    # then the storm takes as long as the 1M delivery in one invocation, whatever else runs
    floor_minutes = max(AWS_STORM) / cheap["rows_per_invocation_s"] / 60
    assert cheap["binds"] == "the 1M partner's invocation CPU (one at a time)"
    assert floor_minutes <= cheap["minutes"] < floor_minutes + 1
    # and at 1,024 MB (0.58 of a vCPU) the same rows take 1.7 times as long
    slower = project(cpu_us=1_000.0, units=0.1, requests=0.05, memory_mb=1024, rtt_ms=10.0)
    assert slower["minutes"] == pytest.approx(cheap["minutes"] * 1769 / 1024, rel=0.02)


def test_the_serial_design_runs_every_delivery_after_the_other_and_waits_for_each_request():
    # given a row of 1,000 µs of CPU and 0.4 requests of 10 ms each, at one whole vCPU
    serial = project(
        cpu_us=1_000.0, units=0.1, requests=0.4, memory_mb=1769, rtt_ms=10.0, serial=True
    )

    # then a row takes its CPU plus its round trips (5 ms: 200 rows/s), and the storm's rows
    # go through that one invocation one after the other
    assert serial["rows_per_invocation_s"] == pytest.approx(200.0)
    assert serial["minutes"] == pytest.approx(sum(AWS_STORM) / 200 / 60, rel=0.01)
    assert serial["binds"] == "one delivery at a time: reserved concurrency 1"
    # while the parallel design hides the round trips and runs eight deliveries at once
    parallel = project(cpu_us=1_000.0, units=0.1, requests=0.4, memory_mb=1769, rtt_ms=10.0)
    assert parallel["rows_per_invocation_s"] == pytest.approx(1_000.0)
    assert parallel["minutes"] < serial["minutes"] / 5
