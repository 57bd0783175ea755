"""Unchanged re-deliveries on moto: nothing written inside the refresh window, everything
written again with a fresh expiry outside it, and nothing else different either way."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.config import reset_settings
from chalicelib.store import aws as aws_clients
from chalicelib.store.register_items import stored_policy
from tests.support.ingest import all_items, csv_bytes, drain, portfolio, report, upload

pytestmark = pytest.mark.integration

PARTNER = "demo-volmacht"
# What says when and by which delivery an item was written (the identity evidence on the
# policy item carries when each trace was last delivered).
WHEN = {
    "data_seq",
    "seen_seq",
    "delivery_id",
    "delivered_at",
    "expires_at",
    "source_line",
    "party_traces",
}


def register() -> dict[tuple[str, str], dict[str, Any]]:
    """The register's items as read (a policy item with what its stored form leaves out)."""
    return {
        (i["pk"], i["sk"]): stored_policy(i) if i["type"] == "policy" else i
        for i in all_items()
        if i.get("type") in ("policy", "party", "lookup")
    }


def without_when(items: dict[tuple[str, str], dict[str, Any]]) -> dict[Any, dict[str, Any]]:
    return {key: {k: v for k, v in i.items() if k not in WHEN} for key, i in items.items()}


def portfolio_puts(aws: dict[str, str]) -> tuple[list[int], Any]:
    """Count the register items the app's batch writes put (a list, so a hook can add)."""
    counted = [0]

    def count(params: dict[str, Any], **_: Any) -> None:
        for requests in params["RequestItems"].values():
            counted[0] += sum(
                1
                for r in requests
                if r.get("PutRequest", {}).get("Item", {}).get("pk", {}).get("S", "")[:7]
                in ("POLICY#", "LOOKUP#")
            )

    client = aws_clients.bulk_client("dynamodb")
    client.meta.events.register("before-call.dynamodb.BatchWriteItem", count)
    return counted, lambda: client.meta.events.unregister(
        "before-call.dynamodb.BatchWriteItem", count
    )


def test_an_unchanged_redelivery_within_the_refresh_window_writes_and_changes_nothing(aws):
    # given a delivered portfolio
    upload(f"incoming/{PARTNER}/full/first.csv", csv_bytes(portfolio(40)))
    drain(aws["ingest_queue_url"])
    before = register()

    # when the same file is delivered again (well within RETENTION_REFRESH_MONTHS)
    counted, stop = portfolio_puts(aws)
    try:
        upload(f"incoming/{PARTNER}/full/again.csv", csv_bytes(portfolio(40)))
        drain(aws["ingest_queue_url"])
    finally:
        stop()

    # then no register item was written and every item is exactly as it was
    again = report(PARTNER)[-1]
    assert (again["status"], again["rows_accepted"]) == ("accepted", 40)
    assert (again["policies_unchanged"], again["policies_written"]) == (40, 0)
    assert counted == [0]
    assert register() == before


def test_an_unchanged_redelivery_outside_the_refresh_window_renews_every_expiry_only(
    aws, monkeypatch
):
    # given a delivered portfolio, and no refresh window (every re-delivery renews)
    monkeypatch.setenv("RETENTION_REFRESH_MONTHS", "0")
    reset_settings()
    upload(f"incoming/{PARTNER}/full/first.csv", csv_bytes(portfolio(40)))
    drain(aws["ingest_queue_url"])
    before = register()

    # when the same file is delivered again
    upload(f"incoming/{PARTNER}/full/again.csv", csv_bytes(portfolio(40)))
    drain(aws["ingest_queue_url"])

    # then every item was written again with the new delivery's expiry, and nothing else differs
    again = report(PARTNER)[-1]
    assert (again["policies_written"], again["policies_unchanged"]) == (40, 0)
    after = register()
    assert after.keys() == before.keys()
    assert all(after[k]["data_seq"] != before[k]["data_seq"] for k in after)
    assert all(int(after[k]["expires_at"]) >= int(before[k]["expires_at"]) for k in after)
    assert without_when(after) == without_when(before)
