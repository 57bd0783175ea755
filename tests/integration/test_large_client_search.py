"""A client with more policies than one search reads (a lease company with a traffic policy per
vehicle under one KvK number) is found by every form, shown with the policies that fit and
`truncated`, and hides no candidate ranked behind it; coverage is decided on any of its
policies, the 120th as the first."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.ddb_calls import deliver
from tests.integration.test_client_search_body import search
from tests.integration.test_coverage_api import check
from tests.integration.test_recognition import body
from tests.support.ingest import person

pytestmark = pytest.mark.integration

PARTNER = "demo-volmacht"
KVK = "12345678"
COMPANY = {
    "PP_BRANCHE": "091",
    "PP_DEKKING": "VK",
    "PP_INGDAT": "20240101",
    "GESLACH": "R",
    "ANAAM": "Lease Nederland B.V.",
    "VOORV": "",
    "VOORL": "",
    "GEBDAT": "",
    "KVKNR": KVK,
    "STRAAT": "Stationsplein",
    "HUISNR": "10",
    "PCODE": "3511ED",
    "PLAATS": "Utrecht",
}
# The caretaker lives above the office: the same address, one policy of his own.
CARETAKER = {"ANAAM": "Smit", "GEBDAT": "19700101", "HUISNR": "10", "PCODE": "3511ED"}


def fleet(vehicles: int) -> list[dict[str, str]]:
    return [person(f"VK{n:05d}", **COMPANY) for n in range(vehicles)]


def deliver_fleet(aws: dict[str, str], vehicles: int, *extra: dict[str, str]) -> None:
    deliver(aws, PARTNER, [*fleet(vehicles), *extra])


SEARCHES = {
    "kvk": {"kvk": KVK},
    "policy_number": {"policy_number": "VK00007"},
    "address": {"postcode": "3511ED", "house_number": "10"},
}


@pytest.mark.parametrize("form", SEARCHES)
@pytest.mark.parametrize("vehicles", [20, 120])
def test_a_company_is_found_by_every_form_however_many_policies_it_has(
    api: Any, aws: dict[str, str], vehicles: int, form: str
) -> None:
    # given a lease company insured per vehicle
    deliver_fleet(aws, vehicles)

    # when the legal service centre searches its KvK number, one policy number, its address
    answer = body(search(api, SEARCHES[form]))

    # then the company is the one candidate, with its policies as far as one read holds them
    (company,) = answer["candidates"]
    assert company["kvk"] == KVK
    shown = len(company["policies"])
    assert shown == min(vehicles, 99)
    assert company["truncated"] is (vehicles > shown)
    assert answer["next_try"] is None


def test_a_policy_number_search_shows_the_searched_policy_among_those_that_fit(
    api: Any, aws: dict[str, str]
) -> None:
    # given a lease company with 120 policies
    deliver_fleet(aws, 120)

    # when its last policy is searched
    (company,) = body(search(api, {"policy_number": "VK00119"}))["candidates"]

    # then that policy is among the ones shown
    assert "VK00119" in {p["policy_number"] for p in company["policies"]}
    assert company["match"]["fields"]["policy_number"]["how"] == "exact"


def test_a_company_with_many_policies_does_not_hide_the_caretaker_at_its_address(
    api: Any, aws: dict[str, str]
) -> None:
    # given a lease company with 120 policies and the caretaker with one, at the same address
    deliver_fleet(aws, 120, person("S-1", **CARETAKER))

    # when the address is searched
    answer = body(search(api, {"postcode": "3511ED", "house_number": "10"}))

    # then both are candidates: the caretaker whole, the company cut to what is left
    by_name = {c["name"]["surname"]: c for c in answer["candidates"]}
    assert set(by_name) == {"Lease Nederland B.V.", "Smit"}
    assert [p["policy_number"] for p in by_name["Smit"]["policies"]] == ["S-1"]
    assert by_name["Smit"]["truncated"] is False
    assert len(by_name["Lease Nederland B.V."]["policies"]) == 100 - 2 - 1
    assert by_name["Lease Nederland B.V."]["truncated"] is True


def test_coverage_is_decided_on_a_policy_the_search_does_not_show(
    api: Any, aws: dict[str, str]
) -> None:
    # given a lease company with 120 policies, found by its KvK number
    deliver_fleet(aws, 120)
    (company,) = body(search(api, {"kvk": KVK}))["candidates"]
    shown = {p["policy_number"] for p in company["policies"]}
    unshown = next(f"VK{n:05d}" for n in range(120) if f"VK{n:05d}" not in shown)

    # when the company asks about a traffic case under a policy the search did not show
    response = check(
        api,
        policy_number=unshown,
        legal_area="verkeer",
        event_date="2024-06-01",
        reported_date="2024-06-10",
        client_id=company["client_id"],
    )

    # then it is covered: the company is a party on it, as on the first
    assert response.status_code == 200, response.body
    assert body(response)["decision"] == "covered", body(response)["reasons"]
