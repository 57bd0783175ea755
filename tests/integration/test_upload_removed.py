"""A partner's upload is removed for good once its delivery is final (or held for review: a
confirmation only ends missing policies, it never reads the file again). The register keeps what
the contract stores; the file itself may hold a BSN (a `BSNR` column, or one under any label the
contract does not read) and every other column the partner exported. Only the delivery's own
version goes: a later upload under the same name is another delivery, read whole."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest

from chalicelib.config import get_settings
from chalicelib.errors import StoreError
from chalicelib.store.blobs import Blobs
from tests.support.ingest import (
    HEADER,
    csv_bytes,
    drain,
    invoke,
    person,
    portfolio,
    receive,
    report,
    upload,
)

pytestmark = pytest.mark.integration

PARTNER = "demo-volmacht"
BSN = "111222333"


def holding_the_bsn() -> list[str]:
    """Every object version in the bucket whose content holds the BSN."""
    settings = get_settings()
    s3 = boto3.client("s3", region_name=settings.aws_region)
    listing = s3.list_object_versions(Bucket=settings.bucket_name)
    return [
        f"{v['Key']}#{v['VersionId']}"
        for v in listing.get("Versions", [])
        if BSN.encode()
        in s3.get_object(Bucket=settings.bucket_name, Key=v["Key"], VersionId=v["VersionId"])[
            "Body"
        ].read()
    ]


def incoming_versions() -> list[str]:
    settings = get_settings()
    s3 = boto3.client("s3", region_name=settings.aws_region)
    listing = s3.list_object_versions(Bucket=settings.bucket_name, Prefix="incoming/")
    return [v["Key"] for v in listing.get("Versions", [])]


def export(label: str, *, without: str = "") -> bytes:
    header = [h for h in [*HEADER, label] if h != without]
    rows = [person("S1", **{label: BSN}), person("S2", HUISNR="2", **{label: BSN})]
    return csv_bytes(rows, header=header)


def json_lines() -> bytes:
    rows = [dict(person("S1"), bsnr=BSN), dict(person("S2", HUISNR="2"), bsnr=BSN)]
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


# key under incoming/, content, the partner its report is filed under, its status
UPLOADS = {
    "accepted with a BSNR column": (f"{PARTNER}/full/e.csv", export("BSNR"), PARTNER, "accepted"),
    "a BSN column the contract does not read": (
        f"{PARTNER}/full/e.csv",
        export("BSN"),
        PARTNER,
        "accepted",
    ),
    "role-prefixed VP_BSNR": (f"{PARTNER}/full/e.csv", export("VP_BSNR"), PARTNER, "accepted"),
    "check-only": (f"{PARTNER}/check/e.csv", export("BSNR"), PARTNER, "accepted"),
    "mutation": (f"{PARTNER}/mutation/e.jsonl", json_lines(), PARTNER, "rejected"),
    "JSON Lines": (f"{PARTNER}/full/e.jsonl", json_lines(), PARTNER, "accepted"),
    "rejected whole (missing_columns)": (
        f"{PARTNER}/full/e.csv",
        export("BSNR", without="PP_DEKKING"),
        PARTNER,
        "rejected",
    ),
    "unsupported type": (f"{PARTNER}/full/e.txt", export("BSNR"), PARTNER, "rejected"),
    "key outside the contract": (f"{PARTNER}/e.csv", export("BSNR"), PARTNER, "rejected"),
    "unknown partner": ("acme/full/e.csv", export("BSNR"), "acme", "rejected"),
}


@pytest.mark.parametrize("shape", sorted(UPLOADS))
def test_no_version_of_an_upload_holding_a_bsn_is_kept_once_its_delivery_finished(aws, shape):
    # given a partner's upload that holds BSNs
    key, data, filed_under, status = UPLOADS[shape]
    upload(f"incoming/{key}", data)

    # when its delivery has finished
    drain(aws["ingest_queue_url"])
    assert [r["status"] for r in report(filed_under)] == [status]

    # then no object in the bucket, in any version, holds a BSN
    assert holding_the_bsn() == []
    assert incoming_versions() == []


def test_a_held_delivery_has_its_upload_removed_and_is_still_confirmed_whole(aws, api):
    from tests.conftest import bearer

    # given ten active policies
    upload(f"incoming/{PARTNER}/full/m1.csv", csv_bytes(portfolio(10)))
    drain(aws["ingest_queue_url"])
    time.sleep(0.01)
    # when a full delivery of five of them, with a BSN column, is held for review
    rows = [dict(row, BSNR=BSN) for row in portfolio(5)]
    upload(f"incoming/{PARTNER}/full/m2.csv", csv_bytes(rows, header=[*HEADER, "BSNR"]))
    drain(aws["ingest_queue_url"])
    held = report(PARTNER)[-1]
    assert held["status"] == "held_for_review"

    # then its upload is gone while it waits
    assert holding_the_bsn() == []
    # and its confirmation still ends the five missing policies
    path = f"/v1/deliveries/{held['delivery_id']}/confirm"
    assert api.http.post(path, headers=bearer("admin")).status_code == 202
    drain(aws["ingest_queue_url"])
    assert (report(PARTNER)[-1]["status"], report(PARTNER)[-1]["policies_ended"]) == (
        "accepted",
        5,
    )


def test_an_upload_is_removed_by_the_retry_when_the_first_attempt_failed_after_the_finish(
    aws, monkeypatch
):
    # given removing an upload fails once (S3 unavailable), after its delivery was marked final
    real_delete = Blobs.delete_version
    failures: list[str] = []

    def fails_once(self: Blobs, key: str, version_id: str) -> None:
        if not failures:
            failures.append(key)
            raise StoreError("delete_object: ServiceUnavailable")
        real_delete(self, key, version_id)

    monkeypatch.setattr(Blobs, "delete_version", fails_once)

    # when a delivery is processed and its message retried
    upload(f"incoming/{PARTNER}/full/e.csv", export("BSNR"))
    drain(aws["ingest_queue_url"])

    # then the retry removed the upload, and the delivery was reported once
    assert failures
    assert holding_the_bsn() == []
    assert [r["status"] for r in report(PARTNER)] == ["accepted"]


def test_a_repeated_notification_of_a_removed_upload_changes_nothing(aws):
    # given a delivery that finished and whose upload was removed
    upload(f"incoming/{PARTNER}/full/e.csv", export("BSNR"))
    sqs = boto3.client("sqs", region_name=get_settings().aws_region)
    [event] = [m for m in receive(aws["ingest_queue_url"], 10) if "Records" in m["Body"]]
    invoke("ingest", [event])
    drain(aws["ingest_queue_url"])
    before = report(PARTNER)
    assert incoming_versions() == []

    # when S3 notifies the same upload again
    sqs.purge_queue(QueueUrl=aws["ingest_queue_url"])
    answer = invoke("ingest", [event])

    # then the message succeeds and the delivery stays as it was
    assert answer["batchItemFailures"] == []
    assert report(PARTNER) == before


def as_s3_sends_it(message: dict[str, Any], version_id: str) -> dict[str, Any]:
    """With the object's versionId, as S3 sends it for a versioned bucket (moto leaves it out)."""
    body = json.loads(message["Body"])
    for record in body.get("Records", []):
        record["s3"]["object"]["versionId"] = version_id
    return {**message, "Body": json.dumps(body)}


def test_the_next_upload_under_the_same_name_is_read_whole_after_the_first_was_removed(aws):
    settings = get_settings()
    s3 = boto3.client("s3", region_name=settings.aws_region)
    sqs = boto3.client("sqs", region_name=settings.aws_region)
    queue = aws["ingest_queue_url"]
    key = f"incoming/{PARTNER}/full/portfolio.csv"

    def notified(version_id: str) -> list[dict[str, Any]]:
        messages = receive(queue, 10)
        for message in messages:
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        return [as_s3_sends_it(m, version_id) for m in messages if "Records" in m["Body"]]

    # given monday's export and tuesday's, uploaded under one name before monday's is read
    monday = s3.put_object(Bucket=settings.bucket_name, Key=key, Body=csv_bytes(portfolio(30)))
    first = notified(monday["VersionId"])
    time.sleep(0.01)
    tuesday = s3.put_object(Bucket=settings.bucket_name, Key=key, Body=csv_bytes(portfolio(40)))
    second = notified(tuesday["VersionId"])

    # when monday's delivery finishes (and its upload is removed), and then tuesday's runs
    invoke("ingest", first)
    drain(queue)
    assert incoming_versions() == [key]
    invoke("ingest", second)
    drain(queue)

    # then tuesday's delivery read its own file whole, and both uploads are gone
    reports = report(PARTNER)
    assert [(r["status"], r["rows_total"]) for r in reports] == [("accepted", 30), ("accepted", 40)]
    assert incoming_versions() == []
