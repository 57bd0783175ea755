"""docs/deploy.md's "Least privilege" table names exactly the DynamoDB actions each function's
policy grants on the table, so that a reader checking least privilege reads the policy, not
more (it once listed a Delete the API role does not have)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
SHORT = {
    "Get": "GetItem",
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "Query": "Query",
    "BatchGet": "BatchGetItem",
}


def _granted_dynamodb_actions(function: str) -> set[str]:
    policy = json.loads((ROOT / "infra" / "policies" / f"{function}.json").read_text())
    return {
        action.split(":", 1)[1]
        for statement in policy["Statement"]
        for action in statement["Action"]
        if action.startswith("dynamodb:")
    }


@pytest.mark.parametrize("function", ["api_handler", "send_activation"])
def test_deploy_md_names_only_the_dynamodb_actions_the_role_has(function):
    text = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    (row,) = [line for line in text.splitlines() if line.startswith(f"| `{function}` |")]
    named = re.search(r"DynamoDB ([A-Za-z/]+) on the table", row)
    assert named is not None, row
    documented = {SHORT[word] for word in named.group(1).split("/")}
    assert documented == _granted_dynamodb_actions(function)
