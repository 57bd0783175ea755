"""The search box: free text read into query fields, and the keys that make two notations of
one house-number addition or one policy number equal."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.rules.search_text import addition_key, policy_search_key, read_search_text

pytestmark = pytest.mark.unit


def readings(text: str) -> list[dict[str, str]]:
    return [reading.as_query() for reading in read_search_text(text)]


@pytest.mark.parametrize(
    ("typed", "query"),
    [
        ("1077XL 232", {"postcode": "1077XL", "house_number": "232"}),
        (
            "1077 xl 232-a",
            {"postcode": "1077XL", "house_number": "232", "house_number_addition": "A"},
        ),
        (
            "1234 AB 12 hs",
            {"postcode": "1234AB", "house_number": "12", "house_number_addition": "HS"},
        ),
        ("j.jansen@example.nl", {"email": "j.jansen@example.nl"}),
        ("Jansen 12-03-1980", {"name": "Jansen", "birth_date": "1980-03-12"}),
        ("de Graaf 1980-03-12", {"name": "de Graaf", "birth_date": "1980-03-12"}),
        ("Kees Visser 12 maart 1980", {"name": "Kees Visser", "birth_date": "1980-03-12"}),
        ("VOL 9100 000001", {"policy_number": "VOL9100000001"}),
        ("Visser 12031980", {"name": "Visser", "birth_date": "1980-03-12"}),
        ("12031980 Visser", {"name": "Visser", "birth_date": "1980-03-12"}),
        ("Kees Visser 19800312", {"name": "Kees Visser", "birth_date": "1980-03-12"}),
        ("232 1077XL", {"postcode": "1077XL", "house_number": "232"}),
        ("1077 XL, 232", {"postcode": "1077XL", "house_number": "232"}),
        ("1077xl232", {"postcode": "1077XL", "house_number": "232"}),
        (
            "232-a, 1077 XL",
            {"postcode": "1077XL", "house_number": "232", "house_number_addition": "A"},
        ),
        ("INT/2020/0042", {"policy_number": "INT/2020/0042"}),
    ],
)
def test_given_what_a_caller_says_when_read_then_the_first_reading_has_the_fields(
    typed: str, query: dict[str, str]
) -> None:
    assert readings(typed)[0] == query


def test_given_a_mobile_number_with_separators_when_read_then_the_phone_reading_comes_first() -> (
    None
):
    assert readings("06-12345678")[0] == {"phone": "+31612345678"}
    assert readings("Visser 06 12345678")[0] == {"name": "Visser", "phone": "+31612345678"}


def test_given_eight_digits_when_read_then_kvk_policy_and_date_readings_are_all_tried() -> None:
    assert readings("12345678") == [{"kvk": "12345678"}, {"policy_number": "12345678"}]
    assert readings("1234 5678") == readings("1234.5678") == readings("12345678")
    assert readings("12031980") == [
        {"kvk": "12031980"},
        {"policy_number": "12031980"},
        {"birth_date": "1980-03-12"},
    ]


@pytest.mark.parametrize("typed", ["", "   ", "@", "31-02-1980"])
def test_given_nothing_that_can_be_looked_up_when_read_then_there_is_no_reading(
    typed: str,
) -> None:
    assert readings(typed) == []


@pytest.mark.parametrize(
    ("one", "other"),
    [("HS", "H"), ("huis", "h"), ("bg", "H"), ("II", "2"), ("I", "1"), ("a", "A"), ("-I", "1")],
)
def test_given_two_notations_of_one_addition_then_their_keys_are_equal(
    one: str, other: str
) -> None:
    assert addition_key(one) == addition_key(other)


def test_given_different_additions_then_their_keys_differ() -> None:
    assert addition_key("A") != addition_key("B")
    assert addition_key("2") != addition_key("H")
    assert addition_key(None) is None
    assert addition_key(" - ") is None


@pytest.mark.parametrize(
    "typed", ["VM-2019-073607", "2019-073607", "VM2019073607", "vm 2019 073607", "2019073607"]
)
def test_given_a_policy_number_as_callers_read_it_then_its_search_key_is_the_same(
    typed: str,
) -> None:
    assert policy_search_key(typed) == "2019073607"


def test_given_leading_zeros_dropped_then_the_search_key_is_the_same() -> None:
    assert policy_search_key("0005631853") == policy_search_key("5631853") == "5631853"
    assert policy_search_key("INT/2020/0042") == policy_search_key("2020 0042")


def test_given_another_number_or_no_number_then_the_search_key_differs_or_is_none() -> None:
    assert policy_search_key("VM-2019-073608") != policy_search_key("VM-2019-073607")
    assert policy_search_key("---") is None
    assert policy_search_key("VM-2019-ü") is None


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from(list("0123456789 -/.,@abxyzHSIV'٣é\t")), max_size=40) | st.text())
def test_whatever_is_typed_the_reader_returns_readings_and_never_raises(typed: str) -> None:
    for reading in read_search_text(typed):
        assert reading.as_query(), "a reading without any field"
