"""Least privilege: every DynamoDB action the ingest's policy (infra/policies/ingest.json) grants
is one the ingest uses. Its scenarios (full, unchanged, a mutation with a cancellation,
check-only, held for review with a partner notice) run on moto with their DynamoDB operations
recorded. (DeleteItem was granted and never used: a BatchWriteItem's deletes need only
dynamodb:BatchWriteItem; the only Table.delete caller is the mail worker, with its own policy.)"""

from __future__ import annotations

import json
import time
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import boto3
import pytest

from chalicelib.config import reset_settings
from tests.support.ingest import (
    csv_bytes,
    drain,
    person,
    portfolio,
    upload,
)

pytestmark = pytest.mark.integration

PARTNER = "demo-volmacht"
# what the ingest does with DynamoDB, as IAM names it (a transaction's puts are PutItem)
AS_IAM = {"TransactWriteItems": "PutItem"}


def granted() -> set[str]:
    document = json.loads(Path("infra/policies/ingest.json").read_text())
    actions: set[str] = set()
    for statement in document["Statement"]:
        listed = statement["Action"]
        actions.update([listed] if isinstance(listed, str) else listed)
    return {a.split(":", 1)[1] for a in actions if a.startswith("dynamodb:")}


def test_the_ingest_uses_every_dynamodb_action_its_policy_grants(aws, monkeypatch, request):
    used: set[str] = set()

    def note(model: Any, **_: Any) -> None:
        used.add(AS_IAM.get(model.name, model.name))

    boto3.setup_default_session()
    boto3.DEFAULT_SESSION.events.register("before-call.dynamodb", note)
    request.addfinalizer(
        lambda: boto3.DEFAULT_SESSION.events.unregister("before-call.dynamodb", note)
    )
    monkeypatch.setenv("INGEST_BATCH_ROWS", "25")
    monkeypatch.setenv("PARTNER_CONTACTS", f"{PARTNER}=data@example.nl")
    reset_settings()
    queue = aws["ingest_queue_url"]

    upload(f"incoming/{PARTNER}/full/m1.csv", csv_bytes(portfolio(60)))
    drain(queue)
    time.sleep(0.01)
    upload(f"incoming/{PARTNER}/full/m2.csv", csv_bytes(portfolio(60)))  # unchanged
    drain(queue)
    time.sleep(0.01)
    upload(
        f"incoming/{PARTNER}/mutation/m3.csv",
        csv_bytes([dict(person("P00001"), PP_VRWRKCD="2"), dict(person("N1"), PP_VRWRKCD="0")]),
    )
    drain(queue)
    upload(f"incoming/{PARTNER}/check/c1.csv", csv_bytes(portfolio(10)))
    drain(queue)
    time.sleep(0.01)
    upload(f"incoming/{PARTNER}/full/m4.csv", csv_bytes(portfolio(10)))  # held: notice
    drain(queue)

    # then every granted action was used but GetItem (a resume's and a duplicate event's read,
    # not run here)
    assert granted() - used == {"GetItem"}, sorted(used)


# An S3 request as IAM names the action it needs: (operation, asks for a version) -> action.
S3_AS_IAM = {
    ("GetObject", False): "s3:GetObject",
    ("GetObject", True): "s3:GetObjectVersion",
    ("HeadObject", False): "s3:GetObject",
    ("HeadObject", True): "s3:GetObjectVersion",
    ("PutObject", False): "s3:PutObject",
    ("CreateMultipartUpload", False): "s3:PutObject",
    ("UploadPart", False): "s3:PutObject",
    ("CompleteMultipartUpload", False): "s3:PutObject",
    ("AbortMultipartUpload", False): "s3:AbortMultipartUpload",
    ("DeleteObject", False): "s3:DeleteObject",
    ("DeleteObject", True): "s3:DeleteObjectVersion",
}


def granted_on_the_bucket() -> set[tuple[str, str]]:
    """(action, key pattern) pairs the ingest's policy grants in the portfolio bucket."""
    document = json.loads(Path("infra/policies/ingest.json").read_text())
    pairs: set[tuple[str, str]] = set()
    for statement in document["Statement"]:
        resource = statement["Resource"]
        text = resource.get("Fn::Sub", "") if isinstance(resource, dict) else ""
        if text.startswith("${PortfolioBucket.Arn}/"):
            pattern = text.split("/", 1)[1]
            pairs.update((action, pattern) for action in statement["Action"])
    return pairs


def test_every_s3_request_of_the_ingest_is_granted_and_every_grant_is_used(
    aws, monkeypatch, request
):
    # given the ingest's S3 requests recorded (only while it runs: not the uploads)
    used: set[tuple[str, str]] = set()
    recording: list[bool] = []

    def note(model: Any, params: dict[str, Any], **_: Any) -> None:
        if recording:
            asks_version = bool(params.get("VersionId"))
            used.add((S3_AS_IAM[(model.name, asks_version)], str(params["Key"])))

    boto3.setup_default_session()
    boto3.DEFAULT_SESSION.events.register("before-parameter-build.s3", note)
    request.addfinalizer(
        lambda: boto3.DEFAULT_SESSION.events.unregister("before-parameter-build.s3", note)
    )
    monkeypatch.setenv("INGEST_BATCH_ROWS", "25")
    reset_settings()
    queue = aws["ingest_queue_url"]

    def run() -> None:
        recording.append(True)
        drain(queue)
        recording.clear()

    # when full deliveries (with rejected rows), a check and a held delivery run
    bad = [*portfolio(60), dict(person("B1"), PCODE="1")]
    upload(f"incoming/{PARTNER}/full/m1.csv", csv_bytes(bad))
    run()
    upload(f"incoming/{PARTNER}/check/c1.csv", csv_bytes(bad))
    run()
    time.sleep(0.01)
    upload(f"incoming/{PARTNER}/full/m2.csv", csv_bytes(portfolio(10)))  # held
    run()

    # then every request is one the policy grants on that key
    grants = granted_on_the_bucket()
    for action, key in used:
        assert any(a == action and fnmatch(key, p) for a, p in grants), (action, key)
    # and every grant is used, but reading back a rejected-rows file (an error found after a
    # held delivery's confirmation) and aborting a multipart upload (one that failed)
    unused = {(a, p) for a, p in grants if not any(a == u and fnmatch(k, p) for u, k in used)}
    assert unused == {("s3:GetObject", "reports/*.csv"), ("s3:AbortMultipartUpload", "reports/*")}
