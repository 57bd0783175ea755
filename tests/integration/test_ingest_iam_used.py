"""Least privilege: every DynamoDB action the ingest's policy (infra/policies/ingest.json) grants
is one the ingest uses. Its scenarios (full, unchanged, a mutation with a cancellation,
check-only, held for review with a partner notice) run on moto with their DynamoDB operations
recorded. (DeleteItem was granted and never used: a BatchWriteItem's deletes need only
dynamodb:BatchWriteItem; the only Table.delete caller is the mail worker, with its own policy.)"""

from __future__ import annotations

import json
import time
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
