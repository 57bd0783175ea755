"""Every delivery report also comes as a CSV for spreadsheets (reports/<partner>/<id>.csv), with
formula-like cells neutralised; the JSON report and the stored values stay verbatim."""

from __future__ import annotations

import csv
import io
import json
import urllib.parse

import boto3
import pytest
import requests

from chalicelib.config import get_settings
from chalicelib.models.delivery import DeliveryRecord
from chalicelib.store.deliveries import DynamoDeliveries
from tests.conftest import bearer
from tests.support.ingest import all_items, csv_bytes, drain, person, report, upload

pytestmark = pytest.mark.integration

PARTNER = "demo-volmacht"


def test_the_report_csv_lists_the_errors_with_formula_like_cells_neutralised(aws):
    # given a file whose name a spreadsheet would read as a formula, with a formula-like surname
    # in a valid row and a row without a postcode
    key = f"incoming/{PARTNER}/mutation/=HYPERLINK(1+1).csv"
    rows = [
        person("F1", PP_VRWRKCD="0", ANAAM="=1+1"),
        person("F2", PP_VRWRKCD="0", PCODE="", HUISNR="2"),
    ]
    upload(key, csv_bytes(rows))

    # when it is processed
    drain(aws["ingest_queue_url"])

    # then the CSV next to the JSON report lists the error, the file name neutralised
    result = report(PARTNER)[-1]
    settings = get_settings()
    s3 = boto3.client("s3", region_name=settings.aws_region)
    csv_key = f"reports/{PARTNER}/{result['delivery_id']}.csv"
    obj = s3.get_object(Bucket=settings.bucket_name, Key=csv_key)
    assert obj["ContentType"] == "text/csv; charset=utf-8"
    text = obj["Body"].read().decode("utf-8")
    assert text.startswith("\ufeff")
    lines = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert lines[0] == ["file", "line", "column", "code", "message", "message_en"]
    assert [line[:4] for line in lines[1:]] == [["'=HYPERLINK(1+1).csv", "3", "PCODE", "required"]]

    # and the JSON report and the stored surname keep what was delivered
    assert result["object_key"] == key
    surnames = {i.get("surname") for i in all_items() if i["type"] == "party"}
    assert surnames == {"=1+1"}


def test_a_partner_downloads_its_rejected_rows_through_the_api_and_nobody_else_does(aws, api):
    # given a delivery with one rejected row
    upload(
        f"incoming/{PARTNER}/mutation/export.csv",
        csv_bytes([person("F1", PP_VRWRKCD="0"), person("F2", PP_VRWRKCD="0", PCODE="")]),
    )
    drain(aws["ingest_queue_url"])
    delivery_id = report(PARTNER)[-1]["delivery_id"]
    path = f"/v1/deliveries/{delivery_id}/rejected-rows"

    # when the partner asks for its rejected rows
    own = api.http.get(path, headers=bearer("partner", PARTNER))

    # then it gets the CSV the ingest kept beside the report, as a download
    assert own.status_code == 200
    assert own.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert own.headers["Content-Disposition"] == f'attachment; filename="{delivery_id}.csv"'
    lines = list(csv.reader(io.StringIO(own.body.decode("utf-8").lstrip("\ufeff")), delimiter=";"))
    assert [line[:4] for line in lines[1:]] == [["export.csv", "3", "PCODE", "required"]]
    settings = get_settings()
    s3 = boto3.client("s3", region_name=settings.aws_region)
    kept = s3.get_object(Bucket=settings.bucket_name, Key=f"reports/{PARTNER}/{delivery_id}.csv")
    assert kept["Body"].read() == own.body

    # and another partner gets the answer of an unknown delivery, the call centre none
    other = api.http.get(path, headers=bearer("partner", "demo-verzekeraar"))
    assert (other.status_code, json.loads(other.body)["error"]["code"]) == (
        404,
        "delivery_not_found",
    )
    assert api.http.get(path, headers=bearer("jsc")).status_code == 403


def stored_csv_lines(delivery_id: str) -> list[list[str]]:
    settings = get_settings()
    s3 = boto3.client("s3", region_name=settings.aws_region)
    key = f"reports/{PARTNER}/{delivery_id}.csv"
    text = s3.get_object(Bucket=settings.bucket_name, Key=key)["Body"].read().decode("utf-8")
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))


def test_the_csv_holds_every_rejected_row_while_the_report_lists_the_first(aws, monkeypatch):
    # given a stage whose reports list 5 errors, and an export with 30 bad postcodes
    monkeypatch.setenv("MAX_REPORT_ERRORS", "5")
    monkeypatch.setenv("INGEST_BATCH_ROWS", "25")
    rows = [
        person(f"B{i:03d}", HUISNR=str(i + 1), PCODE="1" if i % 2 else "1234AB") for i in range(60)
    ]
    upload(f"incoming/{PARTNER}/full/export.csv", csv_bytes(rows))

    # when it is processed
    drain(aws["ingest_queue_url"])

    # then the report lists 5 and counts 30, and the CSV beside it holds all 30, in order
    result = report(PARTNER)[-1]
    assert (len(result["errors"]), result["error_counts"]) == (5, {"invalid_postcode": 30})
    lines = stored_csv_lines(result["delivery_id"])
    assert [(line[1], line[3]) for line in lines[1:]] == [
        (str(i + 2), "invalid_postcode") for i in range(1, 60, 2)
    ]


def test_a_large_rejected_rows_file_is_handed_out_as_a_short_lived_link(aws, api, monkeypatch):
    # given a delivery whose rejected-rows file is larger than the API answers itself
    from chalicelib.services import deliveries

    monkeypatch.setattr(deliveries, "INLINE_REJECTED_ROWS_BYTES", 100)
    upload(f"incoming/{PARTNER}/full/export.csv", csv_bytes([person("F1", PCODE="1")]))
    drain(aws["ingest_queue_url"])
    delivery_id = report(PARTNER)[-1]["delivery_id"]

    # when the partner asks for it
    answer = api.http.get(
        f"/v1/deliveries/{delivery_id}/rejected-rows", headers=bearer("partner", PARTNER)
    )

    # then it gets a link to the file, valid 5 minutes, that downloads it under its id
    assert answer.status_code == 303
    link = urllib.parse.urlsplit(answer.headers["Location"])
    query = urllib.parse.parse_qs(link.query)
    assert link.path.endswith(f"/reports/{PARTNER}/{delivery_id}.csv")
    assert query["X-Amz-Expires"] == ["300"]
    assert query["response-content-disposition"] == [f'attachment; filename="{delivery_id}.csv"']
    assert answer.headers["Cache-Control"] == "no-store"


def test_a_rejected_rows_file_of_many_megabytes_is_put_together_in_parts(aws):
    # given three parts of 5 MB each, more than one upload part holds
    from chalicelib.store.blobs import Blobs

    blobs = Blobs()
    settings = get_settings()
    s3 = boto3.client("s3", region_name=settings.aws_region)
    parts = []
    for n in range(3):
        key = f"work/d/rejected/{n:06d}"
        s3.put_object(Bucket=settings.bucket_name, Key=key, Body=bytes([65 + n]) * 5_000_000)
        parts.append(key)

    # when they are put together behind a head
    blobs.concatenate("reports/p/d.csv", b"head\n", parts, content_type="text/csv")

    # then the file is the head and the parts in order, written as a multipart upload
    stored = s3.get_object(Bucket=settings.bucket_name, Key="reports/p/d.csv")
    assert (
        stored["Body"].read() == b"head\n" + b"A" * 5_000_000 + b"B" * 5_000_000 + b"C" * 5_000_000
    )
    assert stored["ETag"].strip('"').endswith("-2")
    assert stored["ContentType"] == "text/csv"


def test_a_file_of_many_megabytes_gets_more_parts_appended_to_its_first_bytes(aws):
    # given a rejected-rows file of 17 MB (more than two upload parts) with a stray tail
    from chalicelib.store.blobs import Blobs, Prefix

    blobs = Blobs()
    settings = get_settings()
    s3 = boto3.client("s3", region_name=settings.aws_region)
    kept = b"head\n" + b"A" * 17_000_000
    s3.put_object(Bucket=settings.bucket_name, Key="reports/p/d.csv", Body=kept + b"stray\n")
    s3.put_object(Bucket=settings.bucket_name, Key="work/d/rejected/000001", Body=b"B" * 10)

    # when a later part is appended to its first bytes (the file itself is read as it is written)
    size = blobs.concatenate(
        "reports/p/d.csv",
        Prefix("reports/p/d.csv", len(kept)),
        ["work/d/rejected/000001"],
        content_type="text/csv",
    )

    # then the file is its first bytes and the part, and its size is told
    stored = s3.get_object(Bucket=settings.bucket_name, Key="reports/p/d.csv")["Body"].read()
    assert stored == kept + b"B" * 10
    assert size == len(stored)


def test_a_page_gets_a_link_to_a_large_rejected_rows_file_that_downloads_it_whole(aws, api):
    # given a finished delivery whose rejected-rows file is 6 MB (over what the API answers)
    upload(f"incoming/{PARTNER}/full/export.csv", csv_bytes([person("L1", PCODE="1")]))
    drain(aws["ingest_queue_url"])
    delivery_id = report(PARTNER)[-1]["delivery_id"]
    settings = get_settings()
    s3 = boto3.client("s3", region_name=settings.aws_region)
    large = stored_csv_lines(delivery_id)[0:1] + [
        ["export.csv", str(line), "PCODE", "invalid_postcode", "Postcode ongeldig", "bad"]
        for line in range(2, 110_000)
    ]
    body = "\ufeff" + "\r\n".join(";".join(cells) for cells in large) + "\r\n"
    key = f"reports/{PARTNER}/{delivery_id}.csv"
    s3.put_object(Bucket=settings.bucket_name, Key=key, Body=body.encode())
    assert len(body.encode()) > 6 * 1024 * 1024
    path = f"/v1/deliveries/{delivery_id}/rejected-rows"
    assert api.http.get(path, headers=bearer("partner", PARTNER)).status_code == 303

    # when the partner's page asks for the link to it (as JSON: a page's fetch cannot follow
    # the 303 to the bucket, another origin)
    answer = api.http.get(f"{path}/link", headers=bearer("partner", PARTNER))

    # then it gets a link valid 5 minutes that names only the partner and the delivery
    assert answer.status_code == 200
    link = json.loads(answer.body)
    assert (link["file_name"], link["expires_in"]) == (f"{delivery_id}.csv", 300)
    address = urllib.parse.urlsplit(link["url"])
    assert address.path.endswith(f"/reports/{PARTNER}/{delivery_id}.csv")
    query = urllib.parse.parse_qs(address.query)
    assert query["X-Amz-Expires"] == ["300"]
    assert query["response-content-disposition"] == [f'attachment; filename="{delivery_id}.csv"']
    assert answer.headers["Cache-Control"] == "no-store"

    # and opening the link without any token downloads the whole file as a CSV attachment
    downloaded = requests.get(link["url"], timeout=10)
    assert downloaded.status_code == 200
    assert downloaded.content == body.encode()
    assert downloaded.headers["Content-Disposition"] == f'attachment; filename="{delivery_id}.csv"'


def claim_running(delivery_id: str) -> str:
    """A delivery of the partner that is still running (claimed, leased, no file yet)."""
    DynamoDeliveries().claim(
        DeliveryRecord(
            delivery_id=delivery_id,
            partner_id=PARTNER,
            kind="full",
            bucket=get_settings().bucket_name,
            object_key=f"incoming/{PARTNER}/full/next.csv",
            received_at="2026-03-02T09:00:00+00:00",
            seq="20260302T090000.000000#1",
            expires_at=2_000_000_000,
            lease_until=2_000_000_000,
        ),
        now=1_800_000_000,
    )
    return delivery_id


def test_the_link_is_only_for_the_partners_own_finished_deliveries(aws, api):
    # given a finished delivery of demo-volmacht, and one of its deliveries still running
    upload(f"incoming/{PARTNER}/full/export.csv", csv_bytes([person("L1", PCODE="1")]))
    drain(aws["ingest_queue_url"])
    finished = report(PARTNER)[-1]["delivery_id"]
    running = claim_running("0" * 32)

    def ask(delivery_id: str, *token: str) -> tuple[int, str]:
        answer = api.http.get(
            f"/v1/deliveries/{delivery_id}/rejected-rows/link", headers=bearer(*token)
        )
        document = json.loads(answer.body)
        return answer.status_code, document.get("error", {}).get("code", "")

    # then another partner learns nothing of it, the call centre may not ask, the admin may
    assert ask(finished, "partner", "demo-verzekeraar") == (404, "delivery_not_found")
    assert ask(finished, "jsc")[0] == 403
    assert ask(finished, "admin") == (200, "")
    # and a delivery still running has no file yet: it says so
    assert ask(running, "partner", PARTNER) == (409, "delivery_not_finished")


def test_a_running_delivery_is_told_apart_by_its_record_not_by_asking_s3(aws, api, monkeypatch):
    # given S3 answering a HeadObject of a missing key with 403, as AWS does to a role that may
    # not list the bucket (the API's may read reports/*.csv only; moto enforces no IAM)
    from chalicelib.errors import StoreError
    from chalicelib.store.blobs import Blobs

    size = Blobs.size

    def as_on_aws(blobs: Blobs, key: str) -> int | None:
        found = size(blobs, key)
        if found is None:
            raise StoreError("head_object: 403")
        return found

    monkeypatch.setattr(Blobs, "size", as_on_aws)
    # and a delivery still running, with no rejected-rows file yet
    running = claim_running("1" * 32)
    path = f"/v1/deliveries/{running}/rejected-rows"

    # when its partner asks for the file and for the link to it
    rows = api.http.get(path, headers=bearer("partner", PARTNER))
    link = api.http.get(f"{path}/link", headers=bearer("partner", PARTNER))

    # then it gets the rows so far (none yet: the header) and "not finished", not 503
    assert rows.status_code == 200
    assert rows.body.decode("utf-8").lstrip("\ufeff").startswith("file;line;column;code")
    assert (link.status_code, json.loads(link.body)["error"]["code"]) == (
        409,
        "delivery_not_finished",
    )
