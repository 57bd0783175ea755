"""One client, one face: a client is shown with the same name whichever of their delivered
items a search found, and in the same capitalisation whatever a partner's software wrote."""

from __future__ import annotations

from itertools import permutations
from typing import Any

import pytest

from chalicelib.models.clients import name_from_item, name_from_items
from chalicelib.normalise import display_case, display_initials, split_tussenvoegsels

pytestmark = pytest.mark.unit


def party(seq: str, **fields: Any) -> dict[str, Any]:
    return {"data_seq": seq, "is_legal_entity": False, **fields}


@pytest.mark.parametrize(
    ("delivered", "shown"),
    [
        ("DIJK", "Dijk"),
        ("AMRANI", "Amrani"),
        ("SCHAFER-VAN DER MEER", "Schafer-van der Meer"),
        ("jansen", "jansen"),
        ("EL AMRANI", "El Amrani"),
        ("ÖZTÜRK", "Öztürk"),
        ("McDonald", "McDonald"),
        ("van Beek-de Vries", "van Beek-de Vries"),
        ('<IMG SRC=X ONERROR="X">', '<IMG SRC=X ONERROR="X">'),
        ('<img src=x onerror="window.x=1">', '<img src=x onerror="window.x=1">'),
        ("D'ANCONA", "D'Ancona"),
        ("O'BRIEN", "O'Brien"),
    ],
)
def test_a_name_delivered_in_capitals_is_shown_capitalised_and_anything_else_as_delivered(
    delivered: str, shown: str
) -> None:
    assert display_case(delivered) == shown


@pytest.mark.parametrize(
    ("delivered", "shown"),
    [("JP", "J.P."), ("j.p.", "J.P."), ("J. P.", "J.P."), ("T", "T."), ("Th.", "Th.")],
)
def test_initials_are_shown_one_way(delivered: str, shown: str) -> None:
    assert display_initials(delivered) == shown


def test_eva_van_dijk_in_capitals_is_shown_as_eva_van_dijk() -> None:
    shown = name_from_item(party("s1", surname="DIJK", tussenvoegsels="van", first_name="EVA"))
    assert shown.display == "Eva van Dijk"


def test_tim_el_amrani_is_one_face_whichever_partners_item_was_found_or_newest() -> None:
    # given the same client delivered as "Tim el Amrani" by one partner and "T. el AMRANI" by
    # another (newer delivery)
    with_first_name = party(
        "s1", surname="Amrani", tussenvoegsels="el", initials="T.", first_name="Tim"
    )
    initials_only = party("s2", surname="AMRANI", tussenvoegsels="el", initials="T")
    # when the client is shown from both items in either order
    orders = permutations([with_first_name, initials_only])
    faces = [name_from_items(list(items)) for items in orders]
    # then it is one face, with the first name one partner knows
    assert faces[0] == faces[1]
    face = faces[0]
    assert face.display == "Tim el Amrani"
    assert (face.surname, face.initials, face.first_name) == ("Amrani", "T.", "Tim")


def test_a_company_keeps_its_name_as_registered() -> None:
    company = {"data_seq": "s1", "is_legal_entity": True, "surname": "Bakkerij Jansen B.V."}
    assert name_from_items([company]).display == "Bakkerij Jansen B.V."


@pytest.mark.parametrize(
    ("delivered", "first_name", "shown"),
    [
        ("d'Artagnan", "Zoë", "Zoë d'Artagnan"),
        ("d'Ancona", "Hedy", "Hedy d'Ancona"),
        ("l'Ecluse", "Kees", "Kees l'Ecluse"),
        ("van 't Hof", "Jan", "Jan van 't Hof"),
        ("Berg, van der", "Anna", "Anna van der Berg"),
    ],
)
def test_a_glued_tussenvoegsel_is_shown_glued_to_the_surname_and_others_with_a_space(
    delivered: str, first_name: str, shown: str
) -> None:
    # given a party delivered with a surname holding its tussenvoegsels
    surname, tussenvoegsels = split_tussenvoegsels(delivered)
    item = party("1", surname=surname, tussenvoegsels=tussenvoegsels, first_name=first_name)

    # when its name is shown, then it reads as delivered
    assert name_from_item(item).display == shown
