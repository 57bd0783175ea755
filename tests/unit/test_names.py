"""Reading a typed name: surname, tussenvoegsels and first name or initials in any order."""

from __future__ import annotations

import pytest

from chalicelib.rules.names import SpokenName, read_name, surname_parts

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("typed", "reading"),
    [
        ("Visser, Kees", SpokenName("Visser", None, "kees")),
        ("Graaf de", SpokenName("Graaf", "de", None)),
        ("Berg van der", SpokenName("Berg", "van der", None)),
        ("de Graaf", SpokenName("Graaf", "de", None)),
        ("Kees de Graaf", SpokenName("Graaf", "de", "kees")),
        ("Meer van der, Kees", SpokenName("Meer", "van der", "kees")),
        ("Berg, J.P. van der", SpokenName("Berg", "van der", "jp")),
        ("J.P. van den Berg", SpokenName("Berg", "van den", "jp")),
        ("J.P. Berg", SpokenName("Berg", None, "jp")),
        ("vd Berg", SpokenName("Berg", "vd", None)),
        ("d'Ancona", SpokenName("Ancona", "d'", None)),
    ],
)
def test_given_a_name_in_one_notation_when_read_then_its_parts_are_known(
    typed: str, reading: SpokenName
) -> None:
    assert read_name(typed) == (reading,)


def test_given_an_initial_y_before_the_tussenvoegsels_when_read_then_it_is_an_initial() -> None:
    assert read_name("MEER, Y VAN DER") == (SpokenName("MEER", "van der", "y"),)
    assert read_name("Y van der Meer") == (SpokenName("Meer", "van der", "y"),)


def test_given_first_name_and_surname_without_comma_when_read_then_that_reading_comes_first() -> (
    None
):
    assert read_name("Kees Visser")[0] == SpokenName("Visser", None, "kees")
    assert read_name("Jan Berg van der")[0] == SpokenName("Berg", "van der", "jan")


def test_given_two_plain_words_when_read_then_surname_first_and_double_surname_are_tried() -> None:
    assert read_name("Jansen Smit") == (
        SpokenName("Smit", None, "jansen"),
        SpokenName("Jansen", None, "smit"),
        SpokenName("Jansen Smit"),
    )


def test_given_a_double_surname_when_read_then_both_parts_stay_one_surname() -> None:
    assert read_name("Kees Schafer-van der Meer")[0] == SpokenName(
        "Schafer-van der Meer", None, "kees"
    )
    assert surname_parts("Schafer-van der Meer") == ("schafer", "meer")
    assert surname_parts("Jansen") == ("jansen",)


@pytest.mark.parametrize("typed", ["", "   ", "...", ", Kees"])
def test_given_text_without_a_surname_when_read_then_there_is_no_reading(typed: str) -> None:
    assert read_name(typed) == ()
