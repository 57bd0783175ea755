"""The register's stored layout on moto: policy items in the layout before the 1 KB policy item
(seen_seq and first_seen_seq stored, full identity traces) and in the current one are read and
reconciled alike."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from chalicelib.config import get_settings
from chalicelib.store import keys
from chalicelib.store.register_items import POLICY_TRACES, stored_policy
from tests.support.ingest import csv_bytes, drain, portfolio, report, upload

pytestmark = pytest.mark.integration

PARTNER = "demo-volmacht"


def table() -> Any:
    return boto3.resource("dynamodb", region_name=get_settings().aws_region).Table(
        get_settings().table_name
    )


def policy(number: str) -> dict[str, Any]:
    item = table().get_item(Key={"pk": keys.policy_pk(PARTNER, number), "sk": keys.POLICY_SK})
    return dict(item["Item"])


def deliver(name: str, count: int) -> dict[str, Any]:
    upload(f"incoming/{PARTNER}/full/{name}", csv_bytes(portfolio(count)))
    drain(get_settings().ingest_queue_url)
    return report(PARTNER)[-1]


def test_a_full_delivery_ends_missing_policies_stored_in_either_layout(aws):
    # given ten delivered policies, one of which is put back as the previous layout stored it
    deliver("first.csv", 10)
    current = policy("P00008")
    assert "seen_seq" not in current
    previous = stored_policy(current)
    assert "seen_seq" in previous
    assert all("pt" in t for t in previous[POLICY_TRACES])
    table().put_item(Item=previous)

    # when the next full delivery lacks both P00008 (previous layout) and P00009 (current)
    ended = deliver("second.csv", 8)

    # then both are ended, and nothing else
    assert ended["policies_ended"] == 2
    assert {policy(n)["status"] for n in ("P00008", "P00009")} == {"removed_from_portfolio"}
    assert policy("P00007")["status"] == "active"


def test_a_policy_in_the_previous_layout_delivered_again_unchanged_is_not_written(aws):
    # given a delivered policy put back as the previous layout stored it
    deliver("first.csv", 1)
    previous = stored_policy(policy("P00000"))
    table().put_item(Item=previous)

    # when it is delivered again unchanged
    again = deliver("again.csv", 1)

    # then the layout alone does not make it a change: nothing is written
    assert (again["policies_unchanged"], again["policies_written"]) == (1, 0)
    assert policy("P00000") == previous
