"""A tiny run of `make bench` (bench/run.py) so that the benchmark's code paths cannot rot:
the file generator, every measuring mode in its own process, the moto server backend, the
lookups through the app, and the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.bench import PREVIOUS, isolated_bench

pytestmark = pytest.mark.integration


def test_a_tiny_bench_run_measures_every_figure_and_writes_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a clean environment (the bench starts its own AWS backend) and a tiny size
    from bench import run as bench

    docs = isolated_bench(bench, tmp_path, monkeypatch)

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
            "--memory-sizes",
            "200",
            "--check-sizes",
            "200",
            "--check-pairs",
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
    # the check-only delivery against (b) in pairs, the order alternating
    assert [pair["first"] for pair in size["check_pairs"]] == ["validate", "check"]
    for pair in size["check_pairs"]:
        assert pair["check"]["rows"] == pair["validate"]["rows"] == 200
        assert "BatchWriteItem" not in pair["check"]["calls"]
        # one invocation: the s3:TestEvent of setting the bucket up is not timed with a delivery
        assert pair["check"]["invocations"] == 1
    assert size["ingest"]["invocations"] == 1
    assert size["ingest"]["calls"]["BatchWriteItem"] >= size["floor"]["calls"]["BatchWriteItem"]
    assert size["ingest"]["peak_rss_mb"] > 0
    memory = results["memory"]["200"]
    assert memory["rows"] == 200
    assert memory["calls"]["BatchWriteItem"] == size["ingest"]["calls"]["BatchWriteItem"]
    forms = {form["form"]: form for form in results["lookups"]["forms"]}
    # a policy number search also reads the best candidate's birth date (one client, one face)
    assert forms["GET /v1/clients?policy_number"]["reads"] == "BatchGetItem ≤1, Query ≤2"
    assert "POST /v1/coverage-checks" in forms
    text = docs.read_text(encoding="utf-8")
    assert text.startswith("intro\n")
    assert text.endswith("outro\n")
    assert PREVIOUS not in text
    assert "| 200 |" in text
    assert "memory mode" in text
    assert "Check-only deliveries" in text


def test_the_memory_mode_backend_acknowledges_portfolio_items_without_keeping_them() -> None:
    # given: a backend in memory mode with the benchmark's resources
    import boto3
    from botocore.exceptions import ClientError

    from bench.backend import CREDENTIALS, REGION, provisioned, running_backend

    with running_backend(discard_portfolio_writes=True) as backend:
        table_name = provisioned(backend)["table"]
        credentials = {
            "aws_access_key_id": CREDENTIALS["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        }
        table = boto3.resource(
            "dynamodb", endpoint_url=backend.endpoint_url, region_name=REGION, **credentials
        ).Table(table_name)
        policy = {"pk": "POLICY#p#1", "sk": "POLICY", "status": "active"}
        lookup = {"pk": "LOOKUP#POLICY#1", "sk": "c#p#1"}
        delivery = {"pk": "DELIVERY#d1", "sk": "DELIVERY", "status": "processing"}

        # when: a batch of portfolio and other items is written, a policy is put, and a batch
        # has the same key twice
        with table.batch_writer() as writer:
            for item in (policy, lookup, delivery):
                writer.put_item(Item=item)
        table.put_item(Item={**policy, "pk": "POLICY#p#2"})
        twice = {"PutRequest": {"Item": {"pk": {"S": "POLICY#p#3"}, "sk": {"S": "POLICY"}}}}
        with pytest.raises(ClientError, match="ValidationException"):
            table.meta.client.batch_write_item(RequestItems={table_name: [twice, twice]})

        # then: the delivery record is kept; the portfolio items were acknowledged, not kept,
        # and a batch with a key twice is refused as DynamoDB refuses it
        assert table.get_item(Key={"pk": "DELIVERY#d1", "sk": "DELIVERY"})["Item"] == delivery
        for key in (policy, lookup, {"pk": "POLICY#p#2", "sk": "POLICY"}):
            assert "Item" not in table.get_item(Key={"pk": key["pk"], "sk": key["sk"]})


def test_the_check_parts_bench_times_each_part_of_a_check_in_place(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # given a clean environment (the bench starts its own AWS backend) and a tiny file
    from bench import check_parts

    # when one run of (b) and the check-only delivery is timed part by part
    code = check_parts.main(["--rows", "200", "--runs", "1"])

    # then each part of the check is in the table, with the requests the check made
    assert code == 0
    table = capsys.readouterr().out
    for part in ("`validate_row`", "judging each policy", "counting its fields", "AWS requests"):
        assert part in table
    assert "GetObject 1" in table
    assert "PutItem 1" in table
