"""Recognition without AWS: which partition a query reads, how names are understood, ranking."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from chalicelib.models.clients import ClientQuery
from chalicelib.rules.matching import NameQuery, is_current, parse_name, plan_lookup, rank

pytestmark = pytest.mark.unit


def lookup(client: str, **fields: Any) -> dict[str, Any]:
    item = {
        "client_id": client,
        "partner_id": "demo-volmacht",
        "policy_number": "P-1",
        "surname": "Berg",
        "surname_key": "berg",
        "birth_date": "1980-05-17",
        "postcode": "1234AB",
        "house_number": "12",
        "data_seq": "s1",
    }
    item.update(fields)
    return item


@pytest.mark.parametrize(
    "written",
    ["Van der Berg", "Berg, van der", "vd Berg", "VAN DER BERG", "van der  Bérg", "  berg "],
)
def test_a_surname_is_understood_whatever_the_case_accents_spacing_or_tussenvoegsel_position(
    written: str,
) -> None:
    assert parse_name(written) == NameQuery("berg")


@pytest.mark.parametrize(
    ("written", "given"),
    [
        ("Berg, Jan", "jan"),
        ("Berg, J.P. van der", "jp"),
        ("Jan van der Berg", "jan"),
        ("J.P. Berg", "jp"),
        ("J van den Berg", "j"),
    ],
)
def test_a_first_name_or_initials_can_come_with_the_surname(written: str, given: str) -> None:
    assert parse_name(written) == NameQuery("berg", given)


def test_a_name_without_comma_tussenvoegsels_or_initials_is_one_surname() -> None:
    assert parse_name("Jansen Smit") == NameQuery("jansensmit")


def test_a_name_with_nothing_left_to_match_is_not_a_name() -> None:
    assert parse_name("...") is None


@pytest.mark.parametrize(
    ("params", "kind", "value"),
    [
        ({"policy_number": " p-1 ", "partner_id": "demo-volmacht"}, "POLICY", "P-1"),
        ({"kvk": "1234 5678"}, "KVK", "12345678"),
        ({"email": " Jan@Example.NL"}, "EMAIL", "jan@example.nl"),
        ({"phone": "06-12345678"}, "PHONE", "+31612345678"),
        ({"postcode": "1234 ab", "house_number": "012a"}, "ADDR", "1234AB#12"),
        ({"name": "Berg, van der", "birth_date": "19800517"}, "NAMEDOB", "berg#1980-05-17"),
        ({"phone": "0612345678", "name": "Berg"}, "PHONE", "+31612345678"),
    ],
)
def test_each_query_form_reads_its_own_lookup_partition_with_normalised_values(
    params: dict[str, str], kind: str, value: str
) -> None:
    plan = plan_lookup(ClientQuery.model_validate(params))
    assert plan is not None
    assert (plan.kind, plan.value) == (kind, value)


@pytest.mark.parametrize(
    "params",
    [
        {"name": "Van der Berg"},
        {"postcode": "1234AB"},
        {"birth_date": "1980-05-17"},
        {"house_number": "12"},
        {"name": "Berg", "postcode": "1234AB"},
        {"partner_id": "demo-volmacht"},
        {},
    ],
)
def test_a_query_without_a_selective_form_is_too_broad(params: dict[str, str]) -> None:
    assert plan_lookup(ClientQuery.model_validate(params)) is None


@pytest.mark.parametrize(
    "params",
    [
        {"postcode": "ABCD12"},
        {"birth_date": "1980-13-01"},
        {"phone": "12"},
        {"email": "not-an-address"},
        {"kvk": "123"},
        {"policy_number": "P 1 !"},
        {"house_number": "twelve", "postcode": "1234AB"},
        {"nickname": "Bert"},
    ],
)
def test_invalid_query_values_and_unknown_parameters_are_refused(params: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        ClientQuery.model_validate(params)


def test_the_person_matching_every_given_field_ranks_first_with_score_one() -> None:
    query = ClientQuery.model_validate(
        {"postcode": "1234AB", "house_number": "12", "name": "Berg", "birth_date": "1980-05-17"}
    )
    plan = plan_lookup(query)
    assert plan is not None
    housemate = lookup("c_mate", surname="Visser", surname_key="visser", birth_date="1982-01-01")
    child = lookup("c_child", birth_date="2010-02-02")
    holder = lookup("c_holder")
    ranked = rank(query, plan, [housemate, child, holder])
    assert [c.client_id for c in ranked] == ["c_holder", "c_child", "c_mate"]
    assert ranked[0].score == 1.0
    assert ranked[0].on == ("address", "birth_date", "name")
    assert "birth_date" not in ranked[1].on
    assert ranked[2].score < ranked[1].score


def test_one_person_delivered_by_two_partners_is_one_candidate_with_both_policies() -> None:
    query = ClientQuery.model_validate({"name": "van der Berg", "birth_date": "1980-05-17"})
    plan = plan_lookup(query)
    assert plan is not None
    ranked = rank(
        query,
        plan,
        [lookup("c_1"), lookup("c_1", partner_id="demo-verzekeraar", policy_number="V-9")],
    )
    assert len(ranked) == 1
    assert {i["partner_id"] for i in ranked[0].items} == {"demo-volmacht", "demo-verzekeraar"}


def test_partner_and_a_different_flat_narrow_the_candidates() -> None:
    by_partner = ClientQuery.model_validate({"policy_number": "P-1", "partner_id": "demo-volmacht"})
    plan = plan_lookup(by_partner)
    assert plan is not None
    found = rank(by_partner, plan, [lookup("c_1"), lookup("c_2", partner_id="demo-verzekeraar")])
    assert [c.client_id for c in found] == ["c_1"]

    flat = ClientQuery.model_validate({"postcode": "1234AB", "house_number": "12-b"})
    plan = plan_lookup(flat)
    assert plan is not None
    found = rank(
        flat,
        plan,
        [
            lookup("c_a", house_number_addition="A"),
            lookup("c_b", house_number_addition="B"),
            lookup("c_none"),
        ],
    )
    assert [c.client_id for c in found] == ["c_b", "c_none"]
    assert found[0].score > found[1].score


def test_on_equal_scores_the_policyholder_comes_before_the_co_insured() -> None:
    query = ClientQuery.model_validate({"policy_number": "P-1"})
    plan = plan_lookup(query)
    assert plan is not None
    child = lookup("c_0child", role="KN", surname_key="aaa")
    holder = lookup("c_9holder", role="VP", surname_key="zzz")
    ranked = rank(query, plan, [child, holder])
    assert [c.client_id for c in ranked] == ["c_9holder", "c_0child"]
    assert ranked[0].score == ranked[1].score


def test_initials_given_with_the_name_raise_the_right_person() -> None:
    query = ClientQuery.model_validate({"name": "Berg, J.", "birth_date": "1980-05-17"})
    plan = plan_lookup(query)
    assert plan is not None
    twin_piet = lookup("c_piet", initials="P.", first_name="Piet")
    twin_jan = lookup("c_jan", initials="J.P.", first_name="Jan")
    ranked = rank(query, plan, [twin_piet, twin_jan])
    assert ranked[0].client_id == "c_jan"
    assert "given_name" in ranked[0].on


def test_a_lookup_is_current_only_while_its_policy_carries_the_same_data_seq() -> None:
    item = lookup("c_1", data_seq="s2")
    assert is_current(item, {"data_seq": "s2"})
    assert not is_current(item, {"data_seq": "s3"})
    assert not is_current(item, None)
