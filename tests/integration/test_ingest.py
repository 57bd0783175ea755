"""Portfolio deliveries through the real upload path on moto: S3 → SQS → ingest → DynamoDB."""

from __future__ import annotations

import gzip
import io
import json
import logging
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


def test_redelivered_policy_gets_a_new_expiry(aws):
    # given a delivered policy
    deliver(aws, "first.csv", csv_bytes(portfolio(1)))
    first_expiry = int(policy("P00000")["expires_at"])

    # when it is delivered again a little later
    time.sleep(1.1)
    deliver(aws, "second.csv", csv_bytes(portfolio(1)))

    # then its expiry moved with the delivery
    assert int(policy("P00000")["expires_at"]) > first_expiry


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


def test_mutation_codes_add_change_cancel_and_inform(aws):
    # given two policies
    deliver(aws, "base.csv", csv_bytes([person("M1"), person("M2", HUISNR="2")]))

    # when a mutation file adds one, changes one, cancels one
    time.sleep(0.01)
    mutation = csv_bytes(
        [
            person("M3", PP_VRWRKCD="0", HUISNR="3"),
            person("M1", PP_VRWRKCD="1", PP_DEKKING="RP|FV"),
            person("M2", PP_VRWRKCD="2", HUISNR="2", PP_EXPDAT="20261001"),
        ]
    )
    result = deliver(aws, "mutation.csv", mutation, kind="mutation")

    # then each code had its effect and nothing was ended by absence
    assert result["status"] == "accepted"
    assert policy("M3")["status"] == "active"
    assert policy("M1")["modules"] == ["RP", "FV"]
    assert policy("M2")["status"] == "cancelled"
    assert policy("M2")["end_date"] == "2026-10-01"

    # when a later "for information" row arrives for the cancelled policy
    time.sleep(0.01)
    info = csv_bytes([person("M2", PP_VRWRKCD="4", HUISNR="2", PP_EXPDAT="20261001")])
    deliver(aws, "info.csv", info, kind="mutation")

    # then the policy stays cancelled
    assert policy("M2")["status"] == "cancelled"


def test_a_cancellation_without_end_date_ends_on_the_delivery_date(aws):
    deliver(aws, "base.csv", csv_bytes([person("C1")]))
    time.sleep(0.01)
    result = deliver(aws, "cancel.csv", csv_bytes([person("C1", PP_VRWRKCD="2")]), kind="mutation")
    assert policy("C1")["status"] == "cancelled"
    assert policy("C1")["end_date"] == result["received_at"][:10]


def test_mutation_file_without_processing_code_column_is_rejected(aws):
    header = [c for c in csv_bytes([]).decode().strip().split(";") if c != "PP_VRWRKCD"]
    result = deliver(aws, "m.csv", csv_bytes([person("X1")], header=header), kind="mutation")
    assert result["status"] == "rejected"
    assert result["errors"][0]["code"] == "missing_columns"
    assert "PP_VRWRKCD" in result["errors"][0]["message_en"]


def test_a_key_with_spaces_and_plus_signs_is_decoded(aws):
    result = deliver(aws, "mijn portefeuille+2026.csv", csv_bytes(portfolio(1)))
    assert result["object_key"] == f"incoming/{PARTNER}/full/mijn portefeuille+2026.csv"
    assert result["status"] == "accepted"


def test_an_unknown_partner_is_rejected_with_a_report_and_no_policy_data(aws):
    upload("incoming/someone-else/full/p.csv", csv_bytes(portfolio(2)))
    drain(aws["ingest_queue_url"])
    result = report("someone-else")[-1]
    assert result["status"] == "rejected"
    assert result["errors"][0]["code"] == "unknown_partner"
    assert "niet bekend" in result["errors"][0]["message"]
    assert not [i for i in all_items() if i["type"] in ("policy", "party", "lookup")]


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("empty.csv", b"", "empty_file"),
        ("header-only.csv", csv_bytes([]), "empty_file"),
        ("binary.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 40, None),
        ("notes.txt", b"hello", "unsupported_file_type"),
    ],
)
def test_unreadable_files_are_rejected_with_one_clear_error_and_write_nothing(
    aws, name, data, code
):
    result = deliver(aws, name, data)
    assert result["status"] == "rejected"
    assert result["errors"], "a rejected file names its reason"
    if code:
        assert result["errors"][0]["code"] == code
    assert result["errors"][0]["message"]
    assert result["errors"][0]["message_en"]
    assert not [i for i in all_items() if i["type"] in ("policy", "party", "lookup")]


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


def test_rejected_rows_are_reported_per_line_and_the_rest_is_stored(aws):
    rows = [
        person("R1"),
        person("R2", PCODE="1234SA", HUISNR="2"),
        person("R3", PP_BRANCHE="021", HUISNR="3"),
        person("R4", HUISNR="4"),
    ]
    result = deliver(aws, "mixed.csv", csv_bytes(rows))
    assert result["status"] == "accepted_with_errors"
    assert (result["rows_accepted"], result["rows_rejected"]) == (2, 2)
    by_code = {e["code"]: e for e in result["errors"]}
    assert by_code["invalid_postcode"]["line"] == 3
    assert by_code["invalid_postcode"]["column"] == "PCODE"
    assert by_code["branch_not_in_scope"]["line"] == 4
    assert result["error_counts"] == {"invalid_postcode": 1, "branch_not_in_scope": 1}
    assert policy("R2") is None
    assert policy("R4") is not None


def test_a_file_whose_every_row_is_rejected_is_rejected_and_ends_nothing(aws):
    deliver(aws, "m1.csv", csv_bytes(portfolio(3)))
    time.sleep(0.01)
    rows = [person("Z1", PCODE="1234SA"), person("Z2", PP_BRANCHE="021", HUISNR="2")]
    result = deliver(aws, "all-bad.csv", csv_bytes(rows))
    assert result["status"] == "rejected"
    assert result["error_counts"] == {
        "invalid_postcode": 1,
        "branch_not_in_scope": 1,
        "no_valid_rows": 1,
    }
    assert result["policies_ended"] == 0
    assert policy("P00000")["status"] == "active"


def test_a_full_delivery_does_not_end_a_policy_whose_row_was_rejected(aws):
    deliver(aws, "m1.csv", csv_bytes(portfolio(10)))
    time.sleep(0.01)
    rows = portfolio(10)
    rows[3]["PCODE"] = "0000XX"
    result = deliver(aws, "m2.csv", csv_bytes(rows))
    assert result["policies_ended"] == 0
    assert policy(rows[3]["PP_NUMMER"])["status"] == "active"


def test_a_policy_needs_exactly_one_policyholder(aws):
    rows = [person("H1", ENTITEIT="SP"), person("H2", HUISNR="2")]
    result = deliver(aws, "holders.csv", csv_bytes(rows))
    assert result["error_counts"] == {"policy_needs_one_policyholder": 1}
    assert policy("H1") is None
    assert policy("H2") is not None


def test_a_household_on_one_policy_becomes_one_policy_with_its_parties(aws):
    rows = [
        person("G1", PP_GEZIN="H"),
        person("G1", PP_GEZIN="H", ENTITEIT="SP", VOORL="B.", GEBDAT="19820202"),
        person("G1", PP_GEZIN="H", ENTITEIT="KN", VOORL="C.", GEBDAT="20150303"),
    ]
    result = deliver(aws, "household.csv", csv_bytes(rows))
    assert result["rows_accepted"] == 3
    assert result["policies_written"] == 1
    parties = [i for i in all_items() if i["type"] == "party"]
    assert sorted(p["role"] for p in parties) == ["KN", "SP", "VP"]
    assert len({p["client_id"] for p in parties}) == 3


def test_the_same_person_from_two_partners_is_one_client(aws):
    upload("incoming/demo-volmacht/full/a.csv", csv_bytes([person("A1")]))
    upload(
        "incoming/demo-verzekeraar/full/b.csv",
        csv_bytes([person("B1", ANAAM="Van der Berg", VOORV="", VOORL="A")]),
    )
    drain(aws["ingest_queue_url"])
    parties = [i for i in all_items() if i["type"] == "party"]
    assert len(parties) == 2
    assert parties[0]["client_id"] == parties[1]["client_id"]


def test_a_bsn_is_stored_logged_and_reported_nowhere(aws, capsys, caplog):
    # given a file with a BSN column
    bsn = "111222333"
    header = [*csv_bytes([]).decode().strip().split(";"), "BSNR"]
    rows = [person("S1", BSNR=bsn), person("S2", HUISNR="2", BSNR=bsn)]
    caplog.set_level(logging.DEBUG)

    # when it is delivered
    result = deliver(aws, "bsn.csv", csv_bytes(rows, header=header))

    # then the rows are stored, the report warns once with a count, and the value is nowhere
    assert result["rows_accepted"] == 2
    assert sum("BSN" in w for w in result["warnings"]) == 2  # the column, and the count
    assert any("2 BSN" in w for w in result["warnings"])
    assert bsn not in json.dumps(all_items(), default=str)
    assert bsn not in json.dumps(result)
    captured = capsys.readouterr()
    assert bsn not in captured.out + captured.err + caplog.text


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


def test_windows_1252_and_tab_delimited_files_are_read(aws):
    text = csv_bytes([person("W1", ANAAM="Hélène")]).decode().replace(";", "\t")
    result = deliver(aws, "latin.csv", text.encode("cp1252"))
    assert result["status"] == "accepted"
    party = next(i for i in all_items() if i["type"] == "party")
    assert party["surname"] == "Hélène"


def test_json_lines_gzip_delivery_is_read(aws):
    lines = "\n".join(json.dumps(r) for r in portfolio(3)).encode()
    result = deliver(aws, "portfolio.jsonl.gz", gzip.compress(lines))
    assert result["status"] == "accepted"
    assert result["rows_accepted"] == 3


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
