"""Length bounds of the row rules (docs/file-contract.md, "Length bounds"): a value beyond its
column's bound is a row error, and no row within the bounds can build a DynamoDB key beyond
DynamoDB's limits (2,048 bytes for a partition key, 1,024 for a sort key, in UTF-8)."""

from __future__ import annotations

from datetime import date

import pytest

from chalicelib.models.portfolio import RowOutcome
from chalicelib.normalise import surname_key
from chalicelib.rules.rows import MAX_LENGTHS, map_header, validate_row
from chalicelib.store.register_items import policy_items

pytestmark = pytest.mark.unit

TODAY = date(2025, 6, 1)
PARTITION_KEY_MAX_BYTES = 2048
SORT_KEY_MAX_BYTES = 1024
ITEM_MAX_BYTES = 400 * 1024
VALID = {
    "PP_NUMMER": "RB-001",
    "PP_BRANCHE": "090",
    "PP_INGDAT": "20240101",
    "PP_VRWRKCD": "0",
    "PP_DEKKING": "RP|VK",
    "ANAAM": "Berg",
    "GEBDAT": "19800517",
    "HUISNR": "12",
    "PCODE": "1234AB",
}


def validate(row: dict[str, str]) -> RowOutcome:
    labels = list(row)
    header = map_header(labels, "mutation")
    return validate_row([row[k] for k in labels], header, kind="mutation", line=2, today=TODAY)


def _chars(stop: int) -> list[str]:
    return [chr(c) for c in range(stop) if not 0xD800 <= c < 0xE000]


def _widest_in_a_surname_key() -> str:
    """The character whose surname key is longest (compatibility forms such as ㎯ -> rads2)."""
    return max(_chars(0x30000), key=lambda ch: len(surname_key(ch * 2).encode()))


def _widest_lower_case() -> str:
    """The character whose lower case takes the most UTF-8 bytes."""
    return max(_chars(0x110000), key=lambda ch: len(ch.lower().encode()))


@pytest.mark.parametrize("label", sorted(MAX_LENGTHS))
def test_a_value_one_character_beyond_its_bound_is_value_too_long(label: str) -> None:
    # given a valid row whose value in `label` is one character beyond the bound
    row = {**VALID, "ENTITEIT": "VP", label: "9" * (MAX_LENGTHS[label] + 1)}

    # when it is validated
    outcome = validate(row)

    # then it is rejected for that column, and the message names the bound but not the value
    assert outcome.row is None
    assert [(e.column, e.code) for e in outcome.errors] == [(label, "value_too_long")]
    assert str(MAX_LENGTHS[label]) in outcome.errors[0].message_en
    assert "9" * (MAX_LENGTHS[label] + 1) not in outcome.errors[0].message_en


def test_a_surname_at_its_bound_is_accepted() -> None:
    outcome = validate({**VALID, "ANAAM": "B" * MAX_LENGTHS["ANAAM"]})

    assert outcome.errors == []


def test_a_too_long_value_in_a_prefixed_column_is_reported_under_that_column() -> None:
    row = {**VALID, "SP_ANAAM": "x" * 3000, "ANAAM": ""}

    outcome = validate(row)

    assert [(e.column, e.code) for e in outcome.errors] == [("SP_ANAAM", "value_too_long")]


def test_no_row_within_the_bounds_builds_a_key_beyond_dynamodbs_limits() -> None:
    # given a valid row with every column at its bound, filled with the characters that take
    # the most bytes (4 in UTF-8) or grow most where a value is normalised into a key
    wide = "\U0001f600"
    word = "\U0001d400"  # a letter of 4 bytes: survives the house number addition's cleaning
    lower = _widest_lower_case()
    row = {
        "PP_NUMMER": "K" * 30,
        "PP_BRANCHE": "090",
        "PP_PRODUCC": wide * MAX_LENGTHS["PP_PRODUCC"],
        "PP_INGDAT": "20240101",
        "PP_VRWRKCD": "0",
        "PP_DEKKING": "RP|VK|WC|IN|FV",
        "PP_VOORW": wide * MAX_LENGTHS["PP_VOORW"],
        "PP_CLAUSULES": wide * MAX_LENGTHS["PP_CLAUSULES"],
        "PP_EIGENRISICO": "250",
        "ENTITEIT": "VP",
        "GESLACH": "M",
        "ANAAM": _widest_in_a_surname_key() * MAX_LENGTHS["ANAAM"],
        "VOORV": wide * MAX_LENGTHS["VOORV"],
        "VOORL": wide * MAX_LENGTHS["VOORL"],
        "RNAAM": wide * MAX_LENGTHS["RNAAM"],
        "GEBDAT": "19800517",
        "STRAAT": wide * MAX_LENGTHS["STRAAT"],
        "HUISNR": "12345" + word * (MAX_LENGTHS["HUISNR"] - 5),
        "TOEVOEG": word * MAX_LENGTHS["TOEVOEG"],
        "PCODE": wide * MAX_LENGTHS["PCODE"],
        "PLAATS": wide * MAX_LENGTHS["PLAATS"],
        "LAND": "DE",
        "EMAIL": lower * (MAX_LENGTHS["EMAIL"] - 5) + "@x.nl",
        "TELNUM": "+491511234567",
        "MOBIEL": "0612345678",
        "KVKNR": "12345678",
    }
    outcome = validate(row)
    assert outcome.errors == []
    assert outcome.row is not None

    # when the register's items are built from it
    items = policy_items(
        "a" * 63,  # the longest partner id the settings accept
        [outcome.row],
        seq="20250601T000000.000000#" + "0" * 32,
        delivery_id="d" * 32,
        delivered_at="2025-06-01T00:00:00+00:00",
        expires_at=1_800_000_000,
        client_id_key="k" * 32,
    )

    # then every key of every item is within DynamoDB's limits, and so is every item
    assert {item["type"] for item in items} == {"policy", "party", "lookup"}
    assert any(item["pk"].startswith("LOOKUP#DOB#") for item in items)
    for item in items:
        for name in ("pk", "gsi1pk", "gsi2pk"):
            assert len(str(item.get(name, "")).encode()) <= PARTITION_KEY_MAX_BYTES, name
        for name in ("sk", "gsi1sk", "gsi2sk"):
            assert len(str(item.get(name, "")).encode()) <= SORT_KEY_MAX_BYTES, name
        size = sum(len(k.encode()) + len(str(v).encode()) for k, v in item.items())
        assert size <= ITEM_MAX_BYTES
