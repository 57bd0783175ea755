"""Row rules of the delivery contract (docs/file-contract.md) in chalicelib/rules/rows.py."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from chalicelib.models.portfolio import DeliveryKind, PartyFields, PolicyFields, RowOutcome
from chalicelib.rules.rows import (
    HEADER_LABELS,
    REQUIRED_COLUMNS_FULL,
    REQUIRED_COLUMNS_MUTATION,
    map_header,
    validate_row,
)

pytestmark = pytest.mark.unit

TODAY = date(2025, 6, 1)
BASE = {
    "PP_NUMMER": "rb-001",
    "PP_BRANCHE": "090",
    "PP_INGDAT": "20240101",
    "PP_DEKKING": "RP|VK",
    "ANAAM": "van der Berg",
    "GEBDAT": "1980-05-17",
    "HUISNR": "12",
    "PCODE": "1234 ab",
}


def validate(
    changes: dict[str, str] | None = None,
    *,
    kind: DeliveryKind = "full",
    drop: tuple[str, ...] = (),
) -> RowOutcome:
    row = {**BASE, **(changes or {})}
    for label in drop:
        row.pop(label)
    labels = list(row)
    header = map_header(labels, kind)
    return validate_row([row[label] for label in labels], header, kind=kind, line=7, today=TODAY)


def errors(outcome: RowOutcome) -> list[tuple[str | None, str]]:
    return [(e.column, e.code) for e in outcome.errors]


# --- header -----------------------------------------------------------------------------------


def test_header_labels_are_matched_case_insensitively_trimmed_and_without_bom() -> None:
    header = map_header(["\ufeffpp_nummer", " PP_Branche ", "ANAAM"], "full")

    assert [c.label if c else None for c in header.columns] == [
        "PP_NUMMER",
        "PP_BRANCHE",
        "ANAAM",
    ]


def test_unknown_labels_are_ignored_and_listed() -> None:
    header = map_header([*REQUIRED_COLUMNS_FULL, "FOO", "bar"], "full")

    assert header.columns[-2:] == (None, None)
    assert header.unknown == ("FOO", "bar")
    assert header.missing == ()


def test_every_contract_label_is_recognised() -> None:
    header = map_header(list(HEADER_LABELS), "mutation")

    assert all(c is not None for c in header.columns)
    assert header.unknown == ()
    assert header.missing == ()


@pytest.mark.parametrize("absent", REQUIRED_COLUMNS_FULL)
def test_full_delivery_without_a_required_column_is_missing_it(absent: str) -> None:
    labels = [label for label in REQUIRED_COLUMNS_FULL if label != absent]

    assert map_header(labels, "full").missing == (absent,)


def test_mutation_delivery_requires_the_processing_code_column() -> None:
    header = map_header(list(REQUIRED_COLUMNS_FULL), "mutation")

    assert header.missing == ("PP_VRWRKCD",)
    assert set(REQUIRED_COLUMNS_MUTATION) - set(REQUIRED_COLUMNS_FULL) == {"PP_VRWRKCD"}


def test_a_missing_birth_date_column_does_not_make_the_file_unreadable() -> None:
    assert map_header(list(REQUIRED_COLUMNS_FULL), "full").missing == ()


def test_prefixed_party_labels_set_the_entity_and_satisfy_required_columns() -> None:
    labels = ["PP_NUMMER", "PP_BRANCHE", "PP_INGDAT", "PP_DEKKING"]
    header = map_header([*labels, "VP_ANAAM", "sp_gebdat", "VP_HUISNR", "VP_PCODE"], "full")

    refs = header.columns[4:]
    assert [(c.label, c.entity) for c in refs if c] == [
        ("ANAAM", "VP"),
        ("GEBDAT", "SP"),
        ("HUISNR", "VP"),
        ("PCODE", "VP"),
    ]
    assert header.missing == ()


def test_a_bsn_column_is_recognised_with_or_without_prefix() -> None:
    assert map_header(["BSNR"], "full").has_bsn
    assert map_header(["VP_BSNR"], "full").has_bsn
    assert not map_header(["ANAAM"], "full").has_bsn


def test_a_duplicated_label_uses_the_first_column() -> None:
    header = map_header([*REQUIRED_COLUMNS_FULL, "anaam"], "full")

    assert header.columns[-1] is None
    assert header.duplicates == ("ANAAM",)


# --- a valid row ------------------------------------------------------------------------------


def test_valid_row_is_normalised() -> None:
    outcome = validate(
        {
            "PP_PRODUCC": " RBP1 ",
            "PP_EXPDAT": "2026-01-01",
            "PP_VOORW": "VW2024",
            "PP_CLAUSULES": "C1| C2 |C1",
            "PP_EIGENRISICO": "1.250,50",
            "PP_GEZIN": "h",
            "GESLACH": "v",
            "VOORL": "J.",
            "RNAAM": "Hélène",
            "STRAAT": "Dorpsstraat",
            "HUISNR": "12-a",
            "PLAATS": "Utrecht",
            "EMAIL": " Helene@Example.NL ",
            "TELNUM": "020-1234567",
            "MOBIEL": "+31 6 12345678",
        }
    )

    assert outcome.errors == []
    assert outcome.row is not None
    policy, party = outcome.row.policy, outcome.row.party
    assert outcome.row.line == 7
    assert outcome.policy_number == policy.policy_number == "RB-001"
    assert (policy.branch, policy.start_date, policy.end_date) == (
        "090",
        "2024-01-01",
        "2026-01-01",
    )
    assert policy.modules == ("RP", "VK")
    assert (policy.product, policy.conditions) == ("RBP1", "VW2024")
    assert policy.clauses == ("C1", "C2")
    assert policy.deductible_eur == Decimal("1250.50")
    assert policy.household == "H"
    assert policy.processing_code is None
    assert (party.role, party.is_legal_entity, party.gender) == ("VP", False, "V")
    assert (party.surname, party.tussenvoegsels, party.surname_key) == ("Berg", "van der", "berg")
    assert (party.initials, party.first_name) == ("J.", "Hélène")
    assert party.birth_date == "1980-05-17"
    assert (party.house_number, party.house_number_addition) == ("12", "A")
    assert (party.postcode, party.city, party.country) == ("1234AB", "Utrecht", "NL")
    assert party.email == "helene@example.nl"
    assert (party.phone, party.mobile) == ("+31201234567", "+31612345678")
    assert outcome.bsn_dropped is False


def test_short_row_counts_as_empty_trailing_fields() -> None:
    labels = [*BASE, "EMAIL"]
    header = map_header(labels, "full")

    outcome = validate_row(list(BASE.values()), header, kind="full", line=2, today=TODAY)

    assert outcome.row is not None
    assert outcome.row.party.email is None


def test_all_errors_of_a_row_are_collected() -> None:
    outcome = validate({"PP_INGDAT": "2024-02-30", "PCODE": "1234SA", "EMAIL": "x"})

    assert errors(outcome) == [
        ("PP_INGDAT", "invalid_date"),
        ("PCODE", "invalid_postcode"),
        ("EMAIL", "invalid_email"),
    ]
    assert outcome.row is None
    assert all(e.line == 7 and e.message_nl and e.message_en for e in outcome.errors)


# --- policy rules -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "label", ["PP_NUMMER", "PP_BRANCHE", "PP_INGDAT", "PP_DEKKING", "ANAAM", "HUISNR", "PCODE"]
)
def test_empty_required_field_is_rejected(label: str) -> None:
    assert errors(validate({label: "  "})) == [(label, "required")]


def test_invalid_policy_number_is_rejected_and_not_readable() -> None:
    outcome = validate({"PP_NUMMER": "RB 001"})

    assert errors(outcome) == [("PP_NUMMER", "invalid_policy_number")]
    assert outcome.policy_number is None


def test_policy_number_is_readable_on_a_rejected_row() -> None:
    outcome = validate({"PCODE": "bad"})

    assert outcome.row is None
    assert outcome.policy_number == "RB-001"


@pytest.mark.parametrize("branch", ["090", "091", "092", "093", "990", "90"])
def test_legal_expenses_branches_are_in_scope(branch: str) -> None:
    outcome = validate({"PP_BRANCHE": branch})

    assert outcome.row is not None
    assert outcome.row.policy.branch == branch.zfill(3)


@pytest.mark.parametrize("branch", ["021", "21", "094", "999"])
def test_other_branches_are_not_in_scope(branch: str) -> None:
    outcome = validate({"PP_BRANCHE": branch})

    assert errors(outcome) == [("PP_BRANCHE", "branch_not_in_scope")]
    assert branch.zfill(3) in outcome.errors[0].message_en


@pytest.mark.parametrize("branch", ["RB", "0900", "9O"])
def test_malformed_branch_code_is_invalid(branch: str) -> None:
    assert errors(validate({"PP_BRANCHE": branch})) == [("PP_BRANCHE", "invalid_branch")]


@pytest.mark.parametrize("start", ["2024-01-01", "20240101"])
def test_start_date_in_either_format_is_accepted(start: str) -> None:
    outcome = validate({"PP_INGDAT": start})

    assert outcome.row is not None
    assert outcome.row.policy.start_date == "2024-01-01"


def test_end_date_before_start_is_rejected() -> None:
    outcome = validate({"PP_INGDAT": "20240102", "PP_EXPDAT": "20240101"})

    assert errors(outcome) == [("PP_EXPDAT", "end_before_start")]


def test_end_date_equal_to_start_is_accepted() -> None:
    outcome = validate({"PP_INGDAT": "20240101", "PP_EXPDAT": "2024-01-01"})

    assert outcome.row is not None
    assert outcome.row.policy.end_date == "2024-01-01"


def test_invalid_end_date_is_rejected() -> None:
    assert errors(validate({"PP_EXPDAT": "20241301"})) == [("PP_EXPDAT", "invalid_date")]


@pytest.mark.parametrize("code", ["0", "1", "2", "4"])
def test_each_processing_code_is_accepted_in_a_mutation(code: str) -> None:
    outcome = validate({"PP_VRWRKCD": code}, kind="mutation")

    assert outcome.row is not None
    assert outcome.row.policy.processing_code == code


@pytest.mark.parametrize("code", ["3", "5", "01", "X"])
def test_unknown_processing_code_is_rejected(code: str) -> None:
    outcome = validate({"PP_VRWRKCD": code}, kind="mutation")

    assert errors(outcome) == [("PP_VRWRKCD", "invalid_processing_code")]


def test_mutation_row_without_processing_code_is_rejected() -> None:
    assert errors(validate({"PP_VRWRKCD": ""}, kind="mutation")) == [("PP_VRWRKCD", "required")]


def test_mutation_row_in_a_file_without_the_processing_code_column_is_rejected() -> None:
    assert errors(validate(kind="mutation")) == [("PP_VRWRKCD", "required")]


def test_full_delivery_row_may_omit_the_processing_code() -> None:
    assert validate({"PP_VRWRKCD": ""}).row is not None


@pytest.mark.parametrize(
    ("delivered", "expected"),
    [
        ("RP", ("RP",)),
        ("rp|vk", ("RP", "VK")),
        ("VK|RP|VK", ("VK", "RP")),
        (" WC | IN |FV|", ("WC", "IN", "FV")),
        ("RP|VK|WC|IN|FV", ("RP", "VK", "WC", "IN", "FV")),
    ],
)
def test_modules_are_split_deduplicated_and_keep_their_order(
    delivered: str, expected: tuple[str, ...]
) -> None:
    outcome = validate({"PP_DEKKING": delivered})

    assert outcome.row is not None
    assert outcome.row.policy.modules == expected


@pytest.mark.parametrize("delivered", ["RP|XX", "RB", "RP,VK"])
def test_unknown_module_is_rejected(delivered: str) -> None:
    assert errors(validate({"PP_DEKKING": delivered})) == [("PP_DEKKING", "invalid_modules")]


def test_modules_of_only_separators_count_as_empty() -> None:
    assert errors(validate({"PP_DEKKING": "| |"})) == [("PP_DEKKING", "required")]


@pytest.mark.parametrize(
    ("delivered", "expected"),
    [
        ("0", Decimal("0")),
        ("250", Decimal("250")),
        ("175,00", Decimal("175.00")),
        ("175.5", Decimal("175.5")),
        ("€ 1.250,00", Decimal("1250.00")),
        ("1.250,50", Decimal("1250.50")),
        ("1,250.50", Decimal("1250.50")),
        ("1.250.000", Decimal("1250000")),
        ("1250.50", Decimal("1250.50")),
        ("1250,5", Decimal("1250.5")),
        ("0.250", Decimal("0.250")),
        ("1250.000", Decimal("1250.000")),
    ],
)
def test_deductible_accepts_comma_and_point_decimals(delivered: str, expected: Decimal) -> None:
    outcome = validate({"PP_EIGENRISICO": delivered})

    assert outcome.row is not None
    assert outcome.row.policy.deductible_eur == expected


@pytest.mark.parametrize(
    "delivered",
    ["-1", "-0,01", "abc", "1,2,3", "1.2.3", "1.25.0", "12.50,0.5", "1,250,50", "1.250.5"],
)
def test_negative_or_malformed_deductible_is_rejected(delivered: str) -> None:
    outcome = validate({"PP_EIGENRISICO": delivered})

    assert errors(outcome) == [("PP_EIGENRISICO", "invalid_deductible")]


@pytest.mark.parametrize("delivered", ["1.250", "12.500", "€ 250.000", "1,250", "999,000"])
def test_a_deductible_with_one_separator_before_three_digits_is_refused_as_ambiguous(
    delivered: str,
) -> None:
    # given a deductible that reads as thousands in Dutch (1.250 = 1250) and as a decimal in
    # English (1.250 = 1.25), or the other way round for a comma
    # when the row is validated
    outcome = validate({"PP_EIGENRISICO": delivered})

    # then it is refused with its own code rather than stored as either amount
    assert errors(outcome) == [("PP_EIGENRISICO", "ambiguous_deductible")]


@pytest.mark.parametrize("code", ["A", "H", "I", "K", "k"])
def test_household_codes_are_accepted(code: str) -> None:
    outcome = validate({"PP_GEZIN": code})

    assert outcome.row is not None
    assert outcome.row.policy.household == code.upper()


def test_unknown_household_code_is_rejected() -> None:
    assert errors(validate({"PP_GEZIN": "B"})) == [("PP_GEZIN", "invalid_household")]


# --- party rules ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["VP", "SP", "KN", "VZ", "sp"])
def test_party_role_comes_from_entiteit(role: str) -> None:
    outcome = validate({"ENTITEIT": role})

    assert outcome.row is not None
    assert outcome.row.party.role == role.upper()


def test_party_role_defaults_to_policyholder() -> None:
    outcome = validate()

    assert outcome.row is not None
    assert outcome.row.party.role == "VP"


def test_unknown_role_is_rejected() -> None:
    assert errors(validate({"ENTITEIT": "XX"})) == [("ENTITEIT", "invalid_role")]


@pytest.mark.parametrize("gender", ["M", "V", "X", "m"])
def test_natural_person_genders_are_accepted(gender: str) -> None:
    outcome = validate({"GESLACH": gender})

    assert outcome.row is not None
    assert outcome.row.party.gender == gender.upper()
    assert outcome.row.party.is_legal_entity is False


def test_unknown_gender_is_rejected() -> None:
    assert errors(validate({"GESLACH": "Q"})) == [("GESLACH", "invalid_gender")]


def test_birth_date_today_is_accepted() -> None:
    outcome = validate({"GEBDAT": TODAY.isoformat()})

    assert outcome.row is not None
    assert outcome.row.party.birth_date == "2025-06-01"


def test_birth_date_tomorrow_is_in_the_future() -> None:
    outcome = validate({"GEBDAT": "20250602"})

    assert errors(outcome) == [("GEBDAT", "birth_date_in_future")]


def test_natural_person_needs_a_birth_date() -> None:
    assert errors(validate({"GEBDAT": ""})) == [("GEBDAT", "required")]


def test_natural_person_in_a_file_without_birth_date_column_is_rejected() -> None:
    assert errors(validate(drop=("GEBDAT",))) == [("GEBDAT", "required")]


def test_invalid_birth_date_is_rejected() -> None:
    assert errors(validate({"GEBDAT": "1980-02-30"})) == [("GEBDAT", "invalid_date")]


def test_legal_entity_needs_no_birth_date_and_keeps_its_kvk_number() -> None:
    outcome = validate(
        {"GESLACH": "R", "ANAAM": "De Groene Vlinder B.V.", "GEBDAT": "", "KVKNR": "1234 5678"}
    )

    assert outcome.row is not None
    party = outcome.row.party
    assert party.is_legal_entity is True
    assert party.surname == "De Groene Vlinder B.V."
    assert party.surname_key == "groenevlinderbv"
    assert party.kvk == "12345678"
    assert party.birth_date is None


def test_legal_entity_with_invalid_kvk_number_is_rejected() -> None:
    outcome = validate({"GESLACH": "R", "ANAAM": "Vlinder B.V.", "KVKNR": "1234567"})

    assert errors(outcome) == [("KVKNR", "invalid_kvk")]


@pytest.mark.parametrize(
    ("surname", "tussenvoegsels"),
    [("Van der Berg", ""), ("Berg, van der", ""), ("Berg", "van der"), ("VAN DER BERG", "")],
)
def test_surname_spellings_give_one_matching_key(surname: str, tussenvoegsels: str) -> None:
    outcome = validate({"ANAAM": surname, "VOORV": tussenvoegsels})

    assert outcome.row is not None
    assert outcome.row.party.surname_key == "berg"
    assert outcome.row.party.tussenvoegsels == "van der"


def test_surname_without_letters_is_rejected() -> None:
    assert errors(validate({"ANAAM": "--"})) == [("ANAAM", "invalid_name")]


def test_house_number_without_number_is_rejected() -> None:
    assert errors(validate({"HUISNR": "a"})) == [("HUISNR", "invalid_house_number")]


def test_separate_addition_overrides_one_in_the_house_number() -> None:
    outcome = validate({"HUISNR": "12a", "TOEVOEG": " -bis"})

    assert outcome.row is not None
    assert (outcome.row.party.house_number, outcome.row.party.house_number_addition) == (
        "12",
        "BIS",
    )


@pytest.mark.parametrize("postcode", ["1234SA", "1234 sd", "1234SS", "0123AB", "1234"])
def test_invalid_dutch_postcode_is_rejected(postcode: str) -> None:
    assert errors(validate({"PCODE": postcode})) == [("PCODE", "invalid_postcode")]


@pytest.mark.parametrize("country", ["", "NL", "nl", "NLD", "Nederland"])
def test_dutch_address_needs_a_valid_postcode(country: str) -> None:
    outcome = validate({"LAND": country, "PCODE": "1234 ab"})

    assert outcome.row is not None
    assert (outcome.row.party.country, outcome.row.party.postcode) == ("NL", "1234AB")
    assert errors(validate({"LAND": country, "PCODE": ""})) == [("PCODE", "required")]


def test_foreign_postcode_is_kept_trimmed_as_delivered() -> None:
    outcome = validate({"LAND": "be", "PCODE": " B-1000 "})

    assert outcome.row is not None
    assert (outcome.row.party.country, outcome.row.party.postcode) == ("BE", "B-1000")


def test_foreign_address_may_omit_the_postcode() -> None:
    outcome = validate({"LAND": "DE", "PCODE": ""})

    assert outcome.row is not None
    assert outcome.row.party.postcode is None


def test_country_that_is_no_iso_code_is_rejected() -> None:
    assert errors(validate({"LAND": "Belgie"})) == [("LAND", "invalid_country")]


@pytest.mark.parametrize(
    ("country", "stored"), [("BEL", "BE"), ("deu", "DE"), ("BE", "BE"), ("FRA", "FR")]
)
def test_a_foreign_country_is_accepted_as_its_alpha_2_or_alpha_3_code(
    country: str, stored: str
) -> None:
    # given a Belgian or German address with the country as ISO 3166-1 alpha-3 or alpha-2
    # when the row is validated
    outcome = validate({"LAND": country, "PCODE": "1000"})

    # then it is stored under the alpha-2 code, its postcode as delivered (not a Dutch one)
    assert outcome.row is not None, errors(outcome)
    assert (outcome.row.party.country, outcome.row.party.postcode) == (stored, "1000")


@pytest.mark.parametrize("country", ["ZZZ", "QQQ", "B", "B1"])
def test_a_three_letter_code_that_names_no_country_is_rejected(country: str) -> None:
    assert errors(validate({"LAND": country})) == [("LAND", "invalid_country")]


@pytest.mark.parametrize("country", ["AN", "EL", "YU", "CS", "UK", "XK"])
def test_a_two_letter_code_is_kept_as_before_also_one_iso_withdrew_or_never_had(
    country: str,
) -> None:
    # given a code still in real portfolios: the Netherlands Antilles, Greece as the EU
    # writes it, Yugoslavia, Serbia and Montenegro, the United Kingdom, Kosovo
    # when the row is validated
    outcome = validate({"LAND": country.lower(), "PCODE": ""})

    # then it is stored as before, upper case, and the policy is not refused for it
    assert outcome.row is not None, errors(outcome)
    assert outcome.row.party.country == country


def test_a_withdrawn_alpha_3_code_gives_its_alpha_2_code() -> None:
    outcome = validate({"LAND": "ANT", "PCODE": ""})

    assert outcome.row is not None, errors(outcome)
    assert outcome.row.party.country == "AN"


@pytest.mark.parametrize(
    ("label", "value", "code"),
    [
        ("EMAIL", "jan@", "invalid_email"),
        ("TELNUM", "12345", "invalid_phone"),
        ("MOBIEL", "06-1234", "invalid_phone"),
        ("KVKNR", "12", "invalid_kvk"),
    ],
)
def test_invalid_contact_details_are_rejected(label: str, value: str, code: str) -> None:
    assert errors(validate({label: value})) == [(label, code)]


# --- privacy ----------------------------------------------------------------------------------


def test_bsn_value_is_dropped_and_appears_nowhere_in_the_outcome() -> None:
    bsn = "111222333"

    outcome = validate({"BSNR": bsn, "PCODE": "bad"})

    assert outcome.bsn_dropped is True
    assert bsn not in repr(outcome)
    assert all(bsn not in e.message_nl + e.message_en for e in outcome.errors)


def test_bsn_value_is_dropped_from_a_valid_row() -> None:
    bsn = "111222333"

    outcome = validate({"VP_BSNR": bsn})

    assert outcome.row is not None
    assert outcome.bsn_dropped is True
    assert bsn not in repr(outcome)


def test_empty_bsn_is_not_counted_as_dropped() -> None:
    assert validate({"BSNR": " "}).bsn_dropped is False


@pytest.mark.parametrize(
    ("label", "value"),
    [
        ("ANAAM", "!!"),
        ("GEBDAT", "1980-02-31"),
        ("GEBDAT", "2090-01-01"),
        ("HUISNR", "Kerkstraat"),
        ("PCODE", "9999SS"),
        ("EMAIL", "geheim.adres@"),
        ("TELNUM", "0201234"),
        ("MOBIEL", "061234"),
        ("LAND", "Verweggistan"),
    ],
)
def test_error_messages_never_contain_the_personal_value(label: str, value: str) -> None:
    outcome = validate({label: value})

    assert outcome.errors
    assert all(value not in e.message_nl and value not in e.message_en for e in outcome.errors)


# --- entity prefixes --------------------------------------------------------------------------


def prefixed(values: dict[str, str]) -> RowOutcome:
    labels = ["PP_NUMMER", "PP_BRANCHE", "PP_INGDAT", "PP_DEKKING", *values]
    policy = ["RB-1", "090", "20240101", "RP"]
    header = map_header(labels, "full")
    return validate_row([*policy, *values.values()], header, kind="full", line=3, today=TODAY)


def test_prefixed_columns_set_the_party_role() -> None:
    outcome = prefixed(
        {"SP_ANAAM": "Jansen", "SP_GEBDAT": "19800101", "SP_HUISNR": "1", "SP_PCODE": "1234AB"}
    )

    assert outcome.row is not None
    assert outcome.row.party.role == "SP"
    assert outcome.row.party.surname == "Jansen"


def test_the_prefix_whose_columns_are_filled_decides_the_role() -> None:
    row = {
        "VP_ANAAM": "",
        "VP_GEBDAT": "",
        "SP_ANAAM": "Jansen",
        "SP_GEBDAT": "1980-01-01",
        "HUISNR": "1",
        "PCODE": "1234AB",
    }

    outcome = prefixed(row)

    assert outcome.row is not None
    assert outcome.row.party.role == "SP"
    assert outcome.row.party.birth_date == "1980-01-01"


def test_row_filling_two_prefixes_is_rejected() -> None:
    row = {"VP_ANAAM": "Jansen", "SP_ANAAM": "Pietersen", "GEBDAT": "19800101"}

    outcome = prefixed({**row, "HUISNR": "1", "PCODE": "1234AB"})

    assert ("VP/SP", "multiple_parties") in errors(outcome)


def test_entiteit_contradicting_the_prefix_is_rejected() -> None:
    row = {"ENTITEIT": "VP", "KN_ANAAM": "Jansen", "KN_GEBDAT": "20150101"}

    outcome = prefixed({**row, "HUISNR": "1", "PCODE": "1234AB"})

    assert errors(outcome) == [("ENTITEIT", "invalid_role")]


def test_errors_in_prefixed_columns_name_the_prefixed_label() -> None:
    outcome = prefixed({"SP_ANAAM": "Jansen", "SP_GEBDAT": "2099-01-01", "SP_HUISNR": "1"})

    assert errors(outcome) == [("SP_GEBDAT", "birth_date_in_future"), ("PCODE", "required")]


def test_every_delivered_value_reaches_its_own_field_of_the_policy_and_the_party() -> None:
    # given a row with a distinct value in every column (validate_row builds the policy and
    # the party positionally, for speed: this is what catches two swapped arguments)
    outcome = validate(
        {
            "PP_PRODUCC": "PRD-1",
            "PP_EXPDAT": "20301231",
            "PP_VRWRKCD": "1",
            "PP_VOORW": "VW-2024",
            "PP_CLAUSULES": "C1|C2",
            "PP_EIGENRISICO": "250",
            "PP_GEZIN": "H",
            "ENTITEIT": "SP",
            "GESLACH": "V",
            "VOORV": "",
            "VOORL": "J.A.",
            "RNAAM": "Johanna",
            "STRAAT": "Dorpsstraat",
            "TOEVOEG": "bis",
            "PLAATS": "Utrecht",
            "LAND": "NL",
            "EMAIL": "j.berg@example.nl",
            "TELNUM": "030 123 4567",
            "MOBIEL": "06 1234 5678",
        }
    )

    # then every field holds its own value
    assert outcome.row is not None, outcome.errors
    assert outcome.row.policy == PolicyFields(
        policy_number="RB-001",
        branch="090",
        start_date="2024-01-01",
        modules=("RP", "VK"),
        product="PRD-1",
        end_date="2030-12-31",
        processing_code="1",
        conditions="VW-2024",
        clauses=("C1", "C2"),
        deductible_eur=Decimal("250"),
        household="H",
    )
    assert outcome.row.party == PartyFields(
        role="SP",
        is_legal_entity=False,
        surname="Berg",
        surname_key="berg",
        gender="V",
        tussenvoegsels="van der",
        initials="J.A.",
        first_name="Johanna",
        birth_date="1980-05-17",
        street="Dorpsstraat",
        house_number="12",
        house_number_addition="BIS",
        postcode="1234AB",
        city="Utrecht",
        country="NL",
        email="j.berg@example.nl",
        phone="+31301234567",
        mobile="+31612345678",
        kvk=None,
    )
