"""The identity-writes benchmark's meter: buckets filled to a register's density, and the write
units of what resolution writes, by DynamoDB's sizing rules."""

from __future__ import annotations

import argparse

import pytest

from bench.identity_writes import MeteredBuckets, prefill, run
from chalicelib.rules.identity import Bucket

pytestmark = pytest.mark.unit


def test_buckets_are_filled_to_the_density_asked_for():
    # given 200 birth dates at 40 made-up clients each
    store = MeteredBuckets()
    dates = {f"1980-01-{d:02d}" for d in range(1, 29)} | {f"1981-02-{d:02d}" for d in range(1, 29)}
    count = prefill(store, dates, per_birth_date=40, seed=1, expires_at=2_000_000_000)
    # then about 40 per birth date were kept, spread over the letters of their given names
    assert 0.8 * 40 * len(dates) < count < 1.2 * 40 * len(dates)
    assert len(store.items) > 5 * len(dates)


def test_a_bucket_costs_twice_its_size_in_kilobytes_as_it_goes_in_a_transaction():
    store = MeteredBuckets()
    assert store.save([Bucket("DOB#1980-03-12#k")], [])
    assert store.written_units == 2
    big = MeteredBuckets()
    prefill(big, {"1980-03-12"}, per_birth_date=300, seed=2, expires_at=2_000_000_000)
    bucket = max(big.items, key=lambda key: len(big.items[key]["traces"]))
    from chalicelib.store.identity import bucket_from_item

    assert big.save([bucket_from_item(bucket, big.items[bucket])], [])
    assert big.written_units >= 4  # a bucket of twenty-odd traces is more than 1 KB


def test_a_small_run_reports_write_units_per_new_row():
    args = argparse.Namespace(
        clients=100_000, birth_dates=36_500, partners_per_client=1.5, persons=60, batch=100,
        seed=11_000_011,
    )  # fmt: skip
    results = run(args)
    assert results["new_rows"] > 60
    assert 0 < results["write_units_per_new_row"] < 5
