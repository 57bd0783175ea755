"""Identity resolution on moto, through the real upload path and the API: one person delivered
by several partners with their noise is one candidate and one dossier; a mover keeps their
client id and their active mandate; an id joined into another keeps resolving."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.conftest import bearer
from tests.integration.ddb_calls import DynamoCalls, ddb_calls_fixture, deliver  # noqa: F401
from tests.integration.test_mandates import activated, call, submitted
from tests.support.ingest import person
from tests.support.mandates import mandate_body

pytestmark = pytest.mark.integration

VOLMACHT, VERZEKERAAR = "demo-volmacht", "demo-verzekeraar"
# The mandate tests' holder (tests/support/mandates.py), as a partner delivers her.
ANNA = {
    "ANAAM": "Berg", "VOORV": "van der", "VOORL": "A.", "RNAAM": "Anna", "GEBDAT": "19800203",
    "STRAAT": "Dorpsstraat", "HUISNR": "12", "PCODE": "1234AB", "PLAATS": "Utrecht",
}  # fmt: skip


def get(api: Any, path: str, **params: str) -> Any:
    response = api.http.get(
        f"{path}?{urlencode(params)}" if params else path, headers=bearer("jsc")
    )
    return json.loads(response.body) if response.body else None, response.status_code


def candidates(api: Any, **params: str) -> list[dict[str, Any]]:
    found, status = get(api, "/v1/clients", **params)
    assert status == 200, found
    return list(found["candidates"])


def policy_party_ids(api: Any, partner_id: str, number: str) -> list[str]:
    view, status = get(api, f"/v1/policies/{partner_id}/{number}")
    assert status == 200, view
    return [p["client_id"] for p in view["parties"]]


def test_a_client_delivered_with_a_typo_by_one_partner_is_one_candidate(api, aws):
    deliver(aws, VOLMACHT, [person("P-1", **ANNA)])
    deliver(aws, VERZEKERAAR, [person("V-1", **ANNA | {"ANAAM": "Bergg"})])

    found = candidates(api, name="Anna van der Berg", birth_date="1980-02-03")

    assert len(found) == 1
    assert {p["policy_number"] for p in found[0]["policies"]} == {"P-1", "V-1"}


def test_the_birth_name_at_one_partner_and_the_double_name_at_another_are_one_client(api, aws):
    deliver(aws, VOLMACHT, [person("P-1", **ANNA | {"ANAAM": "Schafer", "VOORV": ""})])
    double = ANNA | {"ANAAM": "Schafer-van der Meer", "VOORV": ""}
    deliver(aws, VERZEKERAAR, [person("V-1", **double)])

    [client_id] = policy_party_ids(api, VOLMACHT, "P-1")
    dossier, _ = get(api, f"/v1/clients/{client_id}")

    assert policy_party_ids(api, VERZEKERAAR, "V-1") == [client_id]
    assert {p["policy_number"] for p in dossier["policies"]} == {"P-1", "V-1"}


def test_a_company_without_kvk_at_one_partner_joins_the_one_with_kvk(api, aws):
    company = {"GESLACH": "R", "ANAAM": "Bakkerij Jansen B.V.", "VOORV": "", "VOORL": "",
               "GEBDAT": "", "HUISNR": "20", "PCODE": "3511AB"}  # fmt: skip
    deliver(aws, VOLMACHT, [person("P-1", PP_BRANCHE="093", KVKNR="12345678", **company)])
    deliver(aws, VERZEKERAAR, [person("V-1", PP_BRANCHE="093", **company)])

    [with_kvk] = candidates(api, kvk="12345678")
    dossier, _ = get(api, f"/v1/clients/{with_kvk['client_id']}")

    assert policy_party_ids(api, VERZEKERAAR, "V-1") == [with_kvk["client_id"]]
    assert {p["policy_number"] for p in dossier["policies"]} == {"P-1", "V-1"}


def test_a_client_who_moves_keeps_their_client_id_and_their_active_mandate(api, aws):
    # given Anna with an active mandate over all her contracts
    deliver(aws, VOLMACHT, [person("RB-1001", **ANNA)])
    [anna] = policy_party_ids(api, VOLMACHT, "RB-1001")
    mandate_id = submitted(api, mandate_body(anna))
    activated(api, aws, mandate_id)

    # when she moves and her partner delivers the new address
    moved = ANNA | {"STRAAT": "Nieuwe Gracht", "HUISNR": "7", "PCODE": "3512LV"}
    deliver(aws, VOLMACHT, [person("RB-1001", **moved)], name="after-move.csv")

    # then she is the same client at the new address, and her mandate still shows her contract
    assert policy_party_ids(api, VOLMACHT, "RB-1001") == [anna]
    dossier, _ = get(api, f"/v1/clients/{anna}")
    assert dossier["address"]["postcode"] == "3512LV"
    contracts = call(api, "GET", f"/v1/mandates/{mandate_id}/contracts", "portal")
    assert contracts.status_code == 200, contracts.json_body
    assert [c["policy_number"] for c in contracts.json_body["contracts"]] == ["RB-1001"]


def test_twins_on_one_policy_are_two_parties_and_the_policy_is_accepted(api, aws):
    twins = [
        person("H-1", PP_GEZIN="H", **ANNA),
        person("H-1", PP_GEZIN="H", ENTITEIT="KN", **ANNA | {"RNAAM": "Piet", "VOORL": "P.",
                                                              "GEBDAT": "20100505"}),
        person("H-1", PP_GEZIN="H", ENTITEIT="KN", **ANNA | {"RNAAM": "Jan", "VOORL": "J.",
                                                              "GEBDAT": "20100505"}),
    ]  # fmt: skip
    deliver(aws, VOLMACHT, twins)

    assert len(set(policy_party_ids(api, VOLMACHT, "H-1"))) == 3


def test_an_id_joined_into_another_keeps_resolving_to_the_client_and_their_mandate(
    api, aws, ddb_calls: DynamoCalls
):
    # given one person split over two ids: an old address and a typo at the second partner
    deliver(aws, VOLMACHT, [person("RB-1001", **ANNA)])
    split = ANNA | {"ANAAM": "Bregt", "HUISNR": "7", "PCODE": "3512LV"}
    deliver(aws, VERZEKERAAR, [person("V-1", **split)])
    [first] = policy_party_ids(api, VOLMACHT, "RB-1001")
    [second] = policy_party_ids(api, VERZEKERAAR, "V-1")
    assert first != second
    # and a mandate submitted for the second id, the policyholder of the verzekeraar's policy
    mandate_id = submitted(api, mandate_body(second))

    # when the second partner corrects the name
    deliver(aws, VERZEKERAAR, [person("V-1", **ANNA | {"HUISNR": "7", "PCODE": "3512LV"})],
            name="corrected.csv")  # fmt: skip

    # then the second id was joined into the first (given out first)
    assert policy_party_ids(api, VERZEKERAAR, "V-1") == [first]
    # and the old id opens the client's dossier, with every policy, in one index query more
    ddb_calls.reset()
    dossier, status = get(api, f"/v1/clients/{second}")
    assert status == 200
    assert dossier["client_id"] == first
    assert {p["policy_number"] for p in dossier["policies"]} == {"RB-1001", "V-1"}
    assert ddb_calls.reads() == ["Query", "Query", "BatchGetItem"]
    # and the mandate held under the old id still finds its holder and her policies: her
    # partner may read and approve it
    read = call(api, "GET", f"/v1/mandates/{mandate_id}", "partner", partner_id=VERZEKERAAR)
    assert read.status_code == 200, read.json_body
    # and the client's mandates list it under either id
    for asked in (first, second):
        listed = call(api, "GET", f"/v1/mandates?client_id={asked}", "admin")
        assert listed.status_code == 200, listed.json_body
        assert [m["mandate_id"] for m in listed.json_body["mandates"]] == [mandate_id], asked
    approve = f"/v1/mandates/{mandate_id}/approve"
    approved = call(api, "POST", approve, "partner", partner_id=VERZEKERAAR)
    assert approved.status_code == 200, approved.json_body
    # and a coverage check asked under the old id finds her on the policy (rule 7)
    asked = {"partner_id": VERZEKERAAR, "policy_number": "V-1", "event_date": "2024-06-01",
             "reported_date": "2024-06-10", "legal_area": "consument",
             "client_id": second}  # fmt: skip
    checked = call(api, "POST", "/v1/coverage-checks", "jsc", asked)
    assert checked.status_code == 200, checked.json_body
    reasons = {r["rule"]: r["outcome"] for r in checked.json_body["reasons"]}
    assert reasons["asker_is_insured"] == "pass", checked.json_body


def split_then_joined_by_a_third_partner(api: Any, aws: Any) -> tuple[str, str]:
    """Anna split over two ids (a typo and an old address at the second partner, P-1 and V-1),
    then joined by a third partner's delivery (I-1) with the name of the first and the address
    of the second; the second partner does not deliver again. (first id, second id)."""
    deliver(aws, VOLMACHT, [person("P-1", **ANNA)])
    deliver(aws, VERZEKERAAR, [person("V-1", **ANNA | {"ANAAM": "Berf", "HUISNR": "7",
                                                        "PCODE": "3512LV"})])  # fmt: skip
    [first] = policy_party_ids(api, VOLMACHT, "P-1")
    [second] = policy_party_ids(api, VERZEKERAAR, "V-1")
    assert first != second
    deliver(aws, "demo-intermediair", [person("I-1", **ANNA | {"HUISNR": "7", "PCODE": "3512LV"})])
    return first, second


def test_ids_joined_by_a_third_partner_are_one_candidate_before_the_second_delivers_again(
    api, aws, ddb_calls: DynamoCalls
):
    # given one person split over two ids, when a third partner delivers her with the name of
    # the first and the address of the second
    first, _ = split_then_joined_by_a_third_partner(api, aws)

    # then the two ids are joined, and a search finds one client with all three policies while
    # the second partner's lookups still carry the old id, within the call budget
    assert policy_party_ids(api, "demo-intermediair", "I-1") == [first]
    ddb_calls.reset()
    found = candidates(api, name="Anna van der Berg", birth_date="1980-02-03")
    assert ddb_calls.reads() == ["Query", "BatchGetItem"]
    assert [c["client_id"] for c in found] == [first]
    assert {p["policy_number"] for p in found[0]["policies"]} == {"P-1", "V-1", "I-1"}


def test_the_policyholder_found_by_the_search_is_the_policyholder_of_the_joined_policy(api, aws):
    # given Anna split over two ids, joined by a third partner's delivery; the second partner's
    # policy V-1 still holds her old id
    first, _second = split_then_joined_by_a_third_partner(api, aws)
    assert policy_party_ids(api, VERZEKERAAR, "V-1") == [first]  # as the policy view shows her

    # when the legal service centre checks V-1's coverage for her, by the id it was shown
    body = {
        "partner_id": VERZEKERAAR,
        "policy_number": "V-1",
        "event_date": "2025-06-02",
        "reported_date": "2025-06-10",
        "legal_area": "consument",
        "claim_amount_eur": 1000,
        "client_id": first,
    }
    response = api.http.post(
        "/v1/coverage-checks",
        headers={**bearer("jsc"), "Content-Type": "application/json"},
        body=json.dumps(body),
    )

    # then she is the policyholder asking: covered, rule 7 passed
    assert response.status_code == 200, response.json_body
    reasons = {r["rule"]: r["outcome"] for r in response.json_body["reasons"]}
    assert reasons.get("asker_is_insured") == "pass", response.json_body["reasons"]
    assert response.json_body["decision"] == "covered"
