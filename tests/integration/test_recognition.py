"""Client recognition, dossier and policy view on moto, with data loaded through the real upload
path (so queries are normalised exactly as the ingest normalised the data)."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest

from chalicelib.config import get_settings
from chalicelib.store.register_items import lookup_entries
from tests.conftest import bearer
from tests.integration.ddb_calls import DynamoCalls, ddb_calls_fixture, deliver  # noqa: F401
from tests.support.ingest import all_items, person

pytestmark = pytest.mark.integration

VOLMACHT = "demo-volmacht"
VERZEKERAAR = "demo-verzekeraar"

HOLDER = {
    "ANAAM": "Berg",
    "VOORV": "van der",
    "VOORL": "J.P.",
    "RNAAM": "Jan",
    "GEBDAT": "19800517",
    "STRAAT": "Dorpsstraat",
    "HUISNR": "12",
    "TOEVOEG": "A",
    "PCODE": "1234AB",
    "PLAATS": "Utrecht",
    "EMAIL": "jan.vdberg@example.nl",
    "MOBIEL": "0612345678",
}
HOUSEMATE = {**HOLDER, "ENTITEIT": "SP", "ANAAM": "Visser", "VOORV": "", "VOORL": "A.",
             "RNAAM": "Anna", "GEBDAT": "19820101", "EMAIL": "", "MOBIEL": ""}  # fmt: skip


def volmacht_rows(*, with_housemate: bool = True) -> list[dict[str, str]]:
    rows = [person("P-100", PP_GEZIN="H", **HOLDER)]
    if with_housemate:
        rows.append(person("P-100", PP_GEZIN="H", **HOUSEMATE))
    rows += [
        # decoys: a similar surname with the same birth date on the same street, and another
        # Berg with another birth date elsewhere
        person("P-101", ANAAM="Bergen", VOORV="", GEBDAT="19800517", HUISNR="14", PCODE="1234AB"),
        person("P-102", ANAAM="Berg", VOORV="van den", GEBDAT="19750303", PCODE="9999ZZ"),
        # a company
        person(
            "P-103",
            PP_BRANCHE="093",
            GESLACH="R",
            ANAAM="Berg Holding B.V.",
            VOORV="",
            VOORL="",
            GEBDAT="",
            KVKNR="12345678",
            HUISNR="20",
        ),
    ]
    return rows


def verzekeraar_rows() -> list[dict[str, str]]:
    # the same person as the volmacht's holder, written the other way round, another phone
    same = {**HOLDER, "ANAAM": "BERG, van der", "VOORV": "", "EMAIL": "", "MOBIEL": "",
            "TELNUM": "020-1234567"}  # fmt: skip
    return [
        person("V-200", PP_DEKKING="RP|IN", **same),
        person("V-201", ANAAM="Jansen", VOORV="", GEBDAT="19900909", HUISNR="99"),
    ]


@pytest.fixture
def register(aws: dict[str, str]) -> dict[str, str]:
    deliver(aws, VOLMACHT, volmacht_rows())
    deliver(aws, VERZEKERAAR, verzekeraar_rows())
    return aws


def find(api: Any, **params: str) -> Any:
    return api.http.get(f"/v1/clients?{urlencode(params)}", headers=bearer("jsc"))


def body(response: Any) -> Any:
    return json.loads(response.body)


def holder_id(api: Any) -> str:
    found = body(find(api, policy_number="P-100"))["candidates"]
    return next(c["client_id"] for c in found if c["name"]["surname"].lower() == "berg")


# --- each query form --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "on"),
    [
        ({"postcode": "1234 ab", "house_number": "12a", "name": "van der berg"}, "address"),
        ({"name": "Berg, van der", "birth_date": "1980-05-17"}, "name"),
        ({"name": "vd Bérg", "birth_date": "19800517"}, "birth_date"),
        ({"phone": "+31 6 1234 5678"}, "phone"),
        ({"phone": "020 123 45 67"}, "phone"),
        ({"email": "JAN.vdBerg@Example.nl"}, "email"),
        ({"policy_number": "p-100", "partner_id": VOLMACHT}, "policy_number"),
        ({"q": "1234 ab 12-a van der Berg"}, "address"),
        ({"q": "Jan van der Berg 17 mei 1980"}, "name"),
        ({"q": "06-12345678"}, "phone"),
        ({"q": "jan.vdberg@example.nl"}, "email"),
        ({"name": "Jan Berg", "birth_date": "1980-05-17"}, "given_name"),
        ({"name": "Berg van der", "birth_date": "1980-05-17"}, "name"),
        ({"name": "Bergh", "birth_date": "1980-05-17"}, "name"),
    ],
)
def test_each_query_form_finds_the_caller_first_among_decoys(
    api: Any, register: Any, ddb_calls: DynamoCalls, params: dict[str, str], on: str
) -> None:
    # given two partners' portfolios with the caller and look-alikes
    ddb_calls.reset()

    # when the call centre searches
    response = find(api, **params)

    # then the caller is the best candidate, matched on the field searched
    assert response.status_code == 200, response.body
    candidates = body(response)["candidates"]
    best = candidates[0]
    assert best["name"]["display"].lower() == "jan van der berg"
    assert best["birth_date"] == "1980-05-17"
    assert on in best["match"]["on"]
    assert all(c["match"]["score"] <= best["match"]["score"] for c in candidates)
    # and the lookup kept the budget: at most two Queries and one BatchGetItem, then the audit
    reads = ddb_calls.reads()
    assert reads in (["Query", "BatchGetItem"], ["Query", "Query", "BatchGetItem"]), reads
    assert ddb_calls.operations.count("PutItem") == 1


def test_the_same_person_from_two_partners_is_one_candidate_with_both_policies(
    api: Any, register: Any
) -> None:
    # when the caller is searched by name and birth date
    candidates = body(find(api, name="van der Berg", birth_date="1980-05-17"))["candidates"]

    # then both partners' deliveries are one client, with both policies and their modules,
    # first and the only one with score 1.0 (Bergen born the same day is a near match after it)
    assert [c["match"]["score"] for c in candidates][:1] == [1.0]
    assert all(c["match"]["score"] < 1.0 for c in candidates[1:])
    policies = {(p["partner_id"], p["policy_number"]): p for p in candidates[0]["policies"]}
    assert set(policies) == {(VOLMACHT, "P-100"), (VERZEKERAAR, "V-200")}
    assert policies[(VERZEKERAAR, "V-200")]["modules"] == ["RP", "IN"]
    assert policies[(VOLMACHT, "P-100")]["status"] == "active"
    assert candidates[0]["match"] == {
        "score": 1.0,
        "on": ["birth_date", "name"],
        "fields": {
            "name": {"how": "exact", "similarity": None},
            "birth_date": {"how": "exact", "similarity": None},
            "address": {"how": "not given", "similarity": None},
        },
    }
    # and the candidate's address is as complete as the dossier's
    assert candidates[0]["address"]["country"] == "NL"


def test_one_client_is_shown_with_one_name_whichever_partners_policy_found_them(
    api: Any, register: Any
) -> None:
    # given the caller delivered as "Berg" + "van der" by the volmacht and as "BERG, van der"
    # by the verzekeraar
    searches = (
        {"policy_number": "P-100"},
        {"policy_number": "V-200"},
        {"postcode": "1234AB", "house_number": "12", "name": "Berg"},
    )
    # when each search finds them through another partner's items
    names = [body(find(api, **params))["candidates"][0]["name"] for params in searches]
    # then they are shown the same way every time, capitalised as a name
    assert names[0] == names[1] == names[2]
    assert names[0]["display"] == "Jan van der Berg"


def test_a_policy_number_search_shows_every_policy_and_the_first_name_any_partner_knows(
    api: Any, aws: dict[str, str], ddb_calls: DynamoCalls
) -> None:
    # given Tim el Amrani delivered with his first name by the volmacht and as "EL AMRANI",
    # initial T, by the verzekeraar
    tim = {"ANAAM": "Amrani", "VOORV": "el", "VOORL": "T.", "RNAAM": "Tim",
           "GEBDAT": "19860610", "HUISNR": "232", "PCODE": "1077XL"}  # fmt: skip
    deliver(aws, VOLMACHT, [person("P-300", **tim)])
    deliver(aws, VERZEKERAAR, [person("V-300", **{**tim, "ANAAM": "EL AMRANI", "VOORV": "",
                                                  "VOORL": "T", "RNAAM": ""})])  # fmt: skip
    ddb_calls.reset()

    # when the verzekeraar's policy number is searched
    best = body(find(api, policy_number="V-300"))["candidates"][0]

    # then he is shown as by any other form: his first name, both policies; within the budget
    assert best["name"]["display"] == "Tim el Amrani"
    assert {(p["partner_id"], p["policy_number"]) for p in best["policies"]} == {
        (VOLMACHT, "P-300"),
        (VERZEKERAAR, "V-300"),
    }
    assert best["match"]["fields"]["policy_number"]["how"] == "exact"
    assert ddb_calls.reads() == ["Query", "Query", "BatchGetItem"]


def test_an_address_search_ranks_the_named_person_above_the_housemate(
    api: Any, register: Any
) -> None:
    candidates = body(find(api, postcode="1234AB", house_number="12", name="Berg"))["candidates"]
    assert [c["name"]["surname"].lower() for c in candidates] == ["berg", "visser"]
    assert candidates[0]["match"]["score"] > candidates[1]["match"]["score"]


def test_eight_digits_in_the_search_box_are_read_as_kvk_and_as_policy_number_within_budget(
    api: Any, register: Any, ddb_calls: DynamoCalls
) -> None:
    ddb_calls.reset()
    candidates = body(find(api, q="1234 5678"))["candidates"]
    assert candidates[0]["kvk"] == "12345678"
    assert candidates[0]["match"]["fields"]["kvk"]["how"] == "exact"
    assert ddb_calls.reads() == ["Query", "Query", "BatchGetItem"]


def test_a_kvk_search_finds_the_company(api: Any, register: Any) -> None:
    candidates = body(find(api, kvk="1234.5678"))["candidates"]
    assert len(candidates) == 1
    assert candidates[0]["is_legal_entity"] is True
    assert candidates[0]["name"]["display"] == "Berg Holding B.V."
    assert candidates[0]["kvk"] == "12345678"


def test_a_search_that_matches_nobody_returns_no_candidates_and_what_to_try_next(
    api: Any, register: Any
) -> None:
    response = find(api, name="Berg", birth_date="1999-09-09")
    assert response.status_code == 200
    assert body(response)["candidates"] == []
    assert "postcode + house number" in body(response)["next_try"]
    assert "postcode + huisnummer" in body(response)["next_try_nl"]


def test_a_caller_who_moved_is_found_by_name_and_birth_date_at_the_new_address(
    api: Any, register: Any, ddb_calls: DynamoCalls
) -> None:
    # given the partners still have the old address; when the caller gives the new one
    ddb_calls.reset()
    params = {"postcode": "3511AA", "house_number": "1", "name": "van der Berg",
              "birth_date": "1980-05-17"}  # fmt: skip
    candidates = body(find(api, **params))["candidates"]

    # then the fallback to name + birth date finds them, saying the address is another one
    assert candidates[0]["birth_date"] == "1980-05-17"
    assert candidates[0]["match"]["fields"]["address"]["how"] == "other address"
    assert candidates[0]["match"]["score"] < 1.0
    assert ddb_calls.reads() == ["Query", "Query", "BatchGetItem"]


def test_a_stranger_born_the_same_day_is_not_shown(api: Any, register: Any) -> None:
    candidates = body(find(api, name="Pietersen", birth_date="1980-05-17"))["candidates"]
    assert candidates == []


@pytest.mark.parametrize(
    "params",
    [{"name": "van der Berg"}, {"postcode": "1234AB"}, {"birth_date": "1980-05-17"}, {}],
)
def test_a_too_broad_search_is_refused_with_the_forms_that_work(
    api: Any, register: Any, ddb_calls: DynamoCalls, params: dict[str, str]
) -> None:
    ddb_calls.reset()
    response = find(api, **params)
    assert response.status_code == 400
    error = body(response)["error"]
    assert error["code"] == "query_too_broad"
    assert "name + birth_date" in error["message"]
    assert ddb_calls.operations == []


# --- freshness: stale and expired data --------------------------------------------------------


def test_a_party_that_left_the_policy_is_no_longer_found(api: Any, register: Any) -> None:
    # given a newer delivery in which the housemate is no longer on the policy
    deliver(register, VOLMACHT, volmacht_rows(with_housemate=False), name="second.csv")

    # when the address is searched
    candidates = body(find(api, postcode="1234AB", house_number="12"))["candidates"]

    # then only the policyholder is found (the housemate's lookup items are stale)
    assert [c["name"]["surname"].lower() for c in candidates] == ["berg"]


def expire_policy(partner_id: str, policy_number: str) -> None:
    """Set `expires_at` in the past on every item of one policy, as if 24 months went by
    without a delivery (DynamoDB has not removed them yet)."""
    settings = get_settings()
    table = boto3.resource("dynamodb", region_name=settings.aws_region).Table(settings.table_name)
    past = int(time.time()) - 60
    for item in all_items():
        if item.get("partner_id") == partner_id and item.get("policy_number") == policy_number:
            table.put_item(Item={**item, "expires_at": past})


def test_items_whose_expiry_passed_are_invisible_to_every_read(api: Any, register: Any) -> None:
    # given the company's policy expired but is still in the table
    company = body(find(api, kvk="12345678"))["candidates"][0]["client_id"]
    expire_policy(VOLMACHT, "P-103")

    # then no search, dossier or policy view shows it
    assert body(find(api, kvk="12345678"))["candidates"] == []
    assert body(find(api, policy_number="P-103"))["candidates"] == []
    assert api.http.get(f"/v1/clients/{company}", headers=bearer("jsc")).status_code == 404
    view = api.http.get(f"/v1/policies/{VOLMACHT}/P-103", headers=bearer("jsc"))
    assert view.status_code == 404


# --- dossier and policy view ------------------------------------------------------------------


def test_the_dossier_shows_every_policy_of_the_client_at_every_partner(
    api: Any, register: Any, ddb_calls: DynamoCalls
) -> None:
    client_id = holder_id(api)
    ddb_calls.reset()

    response = api.http.get(f"/v1/clients/{client_id}", headers=bearer("jsc"))

    assert response.status_code == 200, response.body
    dossier = body(response)
    assert dossier["partners"] == [VERZEKERAAR, VOLMACHT]
    assert [(p["partner_id"], p["policy_number"], p["role"]) for p in dossier["policies"]] == [
        (VERZEKERAAR, "V-200", "VP"),
        (VOLMACHT, "P-100", "VP"),
    ]
    assert dossier["policies"][1]["household"] == "H"
    assert {p["phone"] or p["mobile"] for p in dossier["parties"]} == {
        "+31201234567",
        "+31612345678",
    }
    assert ddb_calls.reads() == ["Query", "BatchGetItem"]


@pytest.mark.parametrize("client_id", ["c_" + "0" * 24, "not-a-client-id"])
def test_an_unknown_client_is_404(api: Any, register: Any, client_id: str) -> None:
    response = api.http.get(f"/v1/clients/{client_id}", headers=bearer("admin"))
    assert response.status_code == 404
    assert body(response)["error"]["code"] == "client_not_found"


def test_the_policy_view_shows_the_policy_with_its_current_parties(
    api: Any, register: Any, ddb_calls: DynamoCalls
) -> None:
    ddb_calls.reset()
    response = api.http.get(f"/v1/policies/{VOLMACHT}/p-100", headers=bearer("jsc"))
    assert response.status_code == 200, response.body
    view = body(response)
    assert view["policy"]["policy_number"] == "P-100"
    assert view["policy"]["modules"] == ["RP", "VK", "WC"]
    assert sorted(p["role"] for p in view["parties"]) == ["SP", "VP"]
    # the policy's partition, then its parties' joins (a joined id shows the surviving one)
    assert ddb_calls.reads() == ["Query", "BatchGetItem"]


def test_a_partner_sees_its_own_policies_but_not_another_partners(api: Any, register: Any) -> None:
    own = api.http.get(f"/v1/policies/{VOLMACHT}/P-100", headers=bearer("partner", VOLMACHT))
    other = api.http.get(f"/v1/policies/{VERZEKERAAR}/V-200", headers=bearer("partner", VOLMACHT))
    assert own.status_code == 200
    assert other.status_code == 403
    assert body(other)["error"]["code"] == "not_your_partner"


def test_an_unknown_policy_is_404(api: Any, register: Any) -> None:
    response = api.http.get(f"/v1/policies/{VOLMACHT}/NOPE-1", headers=bearer("jsc"))
    assert response.status_code == 404
    assert body(response)["error"]["code"] == "policy_not_found"


def test_a_policy_number_with_slashes_opens_url_encoded_and_is_found_as_read_aloud(
    api: Any, aws: dict[str, str]
) -> None:
    # given a policy whose number contains slashes, as the file contract allows
    deliver(aws, VOLMACHT, [person("INT/2020/0042", **HOLDER)])

    # when the policy route is asked for it URL-encoded
    response = api.http.get(f"/v1/policies/{VOLMACHT}/INT%2F2020%2F0042", headers=bearer("jsc"))

    # then it opens
    assert response.status_code == 200, response.body
    assert body(response)["policy"]["policy_number"] == "INT/2020/0042"
    # and a caller reading it without prefix and separators finds the policyholder
    for spoken in ("2020 0042", "INT 2020 0042", "int-2020-0042"):
        candidates = body(find(api, policy_number=spoken))["candidates"]
        assert candidates[0]["policies"][0]["policy_number"] == "INT/2020/0042", spoken
        assert candidates[0]["match"]["fields"]["policy_number"]["how"] in ("exact", "similar")


def test_twins_on_one_policy_are_accepted_as_two_parties_and_found_apart(
    api: Any, aws: dict[str, str]
) -> None:
    # given twins Piet and Jan (same surname, birth date and address) on one household policy
    twin = {**HOLDER, "ENTITEIT": "KN", "GEBDAT": "20150303", "EMAIL": "", "MOBIEL": ""}
    rows = [
        person("P-300", PP_GEZIN="H", **HOLDER),
        person("P-300", PP_GEZIN="H", **{**twin, "VOORL": "P.", "RNAAM": "Piet"}),
        person("P-300", PP_GEZIN="H", **{**twin, "VOORL": "J.", "RNAAM": "Jan"}),
    ]
    deliver(aws, VOLMACHT, rows)

    # when the policy is opened, then it holds all three parties
    view = body(api.http.get(f"/v1/policies/{VOLMACHT}/P-300", headers=bearer("jsc")))
    assert sorted(p["name"]["first_name"] or "" for p in view["parties"]) == ["Jan", "Jan", "Piet"]

    # and asking for Jan finds Jan first, Piet after him with a different first name
    candidates = body(find(api, name="Jan van der Berg", birth_date="2015-03-03"))["candidates"]
    assert [c["name"]["first_name"] for c in candidates] == ["Jan", "Piet"]
    assert candidates[0]["match"]["score"] == 1.0
    assert candidates[1]["match"]["fields"]["given_name"]["how"] == "different"


def test_a_household_found_by_address_reads_alike_from_one_item_or_from_one_per_party(
    api: Any, register: Any
) -> None:
    # given the household's address partition, in which holder and housemate share one item
    table = boto3.resource("dynamodb", region_name=get_settings().aws_region).Table(
        get_settings().table_name
    )
    grouped = [i for i in all_items() if i["pk"] == "LOOKUP#ADDR#1234AB#12" and "parties" in i]
    assert len(grouped) == 1
    assert len(grouped[0]["parties"]) == 2
    before = body(find(api, postcode="1234AB", house_number="12", name="Berg"))

    # when it is stored as the layout before grouping stored it: one item per party
    table.delete_item(Key={"pk": grouped[0]["pk"], "sk": grouped[0]["sk"]})
    for item in lookup_entries(grouped):
        table.put_item(Item=item)

    # then the same search finds the same candidates, scored alike
    assert body(find(api, postcode="1234AB", house_number="12", name="Berg")) == before
