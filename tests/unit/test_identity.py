"""Who a party is on one policy: twins are two people, a repeated row is one."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from chalicelib.models.portfolio import PartyFields
from chalicelib.rules.identity import client_id_for, client_identity, policy_identities

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
