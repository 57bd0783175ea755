"""The audit log is read in pages: a busy day (more lookups than one answer holds, the legal
service centre's ordinary day) is read back whole by following `next_cursor`, newest first,
no entry missed or given twice; by day, by actor, and by actor on one day."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from chalicelib import clock
from chalicelib.auth import Principal
from chalicelib.models.paging import page_cursor
from chalicelib.services.audit import record_audit
from tests.conftest import bearer

pytestmark = pytest.mark.integration

DAY = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)


def audit_day(agents: dict[str, int]) -> None:
    """Each agent's lookups, one a second from 07:00 UTC, the agents taking turns."""
    moment = DAY
    remaining = dict(agents)
    number = 0
    while any(remaining.values()):
        for agent, left in remaining.items():
            if left:
                with clock.frozen(lambda moment=moment: moment):
                    principal = Principal(subject=agent, roles=frozenset({"jsc"}))
                    record_audit(
                        principal,
                        "POST /v1/clients/search",
                        {"policy_number": f"P{number:05d}"},
                        [],
                    )
                remaining[agent] = left - 1
                number += 1
                moment += timedelta(seconds=1)


def read_all(api: Any, **query: str) -> tuple[list[dict[str, Any]], int]:
    entries: list[dict[str, Any]] = []
    pages = 0
    cursor = None
    while True:
        params = {**query, **({"cursor": cursor} if cursor else {})}
        response = api.http.get(f"/v1/audit?{urlencode(params)}", headers=bearer("admin"))
        assert response.status_code == 200, response.body
        page = json.loads(response.body)
        pages += 1
        entries.extend(page["entries"])
        cursor = page["next_cursor"]
        if cursor is None:
            return entries, pages
        assert pages < 50


def numbers(entries: list[dict[str, Any]]) -> list[str]:
    return [e["query"]["policy_number"] for e in entries]


def test_a_day_with_more_lookups_than_a_page_is_read_back_whole_newest_first(aws, api):
    # given 520 lookups on one day
    audit_day({"agent-1": 520})

    # when an administrator reads the day 500 at a time
    entries, pages = read_all(api, date="2026-12-01", limit="500")

    # then two pages hold every lookup once, newest first
    assert pages == 2
    assert numbers(entries) == [f"P{n:05d}" for n in reversed(range(520))]


def test_an_agents_lookups_are_read_in_pages_without_the_other_agents(aws, api):
    # given two agents' lookups, interleaved in time
    audit_day({"agent-1": 30, "agent-2": 25})

    # when one agent's entries are read seven at a time, on the day and over all days
    on_the_day, day_pages = read_all(api, actor="agent-2", date="2026-12-01", limit="7")
    all_days, _ = read_all(api, actor="agent-2", limit="7")

    # then each holds exactly that agent's 25 lookups, newest first
    assert day_pages == 4
    assert [e["actor"] for e in on_the_day] == ["agent-2"] * 25
    assert numbers(all_days) == numbers(on_the_day)
    assert len(set(numbers(on_the_day))) == 25
    times = [e["at"] for e in on_the_day]
    assert times == sorted(times, reverse=True)


def test_a_page_that_ends_the_listing_offers_no_cursor(aws, api):
    # given exactly one page of lookups
    audit_day({"agent-1": 5})

    # when they are read with room to spare, and with exactly the room they need
    roomy, roomy_pages = read_all(api, date="2026-12-01", limit="10")
    exact, exact_pages = read_all(api, date="2026-12-01", limit="5")

    # then one page each, and nothing more to read
    assert (len(roomy), roomy_pages, len(exact), exact_pages) == (5, 1, 5, 1)


@pytest.mark.parametrize("cursor_day", ["2026-11-30", "2026-12-03"], ids=["earlier", "later"])
@pytest.mark.parametrize("actor", [{}, {"actor": "agent-1"}], ids=["by_day", "by_actor_on_a_day"])
def test_a_cursor_of_another_day_is_refused_as_not_of_this_listing(aws, api, cursor_day, actor):
    # given a day of lookups, and a cursor where a page of another day ended
    audit_day({"agent-1": 3})
    cursor = page_cursor(f"{cursor_day}T09:00:01.000000Z#ffffffffffffffff")

    # when the day's listing is read on from that cursor
    query = {**actor, "date": "2026-12-01", "cursor": cursor}
    response = api.http.get(f"/v1/audit?{urlencode(query)}", headers=bearer("admin"))

    # then the caller is told the cursor belongs elsewhere (no mixed days, no 503)
    assert response.status_code == 400, response.body
    assert json.loads(response.body)["error"]["code"] == "invalid_query"


def test_a_day_read_across_midnight_goes_on_in_the_day_of_its_first_page(aws, api):
    # given 520 lookups on 1 December, and the first page read that day without a date
    audit_day({"agent-1": 520})
    with clock.frozen(lambda: DAY + timedelta(hours=10)):
        first = json.loads(api.http.get("/v1/audit?limit=500", headers=bearer("admin")).body)

    # when the next page is asked for after midnight, still without a date
    with clock.frozen(lambda: DAY + timedelta(days=1, minutes=1)):
        query = urlencode({"limit": 500, "cursor": first["next_cursor"]})
        second = json.loads(api.http.get(f"/v1/audit?{query}", headers=bearer("admin")).body)

    # then it holds the rest of 1 December, not the new day's first entries
    assert second["date"] == "2026-12-01"
    assert numbers(first["entries"]) + numbers(second["entries"]) == [
        f"P{n:05d}" for n in reversed(range(520))
    ]
    assert second["next_cursor"] is None
