"""The delivery reports are listed in pages: a partner that delivers every day (or a mutation
file every hour) reads back every delivery it made by following `next_cursor`, newest first, none
missed or given twice; an administrator reads every partner's the same way. A page also stays
small enough for a Lambda's answer when each report lists hundreds of rejected rows."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from chalicelib.models.delivery import DeliveryRecord
from chalicelib.services import deliveries as delivery_service
from chalicelib.store.deliveries import DynamoDeliveries
from tests.conftest import bearer
from tests.support.ingest import csv_bytes, drain, portfolio, upload

pytestmark = pytest.mark.integration

START = datetime(2026, 1, 1, 6, 0, tzinfo=UTC)


def delivered(aws: dict[str, str], partner_id: str, rows: list[dict[str, str]]) -> DeliveryRecord:
    """One mutation delivery of `rows`, ingested; its record as stored."""
    upload(f"incoming/{partner_id}/mutation/daily.csv", csv_bytes(rows))
    drain(aws["ingest_queue_url"])
    (record,) = DynamoDeliveries().recent(partner_id, limit=1)
    return record


def more_like(record: DeliveryRecord, count: int, *, first: int = 0, step_hours: int = 1) -> None:
    """`count` more deliveries of its partner with the same report, received an hour apart
    from START (delivery ids numbered from `first`)."""
    store = DynamoDeliveries()
    for n in range(first, first + count):
        received = START + timedelta(hours=n * step_hours)
        copy = dataclasses.replace(
            record, delivery_id=f"{n:032x}", received_at=received.isoformat()
        )
        assert store.claim(copy, now=0) is not None


def read_all(api: Any, token: dict[str, str], **query: str) -> tuple[list[dict[str, Any]], int]:
    """Every page of a listing, following next_cursor; the reports and the number of pages."""
    reports: list[dict[str, Any]] = []
    cursor = None
    for pages in range(1, 60):
        params = {**query, **({"cursor": cursor} if cursor else {})}
        response = api.http.get(f"/v1/deliveries?{urlencode(params)}", headers=token)
        assert response.status_code == 200, response.body
        page = json.loads(response.body)
        reports.extend(page["deliveries"])
        cursor = page["next_cursor"]
        if cursor is None:
            return reports, pages
    pytest.fail("the listing did not end")


def ids(reports: list[dict[str, Any]]) -> list[str]:
    return [r["delivery_id"] for r in reports]


def test_a_partner_lists_every_delivery_it_made_beyond_the_newest_200(aws, api):
    # given a partner with more deliveries than the largest page holds (230)
    record = delivered(aws, "demo-volmacht", portfolio(1))
    more_like(record, 229)

    # when it lists its deliveries 200 at a time
    reports, pages = read_all(api, bearer("partner", "demo-volmacht"), limit="200")

    # then two pages hold every one once, the oldest too, newest first
    assert pages == 2
    assert len(set(ids(reports))) == len(reports) == 230
    assert ids(reports)[-1] == f"{0:032x}"
    received = [(r["received_at"], r["delivery_id"]) for r in reports]
    assert received == sorted(received, reverse=True)


def test_an_admin_reads_every_partners_deliveries_in_pages_newest_first(aws, api):
    # given two partners' deliveries, interleaved in time (even hours one, odd the other)
    volmacht = delivered(aws, "demo-volmacht", portfolio(1))
    verzekeraar = delivered(aws, "demo-verzekeraar", portfolio(1))
    more_like(volmacht, 12, first=0, step_hours=2)
    for n in range(11):
        copy = dataclasses.replace(
            verzekeraar,
            delivery_id=f"{100 + n:032x}",
            received_at=(START + timedelta(hours=2 * n + 1)).isoformat(),
        )
        assert DynamoDeliveries().claim(copy, now=0) is not None

    # when an administrator reads all partners five at a time, and one partner three at a time
    everyone, pages = read_all(api, bearer("admin"), limit="5")
    one, _ = read_all(api, bearer("admin"), partner_id="demo-verzekeraar", limit="3")

    # then every partner's deliveries come once each, merged newest first
    assert len(everyone) == 13 + 12
    assert len(set(ids(everyone))) == 25
    assert pages == 5
    received = [(r["received_at"], r["delivery_id"]) for r in everyone]
    assert received == sorted(received, reverse=True)
    # and one partner's listing holds only its own, the same order
    assert ids(one) == [r["delivery_id"] for r in everyone if r["partner_id"] == "demo-verzekeraar"]


def test_a_cursor_of_another_listing_is_refused(aws, api):
    # given two partners with more deliveries than one page
    volmacht = delivered(aws, "demo-volmacht", portfolio(1))
    more_like(volmacht, 4)
    delivered(aws, "demo-verzekeraar", portfolio(1))
    partner = bearer("partner", "demo-volmacht")
    first = api.http.get("/v1/deliveries?limit=2", headers=partner).json_body
    every = api.http.get("/v1/deliveries?limit=2", headers=bearer("admin")).json_body

    # when another partner, and an administrator's listing of every partner, pass the first
    # partner's cursor; and the partner passes the administrator's
    other = api.http.get(
        f"/v1/deliveries?cursor={first['next_cursor']}",
        headers=bearer("partner", "demo-verzekeraar"),
    )
    admin = api.http.get(f"/v1/deliveries?cursor={first['next_cursor']}", headers=bearer("admin"))
    own = api.http.get(f"/v1/deliveries?cursor={every['next_cursor']}", headers=partner)

    # then each is a bad query, not another listing's page
    for response in (other, admin, own):
        assert response.status_code == 400, response.body
        assert response.json_body["error"]["code"] == "invalid_query"
    # while the administrator reading that partner's deliveries may read on with it
    same = api.http.get(
        f"/v1/deliveries?partner_id=demo-volmacht&limit=2&cursor={first['next_cursor']}",
        headers=bearer("admin"),
    )
    assert same.status_code == 200
    assert len(same.json_body["deliveries"]) == 2


@pytest.mark.parametrize(
    "cursor", ["x%23y", "bm90LWEtY3Vyc29y", "A" * 201, "ZGVtby12b2xtYWNodC8yMDI2"]
)
def test_a_malformed_cursor_is_400(aws, api, cursor: str):
    response = api.http.get(
        f"/v1/deliveries?cursor={cursor}", headers=bearer("partner", "demo-volmacht")
    )
    assert response.status_code == 400
    assert response.json_body["error"]["code"] == "invalid_query"


def test_a_page_of_reports_with_many_errors_stays_within_the_answer_budget(aws, api, monkeypatch):
    # given deliveries whose reports each list 200 rejected rows (tens of kB a report)
    rows = [dict(r, PP_VRWRKCD="1", MOBIEL="12") for r in portfolio(201)]
    record = delivered(aws, "demo-volmacht", rows)
    assert len(record.progress.errors) == 200
    more_like(record, 11)
    # and an answer budget of a few such reports (the real one, 5 MB, holds ~140)
    budget = 120_000
    monkeypatch.setattr(delivery_service, "LIST_PAGE_BYTES", budget)

    # when the partner lists them with the largest page it may ask for
    reports, pages = read_all(api, bearer("partner", "demo-volmacht"), limit="200")

    # then each page's reports fit in the budget (as escaped in the Lambda's answer), and the
    # pages together hold every delivery once
    assert len(set(ids(reports))) == len(reports) == 12
    assert pages > 3
    first = api.http.get("/v1/deliveries?limit=200", headers=bearer("partner", "demo-volmacht"))
    assert len(first.json_body["deliveries"]) < 12
    assert len(json.dumps(first.body.decode())) <= budget + 200
