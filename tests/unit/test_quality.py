"""Field-level quality counts (chalicelib/rules/quality.py): what a row's shape adds to each
field, and the report's ratios."""

from __future__ import annotations

from datetime import date

import pytest

from chalicelib.models.portfolio import RowOutcome
from chalicelib.models.quality import QualityCounts
from chalicelib.rules.quality import (
    QUALITY_FIELDS,
    QUERY_FORMS,
    FieldTally,
    client_entry,
    count_clients,
    field_score,
    summarise,
)
from chalicelib.rules.rows import map_header, validate_row

pytestmark = pytest.mark.unit

LABELS = [
    "PP_NUMMER", "PP_BRANCHE", "PP_INGDAT", "PP_EXPDAT", "PP_DEKKING", "PP_GEZIN",
    "GESLACH", "ANAAM", "VOORL", "GEBDAT", "HUISNR", "PCODE", "EMAIL", "TELNUM", "KVKNR",
]  # fmt: skip
HEADER = map_header(LABELS, "full")
TODAY = date(2026, 1, 1)


def row(**values: str) -> list[str]:
    base = {
        "PP_NUMMER": "P1", "PP_BRANCHE": "092", "PP_INGDAT": "20240101",
        "PP_DEKKING": "RP", "GESLACH": "V", "ANAAM": "Berg", "VOORL": "A.",
        "GEBDAT": "19800101", "HUISNR": "1", "PCODE": "1234AB",
    }  # fmt: skip
    base.update(values)
    return [base.get(label, "") for label in LABELS]


def counted(*rows: list[str]) -> QualityCounts:
    tally = FieldTally()
    for line, values in enumerate(rows, start=2):
        tally.add(validate_row(values, HEADER, kind="full", line=line, today=TODAY))
    counts = QualityCounts()
    tally.fold_into(counts)
    return counts


def field(counts: QualityCounts, name: str) -> dict[str, object]:
    return next(f.model_dump() for f in summarise(counts).fields if f.field == name)


def test_a_filled_valid_value_counts_as_filled_and_valid_and_an_empty_one_as_neither():
    # given two clean rows, one with an e-mail address and one without
    counts = counted(row(EMAIL="a@example.nl"), row(PP_NUMMER="P2"))

    # then e-mail applies to both, is filled and valid in one: completeness 0.5, validity 1.0
    email = field(counts, "email")
    assert (email["applicable"], email["filled"], email["valid"]) == (2, 1, 1)
    assert (email["completeness"], email["validity"], email["errors"]) == (0.5, 1.0, {})


def test_an_invalid_value_is_filled_not_valid_and_counted_under_its_error_code():
    # given one valid and one invalid phone number (the second row is rejected for it)
    counts = counted(row(TELNUM="0612345678"), row(PP_NUMMER="P2", TELNUM="12"))

    # then both are filled, one is valid, and the other is counted as invalid_phone
    phone = field(counts, "phone")
    assert (phone["filled"], phone["valid"], phone["errors"]) == (2, 1, {"invalid_phone": 1})
    assert phone["validity"] == 0.5


def test_a_missing_required_value_is_not_filled_and_counted_as_required():
    counts = counted(row(GEBDAT=""))
    birth = field(counts, "birth_date")
    assert (birth["applicable"], birth["filled"], birth["errors"]) == (1, 0, {"required": 1})


def test_birth_date_applies_to_natural_persons_and_kvk_to_legal_entities_only():
    # given a person and a company
    counts = counted(row(), row(PP_NUMMER="P2", GESLACH="R", GEBDAT="", KVKNR="12345678"))

    # then the birth date is counted over the person, the KvK number over the company
    assert field(counts, "birth_date")["applicable"] == 1
    kvk = field(counts, "kvk")
    assert (kvk["applicable"], kvk["filled"], kvk["valid"]) == (1, 1, 1)


def test_a_field_of_two_columns_needs_both_or_either_as_the_contract_says():
    # postcode + house number needs both; initials or first name either
    counts = counted(row(PCODE=""), row(PP_NUMMER="P2", VOORL=""))
    address = field(counts, "postcode_house_number")
    assert (address["filled"], address["errors"]) == (1, {"required": 1})
    assert field(counts, "initials_or_first_name")["filled"] == 1


def test_an_error_in_a_prefixed_column_counts_for_its_field():
    header = map_header(["PP_NUMMER", "PP_BRANCHE", "PP_INGDAT", "PP_DEKKING", "SP_ANAAM",
                         "SP_GEBDAT", "SP_HUISNR", "SP_PCODE", "SP_EMAIL"], "full")  # fmt: skip
    tally = FieldTally()
    values = ["P1", "092", "20240101", "RP", "Berg", "19800101", "1", "1234AB", "not-an-address"]
    tally.add(validate_row(values, header, kind="full", line=2, today=TODAY))
    counts = QualityCounts()
    tally.fold_into(counts)
    assert field(counts, "email")["errors"] == {"invalid_email": 1}


def test_only_valid_rows_count_as_recognisable_by_each_query_form():
    # given two valid rows (one with a mobile number and e-mail) and a rejected row
    counts = counted(
        row(TELNUM="0612345678", EMAIL="a@example.nl"),
        row(PP_NUMMER="P2"),
        row(PP_NUMMER="P3", PCODE="99"),
    )

    # then the forms count over the two valid rows
    shares = {r.form: (r.rows, r.share) for r in summarise(counts).recognisable}
    assert counts.valid_rows == 2
    assert shares["policy_number"] == (2, 1.0)
    assert shares["address"] == (2, 1.0)
    assert shares["name_birth_date"] == (2, 1.0)
    assert shares["phone"] == (1, 0.5)
    assert shares["email"] == (1, 0.5)
    assert shares["kvk"] == (0, 0.0)


def test_folding_twice_adds_only_the_rows_seen_since_the_last_fold():
    # given a tally folded after one row, then after a second
    tally = FieldTally()
    counts = QualityCounts()
    for number in ("P1", "P2"):
        tally.add(validate_row(row(PP_NUMMER=number), HEADER, kind="full", line=2, today=TODAY))
        tally.fold_into(counts)

    # then each row is counted once
    assert counts.rows == 2
    assert counts.fields["surname"].applicable == 2


def test_a_valid_row_fills_the_same_fields_as_its_twin_rejected_for_a_column_no_field_reads():
    # given rows of every filled/empty pattern (a person with e-mail and phone, one without, a
    # company with a KvK number and a birth date it need not give), each once valid and once
    # rejected for its branch (no field reads PP_BRANCHE), the valid ones of one policy
    patterns: list[dict[str, str]] = [
        {"EMAIL": "a@example.nl", "TELNUM": "0612345678", "PP_EXPDAT": "20301231"},
        {"VOORL": "", "PP_GEZIN": "H"},
        {"GESLACH": "R", "KVKNR": "12345678", "VOORL": ""},
    ]
    valid = FieldTally()
    valid.add_valid([outcome(**values) for values in patterns])
    rejected = FieldTally()
    for values in patterns:
        twin = outcome(**values, PP_BRANCHE="999")
        assert twin.row is None
        rejected.add(twin)

    # when both are folded
    valid_counts, rejected_counts = QualityCounts(), QualityCounts()
    valid.fold_into(valid_counts)
    rejected.fold_into(rejected_counts)

    # then every field is applicable to, filled and valid in the same rows
    for name in (f.name for f in QUALITY_FIELDS):
        twin = rejected_counts.fields[name]
        assert valid_counts.fields[name].model_dump() == twin.model_dump(), name
    assert (valid_counts.rows, valid_counts.valid_rows) == (3, 3)
    assert valid_counts.fields["kvk"].filled == 1
    assert valid_counts.fields["birth_date"].applicable == 2


def test_the_summary_lists_every_field_even_one_no_row_applied_to():
    summary = summarise(counted(row()))
    assert [f.field for f in summary.fields] == [f.name for f in QUALITY_FIELDS]
    kvk = next(f for f in summary.fields if f.field == "kvk")
    assert (kvk.applicable, kvk.completeness, kvk.validity) == (0, None, None)


def test_the_score_is_the_mean_of_completeness_times_validity_over_the_fields_that_applied():
    fields = summarise(counted(row(EMAIL="a@example.nl"), row(PP_NUMMER="P2", TELNUM="12"))).fields
    completeness, validity, score = field_score(fields)
    applied = [f for f in fields if f.completeness is not None]
    expected = sum((f.completeness or 0) * (f.validity or 0) for f in applied) / len(applied)
    assert score == round(expected, 4)
    assert completeness is not None
    assert validity is not None
    assert 0 < score < 1


def outcome(**values: str) -> RowOutcome:
    return validate_row(row(**values), HEADER, kind="full", line=2, today=TODAY)


def test_distinct_clients_are_counted_across_parts_with_the_forms_of_any_of_their_rows():
    # given client A on a row with an e-mail (part 1) and on one without but with a phone
    # (part 2), and client B on a row with neither, in both parts
    plain, with_email = outcome(), outcome(EMAIL="a@example.nl")
    with_phone = outcome(TELNUM="0612345678")
    part_1 = sorted([client_entry("c_a", with_email), client_entry("c_b", plain)])
    part_2 = sorted([client_entry("c_a", with_phone), client_entry("c_b", plain)])

    # when the parts are counted
    clients, found = count_clients([part_1, part_2])

    # then there are two clients: A findable by e-mail and phone, both by address and name
    assert clients == 2
    assert found == {
        "policy_number": 2,
        "address": 2,
        "name_birth_date": 2,
        "phone": 1,
        "email": 1,
        "kvk": 0,
    }


def test_no_parts_count_no_clients():
    assert count_clients([]) == (0, dict.fromkeys(QUERY_FORMS, 0))
