"""POST /v1/coverage-checks on moto: decisions with reasons, conditions, clauses and objection."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest

from chalicelib.config import reset_settings
from tests.conftest import bearer
from tests.integration.ddb_calls import DynamoCalls, ddb_calls_fixture, deliver  # noqa: F401
from tests.support.ingest import person

pytestmark = pytest.mark.integration

PARTNER = "demo-volmacht"
HOME = {"PCODE": "1234AB", "HUISNR": "12", "STRAAT": "Dorpsstraat", "PLAATS": "Utrecht"}
POLICY = {
    "PP_INGDAT": "20240115",
    "PP_DEKKING": "RP|VK|WC",
    "PP_GEZIN": "H",
    "PP_VOORW": "VW2024",
    "PP_CLAUSULES": "K01|K07",
}


@pytest.fixture
def register(aws: dict[str, str]) -> dict[str, str]:
    deliver(
        aws,
        PARTNER,
        [
            person("C-1", **POLICY, **HOME, ANAAM="Berg", GEBDAT="19800517"),
            person("C-2", PP_INGDAT="20240115", PP_EXPDAT="20241231", PP_DEKKING="RP|IN"),
            person("C-3", **{**POLICY, "PP_GEZIN": "A"}, ANAAM="Smit", HUISNR="40"),
        ],
    )
    # a housemate of C-1's policyholder, known to the register through another partner
    deliver(
        aws,
        "demo-verzekeraar",
        [person("V-9", **HOME, ANAAM="Visser", VOORV="", GEBDAT="19820101")],
    )
    return aws


def client_id(api: Any, **query: str) -> str:
    response = api.http.get(f"/v1/clients?{urlencode(query)}", headers=bearer("jsc"))
    candidates = json.loads(response.body)["candidates"]
    assert len(candidates) >= 1, response.body
    return str(candidates[0]["client_id"])


def check(api: Any, role: str = "jsc", **fields: Any) -> Any:
    request = {
        "partner_id": PARTNER,
        "policy_number": "C-1",
        "event_date": "2024-06-01",
        "reported_date": "2024-06-10",
        "legal_area": "consument",
        "claim_amount_eur": 500,
        **fields,
    }
    return api.http.post(
        "/v1/coverage-checks",
        body=json.dumps({k: v for k, v in request.items() if v is not None}).encode(),
        headers={**bearer(role), "Content-Type": "application/json"},
    )


def outcomes(answer: dict[str, Any]) -> dict[str, str]:
    return {r["rule"]: r["outcome"] for r in answer["reasons"]}


def test_a_policyholder_with_a_covered_case_gets_covered_with_every_reason_conditions_and_clauses(
    api: Any, register: Any, ddb_calls: DynamoCalls
) -> None:
    # given the policyholder recognised by the call centre
    holder = client_id(api, policy_number="C-1")
    ddb_calls.reset()

    # when coverage is checked for a consumer case
    response = check(api, client_id=holder)

    # then it is covered, every rule passed, with the policy's conditions and clauses
    assert response.status_code == 200, response.body
    answer = json.loads(response.body)
    assert answer["decision"] == "covered"
    assert set(outcomes(answer).values()) == {"pass"}
    assert len(answer["reasons"]) == 7
    assert all(r["message_nl"] and r["message_en"] for r in answer["reasons"])
    assert answer["conditions"] == "VW2024"
    assert answer["clauses"] == ["K01", "K07"]
    assert answer["objection"] is None
    # and the check read the policy partition once
    assert ddb_calls.reads() == ["Query"]


def test_a_legal_area_outside_the_modules_is_not_covered_with_the_objection_route(
    api: Any, register: Any
) -> None:
    answer = json.loads(check(api, legal_area="werk").body)
    assert answer["decision"] == "not_covered"
    assert outcomes(answer)["module_covers_legal_area"] == "fail"
    objection = answer["objection"]
    assert objection["reconsideration_weeks"] == 6
    assert [s["step"] for s in objection["steps"]] == ["reconsideration", "complaint", "kifid"]
    assert "Kifid" in objection["message_en"]


def test_an_unknown_policy_is_sent_to_review_so_the_intake_goes_on(api: Any, register: Any) -> None:
    answer = json.loads(check(api, policy_number="NOPE-1").body)
    assert answer["decision"] == "review"
    assert outcomes(answer)["policy_known"] == "fail"
    assert answer["policy_status"] is None
    assert answer["objection"] is None


def test_an_event_after_the_end_date_is_not_covered_and_the_policy_shows_as_ended(
    api: Any, register: Any
) -> None:
    answer = json.loads(
        check(
            api,
            policy_number="C-2",
            legal_area="werk",
            event_date="2025-01-01",
            reported_date="2025-01-02",
        ).body
    )
    assert answer["decision"] == "not_covered"
    assert outcomes(answer)["policy_in_force"] == "fail"
    assert answer["policy_status"] == "ended"


def test_a_small_claim_gets_advice_only(api: Any, register: Any) -> None:
    answer = json.loads(check(api, claim_amount_eur=174.99).body)
    assert answer["decision"] == "advice_only"
    assert answer["objection"] is not None


def test_without_a_reported_date_today_is_used_and_an_old_event_is_late(
    api: Any, register: Any
) -> None:
    answer = json.loads(check(api, reported_date=None).body)
    assert answer["reported_date"] > "2025-06-01"
    assert answer["decision"] == "review"
    assert outcomes(answer)["reported_in_time"] == "fail"


def test_a_housemate_is_insured_when_the_household_code_says_so(
    api: Any, register: Any, ddb_calls: DynamoCalls
) -> None:
    # given someone at the policyholder's address who is not on policy C-1 (household H)
    housemate = client_id(api, policy_number="V-9")
    ddb_calls.reset()

    answer = json.loads(check(api, client_id=housemate).body)

    assert answer["decision"] == "covered"
    assert outcomes(answer)["asker_is_insured"] == "pass"
    # policy partition, where the register holds the asker, whether a party's id was joined
    # into the asker's
    assert ddb_calls.reads() == ["Query", "Query", "BatchGetItem"]


def test_someone_not_on_a_single_persons_policy_goes_to_review(api: Any, register: Any) -> None:
    stranger = client_id(api, policy_number="V-9")
    answer = json.loads(check(api, policy_number="C-3", client_id=stranger).body)
    assert answer["decision"] == "review"
    assert outcomes(answer)["asker_is_insured"] == "fail"


def test_the_stage_configures_the_waiting_period(
    api: Any, register: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_start = {"event_date": "2024-01-15", "reported_date": "2024-01-16"}
    assert json.loads(check(api, **on_start).body)["decision"] == "not_covered"

    monkeypatch.setenv("WAITING_PERIOD_MONTHS", "0")
    reset_settings()

    assert json.loads(check(api, **on_start).body)["decision"] == "covered"


def test_an_unknown_partner_is_refused(api: Any, register: Any) -> None:
    response = check(api, partner_id="not-a-partner")
    assert response.status_code == 422
    assert json.loads(response.body)["error"]["code"] == "unknown_partner"


def test_an_asker_with_many_policies_is_looked_up_in_a_bounded_read(
    api: Any, register: Any
) -> None:
    # given a housemate who holds 40 policies at another partner (a household, a company)
    visser = {**HOME, "ANAAM": "Visser", "VOORV": "", "GEBDAT": "19820101"}
    deliver(register, "demo-verzekeraar", [person(f"V-{n}", **visser) for n in range(9, 49)])
    housemate = client_id(api, policy_number="V-9")
    evaluated: list[int] = []

    def on_query(parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == "Query":
            evaluated.append(int(parsed.get("ScannedCount", 0)))

    from chalicelib.store.aws import every_resource

    emitters = [r.meta.client.meta.events for r in every_resource("dynamodb")]
    for events in emitters:
        events.register("after-call.dynamodb", on_query, unique_id="test-scanned")
    try:
        # when the coverage check asks whether they are insured on C-1
        answer = json.loads(check(api, client_id=housemate).body)
    finally:
        for events in emitters:
            events.unregister("after-call.dynamodb", unique_id="test-scanned")
    # then they are (same address, household H), and the client index was read two items
    # deep, not through all 40 policies
    assert outcomes(answer)["asker_is_insured"] == "pass"
    assert len(evaluated) == 2  # the policy partition, then the asker
    assert evaluated[1] <= 2
