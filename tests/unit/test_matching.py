"""Recognition without AWS: which partition a query reads, how names are understood, ranking."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from chalicelib.models.clients import ClientQuery
from chalicelib.rules.matching import (
    FoundItem,
    LookupPlan,
    completing_plan,
    convincing,
    is_current,
    next_try,
    plan_lookups,
    rank,
    share_one_read,
)

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


def found(plan: LookupPlan, *items: dict[str, Any]) -> list[FoundItem]:
    return [FoundItem(plan.kind, item) for item in items]


def first_plan(params: dict[str, str]) -> LookupPlan:
    plans = plan_lookups(ClientQuery.model_validate(params))
    assert plans
    return plans[0]


@pytest.mark.parametrize(
    ("params", "kind", "value"),
    [
        ({"policy_number": " p-1 ", "partner_id": "demo-volmacht"}, "POLICY", "1"),
        ({"policy_number": "VOL 9100 000001"}, "POLICY", "9100000001"),
        # only zeros after the prefix: the number as written, the key the ingest stores it under
        ({"policy_number": "vk 00000"}, "POLICY", "VK00000"),
        ({"policy_number": "0000"}, "POLICY", "0000"),
        ({"policy_number": "VK-0.000"}, "POLICY", "VK0000"),  # separators do not count
        ({"kvk": "1234 5678"}, "KVK", "12345678"),
        ({"email": " Jan@Example.NL"}, "EMAIL", "jan@example.nl"),
        ({"phone": "06-12345678"}, "PHONE", "+31612345678"),
        ({"postcode": "1234 ab", "house_number": "012a"}, "ADDR", "1234AB#12"),
        ({"name": "Berg, van der", "birth_date": "19800517"}, "DOB", "1980-05-17"),
        ({"phone": "0612345678", "name": "Berg"}, "PHONE", "+31612345678"),
    ],
)
def test_each_query_form_reads_its_own_lookup_partition_with_normalised_values(
    params: dict[str, str], kind: str, value: str
) -> None:
    plan = first_plan(params)
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
    assert plan_lookups(ClientQuery.model_validate(params)) == []


@pytest.mark.parametrize(
    "params",
    [
        {"postcode": "ABCD12"},
        {"birth_date": "1980-13-01"},
        {"phone": "12"},
        {"email": "not-an-address"},
        {"kvk": "123"},
        {"policy_number": "P 1 !"},
        {"q": ""},
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
    plan = plan_lookups(query)[0]
    housemate = lookup("c_mate", surname="Visser", surname_key="visser", birth_date="1982-01-01")
    child = lookup("c_child", birth_date="2010-02-02")
    holder = lookup("c_holder")
    ranked = rank(query, found(plan, housemate, child, holder))
    assert [c.client_id for c in ranked] == ["c_holder", "c_child", "c_mate"]
    assert ranked[0].score == 1.0
    assert ranked[0].on == ("address", "birth_date", "name")
    assert "birth_date" not in ranked[1].on
    assert ranked[2].score < ranked[1].score


def test_one_person_delivered_by_two_partners_is_one_candidate_with_both_policies() -> None:
    query = ClientQuery.model_validate({"name": "van der Berg", "birth_date": "1980-05-17"})
    plan = plan_lookups(query)[0]
    other_partner = lookup("c_1", partner_id="demo-verzekeraar", policy_number="V-9")
    ranked = rank(query, found(plan, lookup("c_1"), other_partner))
    assert len(ranked) == 1
    assert {i["partner_id"] for i in ranked[0].items} == {"demo-volmacht", "demo-verzekeraar"}


def test_a_zero_number_with_separators_also_reads_where_the_release_before_stored_it() -> None:
    # given a search for VK-00000 (stored until this release under VK-00000, now under VK00000)
    # when its partitions are planned
    plans = plan_lookups(ClientQuery.model_validate({"policy_number": "vk-00000"}))

    # then the key without separators first, that notation as the fallback
    assert plans == [LookupPlan("POLICY", "VK00000"), LookupPlan("POLICY", "VK-00000")]
    # and a number written without separators, or with a search key, reads one partition
    for number in ("VK00000", "VM-2019-073607"):
        assert len(plan_lookups(ClientQuery.model_validate({"policy_number": number}))) == 1


def test_two_numbers_of_zeros_after_the_prefix_are_not_one_policy_number() -> None:
    # given a search for VK00000 at an address where a policy numbered 0000 is stored
    query = ClientQuery.model_validate(
        {"policy_number": "VK00000", "postcode": "1234AB", "house_number": "12"}
    )
    plan = LookupPlan("ADDR", "1234AB#12")

    # when the candidates are ranked
    (candidate,) = rank(query, found(plan, lookup("c_1", policy_number="0000")))

    # then the policy number is a different one, not a near match (no search key is none alike)
    assert candidate.fields["policy_number"].how == "different"


def test_another_partner_than_asked_is_ruled_out() -> None:
    query = ClientQuery.model_validate({"policy_number": "P-1", "partner_id": "demo-volmacht"})
    plan = plan_lookups(query)[0]
    ranked = rank(query, found(plan, lookup("c_1"), lookup("c_2", partner_id="demo-verzekeraar")))
    assert [c.client_id for c in ranked] == ["c_1"]


def test_another_flat_at_the_house_number_ranks_below_the_asked_one() -> None:
    query = ClientQuery.model_validate({"postcode": "1234AB", "house_number": "12-b"})
    plan = plan_lookups(query)[0]
    flats = found(
        plan,
        lookup("c_a", house_number_addition="A"),
        lookup("c_b", house_number_addition="B"),
        lookup("c_none"),
    )
    ranked = rank(query, flats)
    assert ranked[0].client_id == "c_b"
    assert ranked[0].score == 1.0
    assert all(c.score < 1.0 and c.fields["house_number_addition"].how == "different"
               for c in ranked[1:])  # fmt: skip


@pytest.mark.parametrize(
    ("asked", "delivered"), [("12 HS", "H"), ("12-II", "2"), ("12-I", "1"), ("12 h", "HS")]
)
def test_an_addition_written_otherwise_is_a_near_match_above_a_neighbour(
    asked: str, delivered: str
) -> None:
    query = ClientQuery.model_validate({"postcode": "1234AB", "house_number": asked})
    plan = plan_lookups(query)[0]
    ranked = rank(
        query,
        found(
            plan,
            lookup("c_neighbour", house_number_addition="B"),
            lookup("c_caller", house_number_addition=delivered),
        ),
    )
    assert ranked[0].client_id == "c_caller"
    assert ranked[0].fields["house_number_addition"].how == "similar"
    assert 0.9 < ranked[0].score < 1.0


def test_on_equal_scores_the_policyholder_comes_before_the_co_insured() -> None:
    query = ClientQuery.model_validate({"policy_number": "P-1"})
    plan = plan_lookups(query)[0]
    child = lookup("c_0child", role="KN", surname_key="aaa")
    holder = lookup("c_9holder", role="VP", surname_key="zzz")
    ranked = rank(query, found(plan, child, holder))
    assert [c.client_id for c in ranked] == ["c_9holder", "c_0child"]
    assert ranked[0].score == ranked[1].score


def test_initials_given_with_the_name_raise_the_right_twin() -> None:
    query = ClientQuery.model_validate({"name": "Berg, J.", "birth_date": "1980-05-17"})
    plan = plan_lookups(query)[0]
    twin_piet = lookup("c_piet", initials="P.", first_name="Piet")
    twin_jan = lookup("c_jan", initials="J.P.", first_name="Jan")
    ranked = rank(query, found(plan, twin_piet, twin_jan))
    assert ranked[0].client_id == "c_jan"
    assert "given_name" in ranked[0].on
    assert ranked[1].fields["given_name"].how == "different"


@pytest.mark.parametrize(
    ("asked", "how"),
    [("Meyer", "phonetic"), ("Berk", "similar"), ("Berg-Meijer", "similar")],
)
def test_a_misheard_surname_still_finds_the_caller_but_never_with_score_one(
    asked: str, how: str
) -> None:
    query = ClientQuery.model_validate({"name": asked, "birth_date": "1980-05-17"})
    plan = plan_lookups(query)[0]
    caller = lookup("c_caller", surname="Meijer" if how == "phonetic" else "Berg")
    other = lookup("c_other", surname="Vos", birth_date="1980-05-17")
    ranked = rank(query, found(plan, other, caller))
    assert ranked[0].client_id == "c_caller"
    assert ranked[0].fields["name"].how == how
    assert 0.5 < ranked[0].score < 1.0


def test_the_same_surname_born_a_year_later_is_not_a_match_on_birth_date() -> None:
    query = ClientQuery.model_validate(
        {"postcode": "1234AB", "house_number": "12", "name": "Jansen", "birth_date": "1980-05-17"}
    )
    plan = plan_lookups(query)[0]
    father = lookup("c_1980", surname="Jansen")
    son = lookup("c_1981", surname="Jansen", birth_date="1981-05-17")
    ranked = rank(query, found(plan, son, father))
    assert [c.client_id for c in ranked] == ["c_1980", "c_1981"]
    assert ranked[1].fields["birth_date"].how == "different"
    assert ranked[1].score < 0.9


def test_a_mover_is_found_through_the_birth_date_with_other_address() -> None:
    query = ClientQuery.model_validate(
        {"postcode": "9999ZZ", "house_number": "1", "name": "Berg", "birth_date": "1980-05-17"}
    )
    plans = plan_lookups(query)
    assert [p.kind for p in plans] == ["ADDR", "DOB"]
    ranked = rank(query, found(plans[1], lookup("c_mover")))
    assert ranked[0].fields["address"].how == "other address"
    assert ranked[0].fields["name"].how == "exact"
    assert ranked[0].score < 1.0


def test_a_lookup_is_current_only_while_its_policy_carries_the_same_data_seq() -> None:
    item = lookup("c_1", data_seq="s2")
    assert is_current(item, {"data_seq": "s2"})
    assert not is_current(item, {"data_seq": "s3"})
    assert not is_current(item, None)


def test_a_birth_date_with_day_and_month_swapped_is_looked_up_as_the_fallback() -> None:
    # given a caller who says 03-12 for 12 March
    query = ClientQuery.model_validate({"name": "Kees Visser", "birth_date": "1980-12-03"})
    # when the partitions are planned
    plans = plan_lookups(query)
    # then the birth date as said comes first, the swapped one is the fallback
    assert [(p.kind, p.value) for p in plans] == [("DOB", "1980-12-03"), ("DOB", "1980-03-12")]


@pytest.mark.parametrize("birth_date", ["1980-03-03", "1980-03-13"])
def test_a_birth_date_that_cannot_be_swapped_reads_one_partition(birth_date: str) -> None:
    query = ClientQuery.model_validate({"name": "Kees Visser", "birth_date": birth_date})
    assert [(p.kind, p.value) for p in plan_lookups(query)] == [("DOB", birth_date)]


def test_what_to_try_next_names_each_form_tried_once() -> None:
    # given a name + birth date search that also read the swapped birth date
    query = ClientQuery.model_validate({"name": "Kees Visser", "birth_date": "1980-12-03"})
    said, dutch = next_try(query, plan_lookups(query))
    # then the advice names the form once and the forms not tried, in English and in Dutch
    assert said.count("name + birth date") == 1
    assert "postcode + house number" in said
    assert dutch.startswith(
        "niemand gevonden op naam + geboortedatum; probeer postcode + huisnummer"
    )
    assert dutch.count("naam + geboortedatum") == 1


def test_a_best_candidate_the_query_contradicts_is_not_convincing() -> None:
    # given "Yvonne Visser" asked with day and month swapped, and in the partition of the date
    # as said a Renée Visser born that day (0.82: surname and birth date exact)
    query = ClientQuery.model_validate({"name": "Yvonne Visser", "birth_date": "1967-05-03"})
    plans = plan_lookups(query)
    stranger = lookup("c_renee", surname="Visser", surname_key="visser", first_name="Renée",
                      birth_date="1967-05-03")  # fmt: skip
    ranked = rank(query, found(plans[0], stranger))
    # then her first name, which the caller contradicts, makes the partition not convincing,
    # so the swapped date is read too
    assert ranked[0].score >= 0.75
    assert not convincing(ranked)


def test_a_best_candidate_with_every_given_field_matching_is_convincing() -> None:
    query = ClientQuery.model_validate({"name": "Yvonne Visser", "birth_date": "1967-05-03"})
    caller = lookup("c_yvonne", surname="Visser", surname_key="visser", first_name="Yvonne",
                    birth_date="1967-05-03")  # fmt: skip
    assert convincing(rank(query, found(plan_lookups(query)[0], caller)))


@pytest.mark.parametrize(
    ("params", "item", "completing"),
    [
        ({"policy_number": "V-300"}, {}, ("DOB", "1980-05-17")),
        ({"phone": "0612345678"}, {}, ("DOB", "1980-05-17")),
        ({"email": "t@example.nl"}, {}, ("DOB", "1980-05-17")),
        (
            {"policy_number": "V-300"},
            {"is_legal_entity": True, "birth_date": None, "kvk": "12345678"},
            ("KVK", "12345678"),
        ),
        ({"policy_number": "V-300"}, {"is_legal_entity": True, "birth_date": None}, None),
        ({"postcode": "1234AB", "house_number": "12"}, {}, None),
        ({"name": "Berg", "birth_date": "1980-05-17"}, {}, None),
        ({"kvk": "12345678"}, {"is_legal_entity": True, "kvk": "12345678"}, None),
    ],
)
def test_a_search_that_reaches_only_some_of_the_best_clients_items_completes_them(
    params: dict[str, str], item: dict[str, Any], completing: tuple[str, str] | None
) -> None:
    # given the partition a search read and the best client it found there
    query = ClientQuery.model_validate(params)
    plans = plan_lookups(query)
    best = rank(query, found(plans[0], lookup("c_best", **item)))[0]
    # when the search asks what would show that client whole
    plan = completing_plan(plans[:1], best)
    # then a policy number, phone or e-mail search reads the client's birth date (a company's
    # KvK number); a search on an identity key (address, birth date, KvK) has them all already
    assert (None if plan is None else (plan.kind, plan.value)) == completing


def test_a_search_that_read_two_partitions_completes_nothing() -> None:
    query = ClientQuery.model_validate({"policy_number": "V-300"})
    plans = plan_lookups(query)
    best = rank(query, found(plans[0], lookup("c_best")))[0]
    assert completing_plan([*plans, LookupPlan("DOB", "1980-05-18")], best) is None


# --- one BatchGetItem for the candidates' policies and joins ---------------------------------


def policies(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{n}" for n in range(count)]


def test_candidates_whose_policies_fit_are_read_whole() -> None:
    wanted = [policies("a", 3), policies("b", 2), policies("c", 1)]
    assert share_one_read(wanted, budget=100, shown=20) == dict(enumerate(wanted))


def test_the_best_candidate_with_more_policies_than_fit_is_read_as_far_as_they_fit() -> None:
    # given a company with 120 policies as the only candidate
    wanted = [policies("vehicle", 120)]
    # when one read of 100 keys is shared (one of them its join)
    read = share_one_read(wanted, budget=100, shown=20)
    # then its first 99 policies are read: the ones found first
    assert read == {0: policies("vehicle", 99)}


def test_a_large_candidate_does_not_hide_the_smaller_ones_ranked_behind_it() -> None:
    # given a company with 120 policies ranked before two persons with 1 and 3 policies
    wanted = [policies("vehicle", 120), ["p1"], policies("q", 3)]
    # when one read of 100 keys is shared
    read = share_one_read(wanted, budget=100, shown=20)
    # then the persons are read whole and the company gets what is left
    assert read == {0: policies("vehicle", 100 - 3 - 1 - 3), 1: ["p1"], 2: policies("q", 3)}


def test_two_large_candidates_share_what_is_left_equally() -> None:
    wanted = [policies("a", 120), policies("b", 80), ["c"]]
    read = share_one_read(wanted, budget=100, shown=20)
    assert {rank: len(refs) for rank, refs in read.items()} == {0: 48, 1: 48, 2: 1}


def test_a_policy_two_candidates_share_is_read_once() -> None:
    # given a household: both partners on the same 60 policies
    wanted = [policies("h", 60), policies("h", 60)]
    # then one read holds both whole: 60 policies and two joins
    assert share_one_read(wanted, budget=100, shown=20) == {0: wanted[0], 1: wanted[1]}


def test_candidates_beyond_those_shown_are_read_whole_in_rank_order_while_they_fit() -> None:
    # given two shown candidates and three more: one too large for what is left
    wanted = [["a"], ["b"], policies("c", 96), ["d"], ["e"]]
    # when one read of 100 keys is shared with two shown
    read = share_one_read(wanted, budget=100, shown=2)
    # then the too large one is skipped, not the ones after it
    assert read == {0: ["a"], 1: ["b"], 3: ["d"], 4: ["e"]}


def test_no_more_candidates_are_read_than_have_one_policy_and_a_join_each() -> None:
    wanted = [[f"p{n}"] for n in range(80)]
    read = share_one_read(wanted, budget=100, shown=60)
    assert list(read) == list(range(50))
