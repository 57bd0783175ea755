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

from chalicelib.config import reset_settings
from chalicelib.models.delivery import DeliveryRecord
from chalicelib.services import deliveries as delivery_service
from chalicelib.store import keys
from chalicelib.store.deliveries import DynamoDeliveries
from chalicelib.store.table import Table
from scripts import index_deliveries
from tests.conftest import TEST_ENV, bearer
from tests.integration.ddb_calls import DynamoCalls, ddb_calls_fixture  # noqa: F401
from tests.support.ingest import csv_bytes, drain, portfolio, upload

pytestmark = pytest.mark.integration

START = datetime(2026, 1, 1, 6, 0, tzinfo=UTC)


def delivered(aws: dict[str, str], partner_id: str, rows: list[dict[str, str]]) -> DeliveryRecord:
    """One mutation delivery of `rows`, ingested; its record as stored."""
    upload(f"incoming/{partner_id}/mutation/daily.csv", csv_bytes(rows))
    drain(aws["ingest_queue_url"])
    (record,) = DynamoDeliveries().recent(partner_id, limit=1)
    return record


def more_like(
    record: DeliveryRecord,
    count: int,
    *,
    first: int = 0,
    step_hours: int = 1,
    start: datetime = START,
) -> None:
    """`count` more deliveries of its partner with the same report, received an hour apart
    from `start` (delivery ids numbered from `first`)."""
    store = DynamoDeliveries()
    for n in range(first, first + count):
        received = start + timedelta(hours=n * step_hours)
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


# --- every partner's deliveries, and the held ones -----------------------------------------------


def held_delivery(aws: dict[str, str], partner_id: str = "demo-verzekeraar") -> DeliveryRecord:
    """A full delivery held for review: it drops half of the partner's portfolio."""
    delivered_full = []
    for name, policies in (("month1.csv", 10), ("month2.csv", 5)):
        upload(f"incoming/{partner_id}/full/{name}", csv_bytes(portfolio(policies)))
        drain(aws["ingest_queue_url"])
        delivered_full.extend(DynamoDeliveries().recent(partner_id, limit=1))
    held = delivered_full[-1]
    assert held.status == "held_for_review"
    return held


def later_than(record: DeliveryRecord) -> datetime:
    return datetime.fromisoformat(record.received_at) + timedelta(hours=1)


def test_an_admin_finds_a_held_delivery_behind_200_newer_deliveries(aws, api):
    # given a held delivery, and 200 deliveries of another partner received after it
    held = held_delivery(aws)
    volmacht = delivered(aws, "demo-volmacht", portfolio(1))
    more_like(volmacht, 200, start=later_than(held))
    newest = api.http.get("/v1/deliveries?limit=200", headers=bearer("admin")).json_body
    assert held.delivery_id not in ids(newest["deliveries"])

    # when an administrator lists the held deliveries (the console's held screen)
    found, pages = read_all(api, bearer("admin"), status="held_for_review")

    # then the held one is there, alone
    assert ids(found) == [held.delivery_id]
    assert pages == 1


def test_a_confirmed_delivery_leaves_the_held_listing_and_stays_in_every_listing(aws, api):
    # given a held delivery, listed as held to the administrator and to its own partner only
    held = held_delivery(aws)
    own = bearer("partner", "demo-verzekeraar")
    assert ids(read_all(api, own, status="held_for_review")[0]) == [held.delivery_id]
    assert read_all(api, bearer("partner", "demo-volmacht"), status="held_for_review")[0] == []

    # when an administrator confirms it
    path = f"/v1/deliveries/{held.delivery_id}/confirm"
    assert api.http.post(path, headers=bearer("admin")).status_code == 202
    drain(aws["ingest_queue_url"])

    # then no delivery is held, and every listing still holds it, finished
    assert read_all(api, bearer("admin"), status="held_for_review")[0] == []
    for token, query in ((bearer("admin"), {}), (own, {})):
        (confirmed,) = [
            r for r in read_all(api, token, **query)[0] if r["delivery_id"] == held.delivery_id
        ]
        assert confirmed["status"] in ("accepted", "accepted_with_errors")


def test_a_held_listing_cursor_reads_on_only_in_a_held_listing(aws, api):
    # given two held deliveries of two partners
    first = held_delivery(aws, "demo-verzekeraar")
    second = held_delivery(aws, "demo-intermediair")
    page = api.http.get(
        "/v1/deliveries?status=held_for_review&limit=1", headers=bearer("admin")
    ).json_body

    # when the administrator reads on in the held listing, and passes its cursor to the other
    on = api.http.get(
        f"/v1/deliveries?status=held_for_review&cursor={page['next_cursor']}",
        headers=bearer("admin"),
    )
    other = api.http.get(f"/v1/deliveries?cursor={page['next_cursor']}", headers=bearer("admin"))

    # then the held listing ends with the older one, and the other listing refuses the cursor
    assert ids(page["deliveries"]) + ids(on.json_body["deliveries"]) == [
        second.delivery_id,
        first.delivery_id,
    ]
    assert on.json_body["next_cursor"] is None
    assert other.status_code == 400
    assert other.json_body["error"]["code"] == "invalid_query"


def test_a_status_other_than_held_is_a_bad_query(aws, api):
    response = api.http.get("/v1/deliveries?status=accepted", headers=bearer("admin"))

    assert response.status_code == 400
    assert response.json_body["error"]["code"] == "invalid_query"


def test_an_admin_reads_every_partners_deliveries_in_two_queries_whatever_their_number(
    aws, api, monkeypatch, ddb_calls: DynamoCalls
):
    # given 200 configured partners, three of which delivered
    many = [f"demo-p{n:03d}" for n in range(197)]
    monkeypatch.setenv("PARTNERS", ",".join(["demo-volmacht", "demo-verzekeraar", *many]))
    reset_settings()
    volmacht = delivered(aws, "demo-volmacht", portfolio(1))
    more_like(volmacht, 6)
    held = held_delivery(aws)

    # when an administrator reads every partner's first page
    ddb_calls.reset()
    page = api.http.get("/v1/deliveries?limit=5", headers=bearer("admin")).json_body

    # then the register asked two index queries (the held deliveries and the others), not one
    # per partner, and the page is every partner's newest five, the held one first
    assert ddb_calls.reads() == ["Query", "Query"]
    assert ids(page["deliveries"])[0] == held.delivery_id
    everyone, _ = read_all(api, bearer("admin"), limit="5")
    assert len(set(ids(everyone))) == len(everyone) == 1 + 6 + 2


def test_records_stored_before_the_every_partner_listing_are_listed_after_the_one_off_indexing(
    aws, api, monkeypatch, capsys
):
    # given deliveries (one held) whose records were stored without listing keys
    held = held_delivery(aws)
    finished = delivered(aws, "demo-volmacht", portfolio(1))
    for record in (*DynamoDeliveries().recent("demo-verzekeraar", limit=9), finished):
        Table().update(
            keys.delivery_pk(record.delivery_id),
            keys.DELIVERY_SK,
            UpdateExpression="REMOVE gsi1pk, gsi1sk",
        )
    assert read_all(api, bearer("admin"))[0] == []

    capsys.readouterr()  # the ingest's metrics so far

    # when the one-off indexing runs after the deploy
    index_deliveries.main(
        ["--table", TEST_ENV["TABLE_NAME"], "--region", TEST_ENV["AWS_DEFAULT_REGION"]]
    )
    for name, value in TEST_ENV.items():
        monkeypatch.setenv(name, value)
    reset_settings()

    # then it says how many it indexed, and each is listed where it belongs
    assert capsys.readouterr().out == "3 delivery records given their listing keys\n"
    assert ids(read_all(api, bearer("admin"), status="held_for_review")[0]) == [held.delivery_id]
    listed = ids(read_all(api, bearer("admin"))[0])
    assert {held.delivery_id, finished.delivery_id} <= set(listed)


def test_a_record_whose_status_changed_before_the_one_off_indexing_is_listed_after_it(aws, api):
    # given a held delivery whose record was stored without listing keys (the previous release)
    held = held_delivery(aws)
    Table().update(
        keys.delivery_pk(held.delivery_id),
        keys.DELIVERY_SK,
        UpdateExpression="REMOVE gsi1pk, gsi1sk",
    )
    # and confirmed before the one-off indexing ran
    path = f"/v1/deliveries/{held.delivery_id}/confirm"
    assert api.http.post(path, headers=bearer("admin")).status_code == 202
    drain(aws["ingest_queue_url"])

    # when the one-off indexing runs
    DynamoDeliveries().index_older_records()

    # then every partner's listing shows it, no longer held
    (listed,) = [
        r for r in read_all(api, bearer("admin"))[0] if r["delivery_id"] == held.delivery_id
    ]
    assert listed["status"] != "held_for_review"


def test_an_admin_pages_through_the_deliveries_of_no_known_partner(aws, api):
    # given more files uploaded outside any partner's folder than one page holds
    upload("incoming/export.csv", csv_bytes(portfolio(1)))
    drain(aws["ingest_queue_url"])
    (unknown,) = DynamoDeliveries().recent("_unknown", limit=1)
    more_like(unknown, 4)

    # when an administrator lists them two at a time
    reports, pages = read_all(api, bearer("admin"), partner_id="_unknown", limit="2")

    # then every page is read, each delivery once; every partner's listing holds them too
    assert pages == 3
    assert len(set(ids(reports))) == len(reports) == 5
    assert set(ids(reports)) <= set(ids(read_all(api, bearer("admin"))[0]))
