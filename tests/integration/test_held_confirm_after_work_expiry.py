"""A held full delivery may be confirmed any time while its record lives (24 months), also
after the bucket's lifecycle rule `expire-work` (7 days) removed the work parts its rows left:
the confirmed delivery keeps the rejected-rows file its report already has, becomes final and
leaves its partner's lane, so the partner's next delivery is applied."""

from __future__ import annotations

import csv
import io
import time

import boto3
import pytest

from chalicelib.config import get_settings
from tests.conftest import bearer
from tests.support.ingest import csv_bytes, drain, portfolio, report, upload

pytestmark = pytest.mark.integration

PARTNER = "demo-volmacht"


def deliver(aws, name: str, data: bytes) -> dict:
    upload(f"incoming/{PARTNER}/full/{name}", data)
    drain(aws["ingest_queue_url"], max_rounds=20)
    return report(PARTNER)[-1]


def expire_work() -> int:
    """What the bucket's lifecycle rule `expire-work` does 7 days after the parts were written."""
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
