"""Who a party is: twins are two people, a repeated row is one; one person delivered with the
noise of several partners and of time is one client, and two people never are."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.models.portfolio import PartyFields
from chalicelib.rules.identity import (
    MAX_VARIANTS,
    SAME_GIVEN,
    TRACE_REFRESH_SECONDS,
    Bucket,
    PolicyToResolve,
    Trace,
    bucket_keys,
    client_id_for,
    client_identity,
    company_key,
    conflicts,
    evidence,
    given_agreement,
    lookup_keys,
    policy_identities,
    pseudonym,
    resolve_policy,
    told_apart,
    trace_of,
)

pytestmark = pytest.mark.unit


def party(**fields: Any) -> PartyFields:
    base = PartyFields(
        role="KN", is_legal_entity=False, surname="Berg", surname_key="berg",
        birth_date="2015-03-03", postcode="1234AB", house_number="12",
    )  # fmt: skip
    return replace(base, **fields)


def test_given_parties_with_their_own_identities_then_those_are_kept() -> None:
    parent, child = party(role="VP", birth_date="1980-01-01"), party()
    assert policy_identities([parent, child]) == [client_identity(parent), client_identity(child)]


def test_given_twins_with_other_first_names_then_they_are_told_apart_by_them() -> None:
    piet, jan = party(first_name="Piet", initials="P."), party(first_name="Jan", initials="J.")
    identities = policy_identities([piet, jan])
    assert identities is not None
    assert len(set(identities)) == 2
    assert client_id_for(piet, "k", identities[0]) != client_id_for(jan, "k", identities[1])


def test_given_the_same_person_twice_then_they_cannot_be_told_apart() -> None:
    assert policy_identities([party(initials="J."), party(initials="J.")]) is None


a_party = st.builds(
    party,
    is_legal_entity=st.booleans(),
    surname_key=st.sampled_from(["berg", "bergh", "b"]),
    birth_date=st.sampled_from([None, "1980-01-01", "2015-03-03"]),
    postcode=st.sampled_from([None, "1234AB", "12|34"]),
    house_number=st.sampled_from(["12", "1"]),
    kvk=st.sampled_from([None, "12345678"]),
    initials=st.sampled_from([None, "J."]),
    first_name=st.sampled_from([None, "Jan", "Piet"]),
)


@given(st.lists(a_party, max_size=5))
def test_told_apart_decides_as_the_identities_of_the_policy_would(parties):
    # the shortcut for persons of other names or birth dates agrees with building identities
    assert told_apart(parties) == (policy_identities(parties) is not None)


# --- evidence: one person through the noise of partners and time ----------------------------


def person(**fields: Any) -> Trace:
    base = {
        "client_id": "c_known",
        "legal": False,
        "surname": "Jansen",
        "first_name": "kees",
        "initials": "k",
        "birth_date": "1980-03-12",
        "postcode": "1077XL",
        "house_number": "232",
    }
    return Trace(**(base | fields))


def company(**fields: Any) -> Trace:
    base = {
        "client_id": "c_company",
        "legal": True,
        "surname": "Bakkerij Jansen B.V.",
        "kvk": "12345678",
        "postcode": "3511AB",
        "house_number": "5",
    }
    return Trace(**(base | fields))


@pytest.mark.parametrize(
    ("known", "delivered"),
    [
        pytest.param(person(), person(), id="the same delivery"),
        pytest.param(person(), person(surname="Janssen"), id="a spelling variant"),
        pytest.param(person(surname="Meijer"), person(surname="Meyer"), id="ij and y"),
        pytest.param(person(surname="Aydin"), person(surname="Ayydin"), id="a typo"),
        pytest.param(person(surname="Visser"), person(surname="Vsiser"), id="swapped letters"),
        pytest.param(person(surname="Müller"), person(surname="Mueller"), id="ue for u umlaut"),
        pytest.param(
            person(surname="Schafer"),
            person(surname="Schafer-van der Meer"),
            id="the birth name at one partner, the double name at another",
        ),
        pytest.param(
            person(surname="Berg", tussenvoegsels="van der"),
            person(surname="Berg", tussenvoegsels="van den"),
            id="another tussenvoegsel",
        ),
        pytest.param(person(), person(postcode="3511AB", house_number="5"), id="another address"),
        pytest.param(
            person(first_name="", initials="k"), person(first_name="kees"), id="initial and name"
        ),
        pytest.param(
            person(surname="Jansen", postcode="3511AB", contacts=frozenset({"+31612345678"})),
            person(surname="Jansn", contacts=frozenset({"+31612345678"})),
            id="a typo and a move, with the same phone number",
        ),
        pytest.param(
            person(surname="Meijerr"), person(surname="Mnijer"), id="two partners' own typos"
        ),
        pytest.param(
            person(first_name="", initials="k", contacts=frozenset({"+31612345678"})),
            person(postcode="9999ZZ", house_number="5", contacts=frozenset({"+31612345678"})),
            id="initials only elsewhere, with the same phone number",
        ),
    ],
)
def test_given_one_person_delivered_with_noise_then_the_evidence_says_the_same(known, delivered):
    assert evidence(known, delivered, same_policy=False) is not None


@pytest.mark.parametrize(
    ("known", "delivered"),
    [
        pytest.param(person(), person(birth_date="1981-03-12"), id="Jansen 1980 and Jansen 1981"),
        pytest.param(
            person(first_name="piet", initials="p"),
            person(first_name="jan", initials="j"),
            id="twins Piet and Jan",
        ),
        pytest.param(
            person(first_name="anna", initials="a"),
            person(first_name="anne", initials="a"),
            id="twins Anna and Anne",
        ),
        pytest.param(
            person(first_name="", initials="jp"),
            person(first_name="", initials="jw"),
            id="other initials",
        ),
        pytest.param(
            person(birth_date="1955-01-01"),
            person(birth_date="1985-06-01"),
            id="a parent and a child of one name at one address",
        ),
        pytest.param(
            person(surname="Vries", tussenvoegsels="de"),
            person(surname="Vos", tussenvoegsels="de"),
            id="de Vries and de Vos",
        ),
        pytest.param(
            person(surname="Jansen", first_name="", initials=""),
            person(surname="Jansen", first_name="", initials="", postcode="9999ZZ"),
            id="a name without given names at another address",
        ),
        pytest.param(
            person(surname="Visser"),
            person(surname="Vissers", postcode="9999ZZ"),
            id="a similar name at another address, nothing else shared",
        ),
        pytest.param(person(), company(), id="a person and a company"),
        pytest.param(
            person(first_name="", initials="k"),
            person(postcode="9999ZZ", house_number="5"),
            id="K. Jansen and Kees Jansen born the same day, living elsewhere",
        ),
        pytest.param(
            person(first_name="", initials="k"),
            person(first_name="", initials="k", postcode="9999ZZ", house_number="5"),
            id="K. Jansen twice, born the same day, living elsewhere",
        ),
        pytest.param(
            person(surname="Meijerr"),
            person(surname="Mnijer", postcode="9999ZZ"),
            id="two typos apart, nothing else shared",
        ),
        pytest.param(
            person(surname="Bos"), person(surname="Kok"), id="two edits apart, another letter"
        ),
    ],
)
def test_given_two_people_then_the_evidence_never_says_the_same(known, delivered):
    assert evidence(known, delivered, same_policy=False) is None
    assert evidence(delivered, known, same_policy=False) is None


def test_given_a_company_without_kvk_at_one_partner_then_name_and_address_make_it_the_same():
    assert evidence(company(), company(kvk=None, surname="Bakkerij Jansen"), same_policy=False)


def test_given_two_companies_with_other_kvk_numbers_then_they_are_never_the_same():
    assert evidence(company(), company(kvk="87654321"), same_policy=False) is None


def test_given_a_company_without_kvk_at_another_address_then_the_name_alone_is_not_enough():
    assert evidence(company(), company(kvk=None, postcode="9999ZZ"), same_policy=False) is None


def test_given_the_same_policy_then_a_corrected_birth_date_is_the_same_person_but_not_elsewhere():
    corrected = person(birth_date="1980-03-21")
    assert evidence(person(), corrected, same_policy=True) is not None
    assert evidence(person(), corrected, same_policy=False) is None


@pytest.mark.parametrize(
    "birth_date",
    [
        pytest.param("1950-03-12", id="a father 30 years older, one digit apart"),
        pytest.param("2010-03-12", id="a son 30 years younger, one digit apart"),
        pytest.param("1970-03-12", id="ten years, one digit apart"),
    ],
)
def test_given_the_same_policy_then_a_birth_year_a_generation_away_is_another_person(
    birth_date,
):
    assert evidence(person(), person(birth_date=birth_date), same_policy=True) is None


@pytest.mark.parametrize(
    "birth_date",
    ["1981-03-12", "1989-03-12", "1980-12-03", "1980-03-13"],
    ids=["last digit of the year", "year digits swapped", "day and month swapped", "the day"],
)
def test_given_the_same_policy_then_a_typo_in_the_birth_date_is_the_same_person(birth_date):
    assert evidence(person(), person(birth_date=birth_date), same_policy=True) is not None


def test_given_the_same_policy_then_a_married_name_with_the_same_first_name_is_the_same_person():
    married = person(surname="Bakker")
    assert evidence(person(), married, same_policy=True) is not None
    assert evidence(person(), married, same_policy=False) is None


def test_given_the_same_policy_then_twins_stay_apart():
    assert evidence(person(first_name="piet"), person(first_name="jan"), same_policy=True) is None


def test_the_same_policy_outweighs_any_other_evidence():
    on_policy = evidence(person(), person(postcode="3511AB"), same_policy=True)
    elsewhere = evidence(person(), person(), same_policy=False)
    assert on_policy is not None
    assert elsewhere is not None
    assert on_policy > elsewhere


@pytest.mark.parametrize(
    ("a", "b", "agreement"),
    [
        (person(first_name="kees"), person(first_name="kees"), SAME_GIVEN),
        (person(first_name="", initials="jp"), person(first_name="", initials="jp"), SAME_GIVEN),
        (person(first_name="", initials="j"), person(first_name="", initials="jp"), "compatible"),
        (person(first_name="", initials="k"), person(first_name="kees", initials=""), "compatible"),
        (person(first_name="", initials=""), person(first_name="kees"), "unknown"),
        (person(first_name="piet"), person(first_name="jan"), None),
        (person(first_name="", initials="p"), person(first_name="jan", initials="j"), None),
    ],
)
def test_given_names_agree_or_contradict(a, b, agreement):
    assert given_agreement(a, b) == agreement


def test_company_names_lose_their_legal_form():
    assert company_key("Bakkerij Jansen B.V.") == company_key("bakkerij jansen") == "bakkerijjansen"


def test_words_that_name_the_company_are_kept_in_its_key():
    assert company_key("Jansen Holding B.V.") != company_key("Jansen B.V.")
    assert company_key("Stichting Jansen") != company_key("Vereniging Jansen")


@pytest.mark.parametrize(
    "other",
    [
        pytest.param({"gender": "V"}, id="boy and girl twins J. Jansen"),
        pytest.param({"gender": "V", "surname": "Jansen-de Vries"}, id="husband and wife"),
    ],
)
def test_given_a_man_and_a_woman_then_the_evidence_never_says_the_same(other):
    man = person(first_name="", initials="j", gender="M")
    woman = person(first_name="", initials="j", **other)
    assert evidence(man, woman, same_policy=False) is None
    assert conflicts(man, woman)


def test_given_the_same_policy_and_first_name_then_the_partner_may_correct_the_gender():
    assert evidence(person(gender="M"), person(gender="V"), same_policy=True) is not None
    assert evidence(person(gender="M"), person(gender=""), same_policy=False) is not None


def test_given_a_roepnaam_then_the_person_is_kept_under_both_letters():
    # Johannes Hendrikus, called Hans: J.H. at one partner, J.H. + Hans at another
    hans = person(first_name="hans", initials="jh")
    assert bucket_keys(hans) == ("DOB#1980-03-12#j", "DOB#1980-03-12#h")
    assert set(bucket_keys(person(first_name="", initials="jh"))) <= set(bucket_keys(hans))


def test_given_a_name_then_persons_without_given_names_are_looked_for_too():
    assert lookup_keys(person()) == ("DOB#1980-03-12#k", "DOB#1980-03-12#_")
    given_less = lookup_keys(person(first_name="", initials=""))
    assert given_less[0] == "DOB#1980-03-12#_"
    assert {"DOB#1980-03-12#k", "DOB#1980-03-12#a", "DOB#1980-03-12#w"} <= set(given_less)
    assert "DOB#1980-03-12#c" not in given_less  # kept under k


# --- resolving one policy's parties ------------------------------------------------------------

KEY = "k" * 32


def resolve(parties, *, previous=(), known=(), seq="2026-02"):
    policy = PolicyToResolve(
        parties=parties,
        previous=list(previous),
        known=list(known),
        minted_identities=policy_identities(parties) or [client_identity(p) for p in parties],
    )
    return resolve_policy(policy, partner_id="p2", seq=seq, key=KEY)


def kees(**fields: Any) -> PartyFields:
    base = PartyFields(
        role="VP", is_legal_entity=False, surname="Jansen", surname_key="jansen",
        first_name="Kees", initials="K.", birth_date="1980-03-12", postcode="1077XL",
        house_number="232",
    )  # fmt: skip
    return replace(base, **fields)


def test_given_nobody_known_then_the_id_is_minted_from_the_identity_and_the_bucket_letter():
    [decision] = resolve([kees()])
    assert decision.client_id == pseudonym(f"{client_identity(kees())}|k", KEY)
    assert not decision.reused


def test_given_the_person_known_at_another_partner_with_another_spelling_then_their_id_is_reused():
    known = trace_of(kees(surname="Janssen"), "c_first", partner_id="p1", since="2026-01")
    [decision] = resolve([kees()], known=[known])
    assert (decision.client_id, decision.reused) == ("c_first", True)


def test_given_a_mover_on_the_same_policy_then_their_id_stays():
    earlier = trace_of(kees(postcode="3511AB", house_number="5"), "c_before", since="2025-01")
    [decision] = resolve([kees()], previous=[earlier])
    assert decision.client_id == "c_before"


def test_given_twins_on_one_policy_then_each_keeps_their_own_earlier_id():
    piet, jan = kees(first_name="Piet", initials="P."), kees(first_name="Jan", initials="J.")
    earlier = [trace_of(jan, "c_jan"), trace_of(piet, "c_piet")]
    decisions = resolve([piet, jan], previous=earlier)
    assert [d.client_id for d in decisions] == ["c_piet", "c_jan"]


def test_given_a_twin_alone_then_the_other_twins_id_is_never_minted_for_them():
    # given twin Piet known under the plain identity's id (delivered alone before)
    piet = trace_of(kees(first_name="Piet", initials="P."), client_id_for(kees(), KEY))
    # when twin Jan is delivered alone
    [decision] = resolve([kees(first_name="Jan", initials="J.")], known=[piet])
    # then Jan gets an id of their own
    assert decision.client_id != piet.client_id


def test_given_a_person_known_under_two_ids_then_they_are_joined_into_the_one_given_out_first():
    first = trace_of(kees(surname="Janssen"), "c_first", partner_id="p1", since="2025-01")
    later = trace_of(kees(postcode="3511AB", house_number="5"), "c_later", since="2026-01")
    [decision] = resolve([kees()], previous=[later], known=[first])
    assert (decision.client_id, decision.joined) == ("c_first", ("c_later",))


def test_given_a_party_that_fits_two_different_people_then_nobody_is_joined_or_taken():
    jan = trace_of(kees(first_name="Jan", initials="J."), "c_jan", since="2025-01")
    joost = trace_of(kees(first_name="Joost", initials="J."), "c_joost", since="2025-01")
    [decision] = resolve([kees(first_name=None, initials="J.")], known=[jan, joost])
    assert decision.client_id not in ("c_jan", "c_joost")
    assert decision.joined == ()


def test_given_a_bucket_then_a_trace_is_kept_once_per_client_partner_and_variant():
    bucket = Bucket("DOB#1980-03-12")
    trace = trace_of(kees(), "c_1", partner_id="p1", expires_at=1000)
    bucket.keep(trace)
    bucket.changed = False
    bucket.keep(trace)
    assert (len(bucket.traces), bucket.changed) == (1, False)
    bucket.keep(replace(trace, partner_id="p2"))
    assert len(bucket.traces) == 2


def test_given_one_partners_two_variants_of_a_client_then_both_are_kept_and_neither_rewritten():
    # given Kees on one policy with his first name and mobile, on another with initials and
    # a landline at the address he left
    bucket = Bucket("DOB#1980-03-12#k")
    first = trace_of(kees(mobile="+31610779805"), "c_1", partner_id="p1", expires_at=1000)
    second = trace_of(
        kees(first_name=None, phone="+31703756114", postcode="2511AB", house_number="4"),
        "c_1",
        partner_id="p1",
        expires_at=1000,
    )
    bucket.keep(first)
    bucket.keep(second)
    # when the partner delivers both again a month later, unchanged
    bucket.changed = False
    bucket.keep(replace(first, expires_at=1000 + 31 * 86_400))
    bucket.keep(replace(second, expires_at=1000 + 31 * 86_400))
    # then the bucket holds both, and nothing is written
    assert (bucket.traces, bucket.changed) == ([first, second], False)


def test_given_a_variant_no_longer_delivered_for_a_refresh_period_then_a_new_one_takes_its_place():
    # given a client with the most variants one partner may keep, one not delivered for long
    bucket = Bucket("DOB#1980-03-12#k")
    variants = [
        trace_of(kees(house_number=str(n)), "c_1", partner_id="p1", expires_at=1000 + n)
        for n in range(MAX_VARIANTS)
    ]
    for variant in variants:
        bucket.keep(variant)
    # when another variant is delivered while all are current, it is not kept (no churn)
    bucket.changed = False
    newest = trace_of(kees(house_number="99"), "c_1", partner_id="p1", expires_at=2000)
    bucket.keep(newest)
    assert (bucket.traces, bucket.changed) == (variants, False)
    # when it is delivered once the oldest variant lags more than the refresh period
    later = replace(newest, expires_at=1000 + TRACE_REFRESH_SECONDS + 1)
    bucket.keep(later)
    # then it takes the place of the variant delivered longest ago
    assert (bucket.traces, bucket.changed) == ([*variants[1:], later], True)


def test_given_a_partner_corrected_a_policy_then_the_variant_it_replaced_is_forgotten():
    # given what a partner delivered of Kees on a policy (gender M, a typo it then corrected)
    bucket = Bucket("DOB#1980-03-12#k")
    wrong = trace_of(kees(gender="M"), "c_old", partner_id="p1", expires_at=1000)
    other_partner = replace(wrong, partner_id="p2")
    bucket.keep(wrong)
    bucket.keep(other_partner)
    # when the correction (joined into c_1 meanwhile) is kept and the old variant forgotten
    bucket.join("c_old", "c_1", 2000)
    bucket.forget_variant(replace(wrong, client_id="c_1"), ("c_old", "c_1"))
    # then only the other partner's trace stays
    assert [(t.client_id, t.partner_id) for t in bucket.traces] == [("c_1", "p2")]
    assert bucket.changed


def test_given_a_join_of_two_ids_with_one_partners_same_variant_then_it_is_kept_once():
    trace = trace_of(kees(), "c_old", partner_id="p1", expires_at=10)
    bucket = Bucket("DOB#1980-03-12#k", traces=[trace, replace(trace, client_id="c_1", since="a")])
    bucket.join("c_old", "c_1", 20)
    assert bucket.traces == [replace(trace, client_id="c_1")]


def test_given_a_join_then_the_bucket_names_the_surviving_id_and_keeps_joins_one_step_deep():
    bucket = Bucket("DOB#1980-03-12", traces=[trace_of(kees(), "c_old", expires_at=10)])
    bucket.join("c_older", "c_old", 10)
    bucket.join("c_old", "c_first", 20)
    assert [t.client_id for t in bucket.traces] == ["c_first"]
    assert bucket.joined == {"c_older": ("c_first", 20), "c_old": ("c_first", 20)}


def test_a_trace_survives_its_stored_form():
    trace = trace_of(kees(phone="+31612345678"), "c_1", partner_id="p1", since="s", expires_at=9)
    assert Trace.from_item(trace.as_item()) == trace


def test_given_companies_the_buckets_are_kvk_and_address():
    assert bucket_keys(company()) == ("KVK#12345678", "ORG#3511AB#5")
    assert bucket_keys(company(kvk=None)) == ("ORG#3511AB#5",)
    assert bucket_keys(person()) == ("DOB#1980-03-12#k",)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        pytest.param(
            person(first_name="kees"), person(first_name="cees", initials="c"), id="Kees, Cees"
        ),
        pytest.param(
            person(first_name="", initials="c"),
            person(first_name="chris", initials="c"),
            id="C. and Chris",
        ),
        pytest.param(
            person(first_name="zoe", initials="z"), person(first_name="soe", initials="s"), id="Zoë"
        ),
    ],
)
def test_given_names_the_rules_call_the_same_are_kept_in_one_bucket(a, b):
    assert given_agreement(a, b) is not None
    assert bucket_keys(a) == bucket_keys(b)


def test_given_no_first_name_nor_initials_then_the_bucket_letter_says_so():
    assert bucket_keys(person(first_name="", initials="")) == ("DOB#1980-03-12#_",)


def test_a_trace_past_its_expiry_is_not_stored_in_a_bucket_another_client_keeps_alive():
    from chalicelib.store.identity import bucket_item

    # given a bucket with X (expired at 1,000) and Y (until 10,000), written at 5,000
    x = person(client_id="X", contacts=frozenset({"+31612345678"}), expires_at=1_000)
    y = person(client_id="Y", surname="Visser", expires_at=10_000)
    item = bucket_item(Bucket(key="DOB#1980-03-12#k", traces=[x, y]), now=5_000)
    # then the stored item lives as long as Y and holds nothing of X
    assert item["expires_at"] == 10_000
    assert [t["id"] for t in item["traces"]] == ["Y"]


def test_given_two_fitting_people_one_kept_by_two_partners_then_the_clearly_better_is_taken():
    # given Jan Jansen (address and both partners' traces) and Joost Jansen-Bakker (shares
    # only an e-mail address, a double surname): two people that both fit `J. Jansen`
    jan = trace_of(kees(first_name="Jan", initials="J."), "c_jan", partner_id="p1", since="1")
    joost = trace_of(
        kees(first_name="Joost", initials=None, surname="Jansen-Bakker", postcode="9999ZZ",
             email="j@example.nl"),
        "c_joost", partner_id="p1", since="1",
    )  # fmt: skip
    delivered = kees(first_name=None, initials="J.", email="j@example.nl")
    # when the party is resolved with Jan known through two partners' traces
    [decision] = resolve([delivered], known=[jan, replace(jan, partner_id="p3"), joost])
    # then Jan, whose evidence stands out, is taken (not nobody: his two traces are one client)
    assert decision.client_id == "c_jan"
