"""Every delivery report also comes as a CSV for spreadsheets (reports/<partner>/<id>.csv), with
formula-like cells neutralised; the JSON report and the stored values stay verbatim."""

from __future__ import annotations

import csv
import io
import json

import boto3
import pytest

from chalicelib.config import get_settings
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
