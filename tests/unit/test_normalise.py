"""Normalisation of delivered values and query values (chalicelib/normalise.py)."""

from __future__ import annotations

import pytest

from chalicelib.normalise import (
    mail_address,
    name_key,
    normalise_country,
    normalise_email,
    normalise_house_number,
    normalise_kvk,
    normalise_phone,
    normalise_policy_number,
    normalise_postcode,
    parse_date,
    split_tussenvoegsels,
    surname_key,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("delivered", "expected"),
    [
        ("1234AB", "1234AB"),
        ("1234 ab", "1234AB"),
        ("  2611 et ", "2611ET"),
        ("9999ZZ", "9999ZZ"),
    ],
)
def test_dutch_postcode_is_normalised_to_digits_and_upper_case_letters(
    delivered: str, expected: str
) -> None:
    assert normalise_postcode(delivered) == expected


@pytest.mark.parametrize(
    "delivered",
    [
        "1234SA",
        "1234 sd",
        "1234SS",
        "0123AB",
        "123AB",
        "12345AB",
        "1234  AB",
        "1234-AB",
        "NL-1234AB",
        "1234A",
        "1234ÄB",
        "",
    ],
)
def test_postcode_that_cannot_exist_is_rejected(delivered: str) -> None:
    assert normalise_postcode(delivered) is None


@pytest.mark.parametrize(
    ("surname", "tussenvoegsels", "expected"),
    [
        ("Van der Berg", None, ("Berg", "van der")),
        ("Berg, van der", None, ("Berg", "van der")),
        ("Berg", "van der", ("Berg", "van der")),
        ("Berg", "  Van  Der ", ("Berg", "van der")),
        ("van der Berg", "van der", ("Berg", "van der")),
        ("vd Berg", None, ("Berg", "vd")),
        ("v.d. Berg", None, ("Berg", "v.d.")),
        ("v/d Berg", None, ("Berg", "v/d")),
        ("in 't Veld", None, ("Veld", "in 't")),
        ("In ’t Veld", None, ("Veld", "in 't")),
        ("'t Hart", None, ("Hart", "'t")),
        ("op de Beek", None, ("Beek", "op de")),
        ("uit den Bogaard", None, ("Bogaard", "uit den")),
        ("ter Horst", None, ("Horst", "ter")),
        ("ten Cate", None, ("Cate", "ten")),
        ("von Bismarck", None, ("Bismarck", "von")),
        ("le Roux", None, ("Roux", "le")),
        ("du Pont", None, ("Pont", "du")),
        ("d'Ancona", None, ("Ancona", "d'")),
        ("de la Rue", None, ("Rue", "de la")),
        ("Jansen", None, ("Jansen", None)),
        ("De", None, ("De", None)),
        ("van der", None, ("der", "van")),
        ("Smit-de Vries", None, ("Smit-de Vries", None)),
    ],
)
def test_tussenvoegsels_are_split_from_the_surname(
    surname: str, tussenvoegsels: str | None, expected: tuple[str, str | None]
) -> None:
    assert split_tussenvoegsels(surname, tussenvoegsels) == expected


@pytest.mark.parametrize(
    ("surname", "tussenvoegsels"),
    [
        ("Van der Berg", None),
        ("Berg, van der", None),
        ("vd Berg", None),
        ("VAN DER BERG", None),
        ("Bérg", None),
        ("Berg", "van der"),
        (" berg ", None),
    ],
)
def test_every_spelling_of_a_surname_gives_the_same_key(
    surname: str, tussenvoegsels: str | None
) -> None:
    assert surname_key(surname, tussenvoegsels) == "berg"


def test_surname_key_removes_diacritics_and_punctuation_and_folds_special_letters() -> None:
    assert surname_key("Müller-Lüdenscheidt") == "mullerludenscheidt"
    assert surname_key("Øster") == "oster"
    assert surname_key("Straß") == "strass"
    assert surname_key("Koç") == "koc"


def test_a_lone_tussenvoegsel_is_kept_as_the_name() -> None:
    assert surname_key("De") == "de"


def test_name_key_folds_initials_and_first_names() -> None:
    assert name_key("J.P.") == "jp"
    assert name_key("Hélène") == "helene"


@pytest.mark.parametrize(
    ("delivered", "expected"),
    [
        ("06-12345678", "+31612345678"),
        ("0612345678", "+31612345678"),
        ("+31 6 12345678", "+31612345678"),
        ("0031612345678", "+31612345678"),
        ("020-1234567", "+31201234567"),
        ("+31 (0)20 123 45 67", "+31201234567"),
        ("+310612345678", "+31612345678"),
        ("612345678", "+31612345678"),
        ("(020) 123.45.67", "+31201234567"),
        ("+44 20 7946 0958", "+442079460958"),
        ("0049 30 1234567", "+49301234567"),
    ],
)
def test_phone_numbers_are_normalised_to_e164(delivered: str, expected: str) -> None:
    assert normalise_phone(delivered) == expected


@pytest.mark.parametrize(
    "delivered",
    [
        "06-1234567",  # 8 digits after the trunk 0
        "06-123456789",  # 10 digits
        "+31 6 1234567",
        "+3161234567",
        "0012345",
        "12345",
        "06-1234567a",
        "+0612345678",
        "",
        "call me",
    ],
)
def test_invalid_phone_numbers_are_rejected(delivered: str) -> None:
    assert normalise_phone(delivered) is None


@pytest.mark.parametrize(
    ("delivered", "expected"),
    [
        (" Jan.Jansen@Example.NL ", "jan.jansen@example.nl"),
        ("a@b.co", "a@b.co"),
        ("x+tag@sub.domain.nl", "x+tag@sub.domain.nl"),
    ],
)
def test_email_is_trimmed_and_lower_cased(delivered: str, expected: str) -> None:
    assert normalise_email(delivered) == expected


@pytest.mark.parametrize(
    "delivered",
    ["a@b", "a b@c.nl", "a@@c.nl", "@c.nl", "a@c.", "a@.nl", "a@c..nl", "", "a" * 250 + "@c.nl"],
)
def test_invalid_email_is_rejected(delivered: str) -> None:
    assert normalise_email(delivered) is None


def test_email_of_exactly_254_characters_is_accepted() -> None:
    address = "a" * 248 + "@ex.nl"
    assert len(address) == 254
    assert normalise_email(address) == address
    assert normalise_email("a" + address) is None


@pytest.mark.parametrize(
    ("delivered", "expected"),
    [
        ("20240229", "2024-02-29"),
        ("2024-02-29", "2024-02-29"),
        (" 2000-02-29 ", "2000-02-29"),
        ("99991231", "9999-12-31"),
        ("18000101", "1800-01-01"),
    ],
)
def test_real_calendar_dates_are_parsed_to_iso(delivered: str, expected: str) -> None:
    assert parse_date(delivered) == expected


@pytest.mark.parametrize(
    "delivered",
    [
        "20230229",
        "1900-02-29",
        "2024-04-31",
        "2024-13-01",
        "2024-00-10",
        "2024-01-00",
        "2024-0101",
        "2024/01/01",
        "01-01-2024",
        "17991231",
        "２０２４0101",
        "",
    ],
)
def test_impossible_or_malformed_dates_are_rejected(delivered: str) -> None:
    assert parse_date(delivered) is None


@pytest.mark.parametrize(
    ("delivered", "expected"),
    [
        ("12", ("12", None)),
        ("12a", ("12", "A")),
        ("12-A", ("12", "A")),
        ("12 bis", ("12", "BIS")),
        (" 007 ", ("7", None)),
        ("12 - 2 hoog", ("12", "2HOOG")),
        ("99999", ("99999", None)),
    ],
)
def test_house_number_is_split_into_number_and_addition(
    delivered: str, expected: tuple[str, str | None]
) -> None:
    assert normalise_house_number(delivered) == expected


@pytest.mark.parametrize("delivered", ["a12", "", "bis", "123456"])
def test_house_number_without_leading_number_is_rejected(delivered: str) -> None:
    assert normalise_house_number(delivered) is None


@pytest.mark.parametrize(
    ("delivered", "expected"),
    [("12345678", "12345678"), ("1234 5678", "12345678"), ("12.34.56.78", "12345678")],
)
def test_kvk_number_is_eight_digits(delivered: str, expected: str) -> None:
    assert normalise_kvk(delivered) == expected


@pytest.mark.parametrize("delivered", ["1234567", "123456789", "1234567a", ""])
def test_kvk_number_of_other_length_is_rejected(delivered: str) -> None:
    assert normalise_kvk(delivered) is None


@pytest.mark.parametrize(
    ("delivered", "expected"),
    [(" rb-2024/001.a ", "RB-2024/001.A"), ("1", "1"), ("X" * 30, "X" * 30)],
)
def test_policy_number_is_trimmed_and_upper_cased(delivered: str, expected: str) -> None:
    assert normalise_policy_number(delivered) == expected


@pytest.mark.parametrize("delivered", ["", "X" * 31, "RB 001", "RB_001", "RB#1", "ÅB1"])
def test_policy_number_with_other_characters_or_length_is_rejected(delivered: str) -> None:
    assert normalise_policy_number(delivered) is None


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("BEL", "BE"),
        (" deu ", "DE"),
        ("be", "BE"),
        ("uk", "UK"),
        ("ANT", "AN"),
        ("Nederland", "NL"),
    ],
)
def test_a_country_code_or_the_netherlands_by_name_gives_a_two_letter_code(
    value: str, code: str
) -> None:
    assert normalise_country(value) == code


@pytest.mark.parametrize("value", ["", "ZZZ", "Belgie", "B", "056", "Z9"])
def test_what_names_no_country_gives_none(value: str) -> None:
    assert normalise_country(value) is None


@pytest.mark.parametrize(
    ("given", "sendable"),
    [
        ("Anna@Example.nl", "anna@example.nl"),
        ("jan@bücher.nl", "jan@xn--bcher-kva.nl"),
        ("jan.de-vries+portal@sub.example.nl", "jan.de-vries+portal@sub.example.nl"),
    ],
)
def test_an_address_is_sent_with_its_domain_in_punycode(given: str, sendable: str) -> None:
    assert mail_address(given) == sendable


@pytest.mark.parametrize(
    "given", ["jöran@example.nl", "josé@example.nl", "a@" + "b" * 64 + ".nl", "not-an-address"]
)
def test_an_address_ses_cannot_send_to_has_no_mail_address(given: str) -> None:
    # SES takes no SMTPUTF8: a local part beyond 7-bit ASCII cannot be sent to at all
    assert mail_address(given) is None
