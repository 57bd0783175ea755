"""What a delivery left in the bucket's `work/` prefix (its rejected-rows and client parts)
expires by the lifecycle rule `expire-work`. A held full delivery may be confirmed any time
while its record lives (24 months): it keeps the rejected-rows file its report already has. A
delivery redriven from the dead-letter queue after its parts expired leaves them out and says
so. Either way the delivery becomes final and leaves its partner's lane, so the partner's next
delivery is applied."""

from __future__ import annotations

import csv
import io
import json
import time

import boto3
import pytest

from chalicelib.config import get_settings, reset_settings
from tests.conftest import bearer
from tests.integration.test_ingest_resume import DiesOnce
from tests.support.ingest import (
    csv_bytes,
    drain,
    invoke,
    portfolio,
    receive,
    report,
    upload,
)

pytestmark = pytest.mark.integration

PARTNER = "demo-volmacht"


def deliver(aws, name: str, data: bytes) -> dict:
    upload(f"incoming/{PARTNER}/full/{name}", data)
    drain(aws["ingest_queue_url"], max_rounds=20)
    return report(PARTNER)[-1]


def expire_work() -> int:
    """What the bucket's lifecycle rule `expire-work` does once the parts are old enough."""
    settings = get_settings()
    s3 = boto3.client("s3", region_name=settings.aws_region)
    listing = s3.list_object_versions(Bucket=settings.bucket_name, Prefix="work/")
    versions = listing.get("Versions", [])
    for version in versions:
        s3.delete_object(
            Bucket=settings.bucket_name, Key=version["Key"], VersionId=version["VersionId"]
        )
    return len(versions)


def rejected_lines(api, delivery_id: str) -> list[list[str]]:
    answer = api.http.get(f"/v1/deliveries/{delivery_id}/rejected-rows", headers=bearer("admin"))
    assert answer.status_code == 200
    return list(csv.reader(io.StringIO(answer.body.decode("utf-8-sig")), delimiter=";"))[1:]


def test_a_held_delivery_confirmed_after_its_work_parts_expired_finishes_and_frees_the_lane(
    aws, api
):
    # given ten active policies
    deliver(aws, "month1.csv", csv_bytes(portfolio(10)))
    time.sleep(0.01)
    # and a full delivery of five of them and one bad row: held for review
    rows = [*portfolio(5), dict(portfolio(1, prefix="X")[0], PCODE="12345")]
    held = deliver(aws, "month2.csv", csv_bytes(rows))
    assert (held["status"], held["rows_rejected"]) == ("held_for_review", 1)
    held_lines = rejected_lines(api, held["delivery_id"])
    assert [line[3] for line in held_lines] == ["invalid_postcode"]
    # and more than 7 days pass: the bucket's lifecycle rule removes work/
    assert expire_work() > 0

    # when an administrator confirms it
    path = f"/v1/deliveries/{held['delivery_id']}/confirm"
    assert api.http.post(path, headers=bearer("admin")).status_code == 202
    drain(aws["ingest_queue_url"], max_rounds=10)

    # then the delivery is final and its rejected-rows file still names the bad row, once
    after = api.http.get(f"/v1/deliveries/{held['delivery_id']}", headers=bearer("admin"))
    assert (after.json_body["status"], after.json_body["policies_ended"]) == (
        "accepted_with_errors",
        5,
    )
    assert rejected_lines(api, held["delivery_id"]) == held_lines

    # and the partner's next delivery is applied, not kept waiting behind it
    time.sleep(0.01)
    following = deliver(aws, "month3.csv", csv_bytes(portfolio(5)))
    assert following["object_key"].endswith("month3.csv")
    assert following["status"] == "accepted"


def test_a_delivery_redriven_after_its_work_parts_expired_ends_and_says_its_file_lacks_rows(
    aws, monkeypatch
):
    monkeypatch.setenv("INGEST_BATCH_ROWS", "25")
    reset_settings()
    queue = aws["ingest_queue_url"]
    sqs = boto3.client("sqs", region_name=get_settings().aws_region)
    # given a full delivery with a bad row in its first batch
    rows = portfolio(150)
    rows[3]["PCODE"] = "1234SS"
    upload(f"incoming/{PARTNER}/full/big.csv", csv_bytes(rows))
    [event] = [m for m in receive(queue, 10) if "Records" in json.loads(m["Body"])]
    sqs.purge_queue(QueueUrl=queue)
    # and every attempt failed after a few batches were checkpointed (the message went to the
    # dead-letter queue), and its work parts expired meanwhile
    failed = invoke("ingest", [event], DiesOnce(at=4))
    assert failed["batchItemFailures"]
    assert expire_work() > 0

    # when the cause is fixed and the message is redriven
    assert invoke("ingest", [event])["batchItemFailures"] == []
    drain(queue, max_rounds=10)

    # then the delivery is final, counts its rejected row and says the file lacks rows
    done = report(PARTNER)[-1]
    assert (done["status"], done["rows_rejected"]) == ("accepted_with_errors", 1)
    assert any("Not every rejected row" in warning for warning in done["warnings"])
    # and the partner's next delivery is applied, not kept waiting behind it
    time.sleep(0.01)
    following = deliver(aws, "next.csv", csv_bytes(portfolio(150)))
    assert (following["object_key"].split("/")[-1], following["status"]) == ("next.csv", "accepted")
