"""The IAM policy files grant each function only the DynamoDB actions its code uses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

POLICIES = Path(__file__).resolve().parents[2] / "infra" / "policies"


def dynamodb_actions(function: str) -> set[str]:
    document = json.loads((POLICIES / f"{function}.json").read_text())
    actions: set[str] = set()
    for statement in document["Statement"]:
        listed = statement["Action"]
        actions.update(a for a in ([listed] if isinstance(listed, str) else listed))
    return {a for a in actions if a.startswith("dynamodb:")}


@pytest.mark.parametrize("function", ["api_handler", "ingest", "send_activation"])
def test_no_function_may_scan_the_table(function):
    assert "dynamodb:Scan" not in dynamodb_actions(function)


def test_the_api_may_read_and_update_but_never_delete_or_batch_write():
    assert dynamodb_actions("api_handler") == {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:Query",
        "dynamodb:BatchGetItem",
    }
