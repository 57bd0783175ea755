"""Portfolio deliveries through the real upload path on moto: S3 → SQS → ingest → DynamoDB."""

from __future__ import annotations

import gzip
import io
import json
import time
import tracemalloc
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

import boto3
import pytest

from chalicelib.config import get_settings
from chalicelib.rules.dates import expires_at
from chalicelib.store import keys
from tests.support.ingest import (
    all_items,
    csv_bytes,
    drain,
    person,
    portfolio,
    receive,
    report,
    upload,
)

pytestmark = pytest.mark.integration

PARTNER = "demo-volmacht"


def deliver(aws: dict[str, str], name: str, data: bytes, *, kind: str = "full") -> dict[str, Any]:
    upload(f"incoming/{PARTNER}/{kind}/{name}", data)
    drain(aws["ingest_queue_url"])
    return report(PARTNER)[-1]


def policy(number: str, partner: str = PARTNER) -> dict[str, Any] | None:
    table = boto3.resource("dynamodb", region_name="eu-west-1").Table(get_settings().table_name)
    return table.get_item(Key={"pk": keys.policy_pk(partner, number), "sk": "POLICY"}).get("Item")


def test_full_delivery_writes_policies_parties_and_lookups_that_expire_24_months_later(aws):
    # given a portfolio of three policies
    data = csv_bytes(portfolio(3))

    # when the partner uploads it
    result = deliver(aws, "portfolio.csv", data)

    # then the report accepts every row
    assert result["status"] == "accepted"
    assert (result["rows_total"], result["rows_accepted"], result["rows_rejected"]) == (3, 3, 0)
    # and every stored item expires 24 months after the delivery
    received = datetime.fromisoformat(result["received_at"])
    expected_expiry = expires_at(received, 24)
    items = [i for i in all_items() if i["type"] in ("policy", "party", "lookup")]
    assert {i["type"] for i in items} == {"policy", "party", "lookup"}
    assert all(int(i["expires_at"]) == expected_expiry for i in items)
    assert abs(expected_expiry - (received.timestamp() + 730 * 86400)) < 2 * 86400
    # and the delivery record itself expires too
    records = [i for i in all_items() if i["type"] == "delivery"]
    assert len(records) == 1
    assert int(records[0]["expires_at"]) == expected_expiry


def test_the_same_s3_event_delivered_twice_has_the_effect_of_one_delivery(aws):
    # given an upload whose notification S3 delivers twice (at-least-once)
    upload(f"incoming/{PARTNER}/full/twice.csv", csv_bytes(portfolio(2)))
    original = receive(aws["ingest_queue_url"], 10)
    body = next(m["Body"] for m in original if "Records" in json.loads(m["Body"]))
    boto3.client("sqs", region_name="eu-west-1").send_message(
        QueueUrl=aws["ingest_queue_url"], MessageBody=body
    )

    # when both are processed
    drain(aws["ingest_queue_url"])

    # then there is one delivery, one report, and the counts are not doubled
    deliveries = [i for i in all_items() if i["type"] == "delivery"]
    assert len(deliveries) == 1
    reports = report(PARTNER)
    assert len(reports) == 1
    assert reports[0]["rows_accepted"] == 2
    assert reports[0]["policies_written"] == 2


def test_an_older_delivery_processed_after_a_newer_one_changes_nothing(aws):
    # given two mutation deliveries of the same policy, the second one newer
    older = csv_bytes([person("P1", PP_VRWRKCD="1", PP_DEKKING="RP")])
    newer = csv_bytes([person("P1", PP_VRWRKCD="1", PP_DEKKING="RP|VK|IN")])
    upload(f"incoming/{PARTNER}/mutation/older.csv", older)
    time.sleep(0.01)
    upload(f"incoming/{PARTNER}/mutation/newer.csv", newer)
    messages = [
        m for m in receive(aws["ingest_queue_url"], 10) if "Records" in json.loads(m["Body"])
    ]
    by_key = {
        unquote_plus(json.loads(m["Body"])["Records"][0]["s3"]["object"]["key"]): m
        for m in messages
    }
    assert len(by_key) == 2

    # when the newer event is processed first and the older one after it
    from tests.support.ingest import invoke

    invoke("ingest", [by_key[f"incoming/{PARTNER}/mutation/newer.csv"]])
    invoke("ingest", [by_key[f"incoming/{PARTNER}/mutation/older.csv"]])

    # then the policy keeps the newer data and the older report says it was superseded
    assert policy("P1")["modules"] == ["RP", "VK", "IN"]
    older_report = next(r for r in report(PARTNER) if r["object_key"].endswith("older.csv"))
    assert older_report["rows_superseded"] == 1
    assert older_report["rows_accepted"] == 0


def test_full_delivery_ends_the_policies_missing_from_it_without_deleting_them(aws):
    # given ten active policies
    deliver(aws, "month1.csv", csv_bytes(portfolio(10)))

    # when the next full delivery lacks one of them (10% < 20%)
    time.sleep(0.01)
    result = deliver(aws, "month2.csv", csv_bytes(portfolio(9)))

    # then that one is ended as removed from the portfolio, with the date, and still stored
    assert result["status"] == "accepted"
    assert result["policies_ended"] == 1
    ended = policy("P00009")
    assert ended["status"] == "removed_from_portfolio"
    assert ended["ended_on"] == result["received_at"][:10]
    assert "gsi2pk" not in ended
    assert policy("P00008")["status"] == "active"


def test_full_delivery_that_drops_half_the_portfolio_is_held_for_review_then_confirmed(aws, api):
    from tests.conftest import bearer

    # given ten active policies
    deliver(aws, "month1.csv", csv_bytes(portfolio(10)))

    # when a full delivery contains only five of them
    time.sleep(0.01)
    held = deliver(aws, "month2.csv", csv_bytes(portfolio(5)))

    # then nothing is ended and the delivery waits for an administrator
    assert held["status"] == "held_for_review"
    assert held["policies_pending_removal"] == 5
    assert held["policies_ended"] == 0
    assert policy("P00009")["status"] == "active"

    # when a partner tries to confirm it, that is refused
    path = f"/v1/deliveries/{held['delivery_id']}/confirm"
    refused = api.http.post(path, headers=bearer("partner", PARTNER))
    assert refused.status_code == 403

    # when an administrator confirms it
    confirmed = api.http.post(path, headers=bearer("admin"))
    assert confirmed.status_code == 202
    drain(aws["ingest_queue_url"])

    # then the five missing policies are ended, and the delivery is accepted
    assert policy("P00009")["status"] == "removed_from_portfolio"
    after = api.http.get(f"/v1/deliveries/{held['delivery_id']}", headers=bearer("admin"))
    assert after.json_body["status"] == "accepted"
    assert after.json_body["policies_ended"] == 5
    # and the report says who confirmed it, no longer that nothing was ended
    assert after.json_body["confirmed_by"] == "admin-user"
    assert not any("nothing ended" in w for w in after.json_body["warnings"])
    assert any("Confirmed by an administrator" in w for w in after.json_body["warnings"])
    audit = api.http.get("/v1/audit?actor=admin-user", headers=bearer("admin")).json_body
    assert any(held["delivery_id"] in e["result_ids"] for e in audit["entries"])
    # and confirming again is a conflict, not a second run
    again = api.http.post(path, headers=bearer("admin"))
    assert again.status_code == 409
    assert again.json_body["error"]["code"] == "delivery_not_held"


def test_a_key_with_spaces_and_plus_signs_is_decoded(aws):
    result = deliver(aws, "mijn portefeuille+2026.csv", csv_bytes(portfolio(1)))
    assert result["object_key"] == f"incoming/{PARTNER}/full/mijn portefeuille+2026.csv"
    assert result["status"] == "accepted"


def warm_up(aws: dict[str, str]) -> None:
    """Deliver a small file first: botocore loads its service models (several MB) once per
    process, and they are not the ingest's memory."""
    upload(f"incoming/{PARTNER}/mutation/warm-up.csv", csv_bytes([person("W0", PP_VRWRKCD="0")]))
    drain(aws["ingest_queue_url"])


def drain_measuring_peak(aws: dict[str, str]) -> int:
    """Peak Python allocations while the ingest processes what is on the queue."""
    tracemalloc.start()
    try:
        drain(aws["ingest_queue_url"])
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_file_of_one_5_mb_line_is_rejected_in_bounded_memory(aws):
    # given an uploaded file that is one 5 MB line
    size = 5 * 1024 * 1024
    warm_up(aws)
    upload(f"incoming/{PARTNER}/full/long.csv", b"PP_NUMMER;" + b"x" * size)

    # when it is ingested
    peak = drain_measuring_peak(aws)

    # then it is rejected as a too-long line, and the ingest never held the line: moto (in this
    # process) hands the body over as one bytes object, which is all the 5 MB allowed for
    result = report(PARTNER)[-1]
    assert result["status"] == "rejected"
    assert result["errors"][0]["code"] == "line_too_long"
    assert peak < size + 4 * 1024 * 1024


def test_a_gzip_bomb_is_stopped_at_the_uncompressed_limit_in_bounded_memory(aws, monkeypatch):
    # given a 2 MB limit and a small gzip file that inflates to 32 MB of rows of one policy
    monkeypatch.setenv("MAX_UNCOMPRESSED_MB", "2")
    from chalicelib.config import reset_settings

    reset_settings()
    header = csv_bytes([]).rstrip(b"\r\n") + b"\r\n"
    row = csv_bytes([person("B1")]).split(b"\r\n")[1] + b"\r\n"
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb") as archive:
        archive.write(header)
        for _ in range((32 * 1024 * 1024) // len(row)):
            archive.write(row)
    bomb = buffer.getvalue()
    assert len(bomb) < 1024 * 1024
    warm_up(aws)
    upload(f"incoming/{PARTNER}/full/bomb.csv.gz", bomb)

    # when it is ingested
    peak = drain_measuring_peak(aws)

    # then reading stops at the limit with a clear error, within a few MB of memory
    result = report(PARTNER)[-1]
    assert any(e["code"] == "too_large_uncompressed" for e in result["errors"])
    assert result["status"] in ("rejected", "accepted_with_errors")
    assert peak < 16 * 1024 * 1024
    # and a policy with thousands of rows is refused rather than buffered
    assert result["error_counts"].get("too_many_parties") == 1


def test_an_s3_test_event_is_skipped(aws):
    boto3.client("sqs", region_name="eu-west-1").send_message(
        QueueUrl=aws["ingest_queue_url"],
        MessageBody=json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"}),
    )
    results = drain(aws["ingest_queue_url"])
    assert all(r == {"batchItemFailures": []} for r in results)
    assert not [i for i in all_items() if i["type"] == "delivery"]


def test_a_failing_message_is_reported_for_retry_and_succeeds_later_without_doubling(aws):
    # given an upload while the table is unavailable
    dynamodb = boto3.client("dynamodb", region_name="eu-west-1")
    table = get_settings().table_name
    description = dynamodb.describe_table(TableName=table)["Table"]
    dynamodb.delete_table(TableName=table)
    upload(f"incoming/{PARTNER}/full/retry.csv", csv_bytes(portfolio(3)))
    messages = [
        m for m in receive(aws["ingest_queue_url"], 10) if "Records" in json.loads(m["Body"])
    ]
    from tests.support.ingest import invoke

    # when the handler runs, it reports the message as failed (not lost, not deleted)
    result = invoke("ingest", messages)
    assert result["batchItemFailures"] == [{"itemIdentifier": messages[0]["MessageId"]}]

    # when the table is back and SQS delivers the message again
    from scripts.provision import provision

    provision(None, "eu-west-1", table_name=table, bucket_name=get_settings().bucket_name)
    assert description["KeySchema"]
    drain(aws["ingest_queue_url"])

    # then the delivery is applied exactly once
    reports = report(PARTNER)
    assert len(reports) == 1
    assert reports[0]["rows_accepted"] == 3
    assert len([i for i in all_items() if i["type"] == "policy"]) == 3


def test_deliveries_api_shows_a_partner_its_own_deliveries_only(aws, api):
    from tests.conftest import bearer

    upload("incoming/demo-volmacht/full/a.csv", csv_bytes(portfolio(2)))
    upload("incoming/demo-verzekeraar/full/b.csv", csv_bytes(portfolio(1)))
    drain(aws["ingest_queue_url"])

    own = api.http.get("/v1/deliveries", headers=bearer("partner", "demo-volmacht"))
    assert own.status_code == 200
    assert [d["partner_id"] for d in own.json_body["deliveries"]] == ["demo-volmacht"]

    everyone = api.http.get("/v1/deliveries", headers=bearer("admin"))
    assert {d["partner_id"] for d in everyone.json_body["deliveries"]} == {
        "demo-volmacht",
        "demo-verzekeraar",
    }
    other_id = next(
        d["delivery_id"]
        for d in everyone.json_body["deliveries"]
        if d["partner_id"] == "demo-verzekeraar"
    )
    hidden = api.http.get(f"/v1/deliveries/{other_id}", headers=bearer("partner", "demo-volmacht"))
    assert hidden.status_code == 404
    foreign = api.http.get(
        "/v1/deliveries?partner_id=demo-verzekeraar", headers=bearer("partner", "demo-volmacht")
    )
    assert foreign.status_code == 403
    assert foreign.json_body["error"]["code"] == "other_partner"


def test_an_expired_delivery_record_is_not_returned(aws, api):
    from tests.conftest import bearer

    deliver(aws, "old.csv", csv_bytes(portfolio(1)))
    record = next(i for i in all_items() if i["type"] == "delivery")
    boto3.resource("dynamodb", region_name="eu-west-1").Table(
        get_settings().table_name
    ).update_item(
        Key={"pk": record["pk"], "sk": record["sk"]},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": int(datetime.now(UTC).timestamp()) - 60},
    )
    listed = api.http.get("/v1/deliveries", headers=bearer("admin"))
    assert listed.json_body["deliveries"] == []
    single = api.http.get(f"/v1/deliveries/{record['delivery_id']}", headers=bearer("admin"))
    assert single.status_code == 404


def test_ingest_log_lines_carry_the_invocation_id_and_metrics_are_emitted(aws, capsys):
    from chalicelib.observability import logger

    lines = io.StringIO()
    original = logger.registered_handler.setStream(lines)
    try:
        deliver(aws, "observed.csv", csv_bytes(portfolio(2)))
    finally:
        logger.registered_handler.setStream(original)
    logged = [json.loads(line) for line in lines.getvalue().splitlines()]
    finished = next(entry for entry in logged if entry["message"] == "delivery finished")
    assert finished["function_request_id"] == "test-request"
    assert finished["rows_accepted"] == 2
    out = capsys.readouterr().out
    emf = next(json.loads(line) for line in out.splitlines() if '"CloudWatchMetrics"' in line)
    assert emf["RowsAccepted"] == [2.0]
