"""Every row of a policy repeats the policy's own columns (PP_INGDAT, PP_EXPDAT, PP_DEKKING,
PP_GEZIN, ...). Rows that contradict each other there (an export joining a party table to two
versions of the policy) leave the register unable to tell which is the policy: the policy is
refused (`policy_rows_disagree`, naming the columns), what it had stays, and a check-only
delivery says the same. Rows that write the same value in another notation the contract allows
(`92` for `092`, `2024-01-01` for `20240101`, `wc|rp|vk` for `RP|VK|WC`) agree, and so does a
row that leaves an optional policy column empty (an export writing the policy's details on the
policyholder's row only): the policy is stored with the value the rows give."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from chalicelib.rules.quality import scorecard
from tests.support.ingest import HEADER, person
from tests.support.ingest import csv_bytes as rows_as_csv
from tests.support.memory import MemoryRegister
from tests.unit.test_ingest_scenarios import deliver, policy
from tests.unit.test_quality_scenarios import comparable

pytestmark = pytest.mark.unit

PARTNER = "demo-volmacht"
PARTNER_ROW = {"ENTITEIT": "SP", "VOORL": "B.", "GEBDAT": "19810101"}
COLUMNS = [*HEADER, "PP_PRODUCC", "PP_VOORW", "PP_CLAUSULES", "PP_EIGENRISICO"]


def csv_bytes(rows: list[dict[str, str]]) -> bytes:
    """The rows with every policy column of the contract."""
    return rows_as_csv(rows, header=COLUMNS)


def household(holder: dict[str, str], partner: dict[str, str]) -> list[dict[str, str]]:
    """The partner's row first, as the export of the review wrote it."""
    return [person("H1", **PARTNER_ROW, **partner), person("H1", **holder)]


def test_rows_of_one_policy_that_disagree_on_its_columns_refuse_the_policy() -> None:
    # given a household policy whose partner row says RP from 2023 without end, and whose
    # policyholder row says RP|VK|WC for 2024 (its end agrees: the partner row gives none)
    register = MemoryRegister()
    rows = household(
        {"PP_DEKKING": "RP|VK|WC", "PP_EXPDAT": "20241231"},
        {"PP_DEKKING": "RP", "PP_INGDAT": "20230101"},
    )

    # when it is delivered
    report = deliver(register, "x.csv", csv_bytes(rows))

    # then the policy is refused, at the policyholder's row, naming the columns
    assert report["error_counts"]["policy_rows_disagree"] == 1
    (error,) = [e for e in report["errors"] if e["code"] == "policy_rows_disagree"]
    assert (error["line"], error["column"]) == (3, "PP_INGDAT/PP_DEKKING")
    assert "PP_INGDAT, PP_DEKKING" in error["message_en"]
    assert "H1" in error["message"]
    assert (report["rows_accepted"], report["rows_rejected"]) == (0, 2)
    assert register.policy("H1", PARTNER) is None
    # and the partner's scorecard counts it among its errors, with what it means
    card = scorecard(PARTNER, list(register.quality.history(PARTNER, limit=1)))
    assert ("policy_rows_disagree", 1) in [(e.code, e.rows) for e in card.top_errors]
    assert report["quality"]["rows"] == 2


def test_a_stored_policy_stays_as_it_was_when_its_rows_later_disagree() -> None:
    # given a household policy stored from agreeing rows
    register = MemoryRegister()
    other = person("A1")
    agreeing = household({"PP_GEZIN": "H"}, {"PP_GEZIN": "H"})
    deliver(register, "m1.csv", csv_bytes([other, *agreeing]))

    # when the next full delivery has its rows disagree on the household code
    disagreeing = household({"PP_GEZIN": "H"}, {"PP_GEZIN": "A"})
    report = deliver(register, "m2.csv", csv_bytes([other, *disagreeing]))

    # then it is refused and the register keeps the policy as it was, not ended
    assert report["error_counts"] == {"policy_rows_disagree": 1}
    stored = register.policy("H1", PARTNER)
    assert stored is not None
    assert (stored["household"], stored["status"]) == ("H", "active")


@pytest.mark.parametrize(
    ("holder", "partner"),
    [
        ({"PP_BRANCHE": "092"}, {"PP_BRANCHE": "92"}),
        ({"PP_INGDAT": "20240101"}, {"PP_INGDAT": "2024-01-01"}),
        ({"PP_DEKKING": "RP|VK|WC"}, {"PP_DEKKING": "wc|rp|vk"}),
        ({"PP_GEZIN": "H"}, {"PP_GEZIN": "h"}),
        ({"PP_EIGENRISICO": "250"}, {"PP_EIGENRISICO": "250,00"}),
        ({"PP_CLAUSULES": "K01|K07"}, {"PP_CLAUSULES": "K07|K01"}),
    ],
    ids=["branch", "date", "modules", "household", "deductible", "clauses"],
)
def test_rows_writing_one_value_in_another_notation_agree(
    holder: dict[str, str], partner: dict[str, str]
) -> None:
    # given a household whose rows write a policy column each in their own notation
    register = MemoryRegister()

    # when it is delivered
    report = deliver(register, "x.csv", csv_bytes(household(holder, partner)))

    # then the policy is stored with both rows
    assert report["error_counts"] == {}, report["errors"]
    assert report["rows_accepted"] == 2


@pytest.mark.parametrize(
    ("column", "value", "stored"),
    [
        ("PP_EXPDAT", "20301231", ("end_date", "2030-12-31")),
        ("PP_GEZIN", "H", ("household", "H")),
        ("PP_EIGENRISICO", "250", ("deductible_eur", Decimal("250"))),
        ("PP_CLAUSULES", "K01|K07", ("clauses", ["K01", "K07"])),
        ("PP_PRODUCC", "RB-PLUS", ("product", "RB-PLUS")),
    ],
)
def test_an_optional_column_given_on_the_policyholders_row_only_is_stored_with_the_policy(
    column: str, value: str, stored: tuple[str, Any]
) -> None:
    # given a household whose partner row (first) leaves an optional policy column empty that
    # the policyholder's row gives
    register = MemoryRegister()
    rows = household({column: value}, {column: ""})

    # when it is delivered
    report = deliver(register, "x.csv", csv_bytes(rows))

    # then the policy is stored with both rows and the value the policyholder's row gives
    assert report["error_counts"] == {}, report["errors"]
    assert report["rows_accepted"] == 2
    attribute, expected = stored
    assert policy(register, "H1")[attribute] == expected


@pytest.mark.parametrize(
    ("holder", "partner", "agree"),
    [("1", "0", True), ("1", "1", True), ("2", "1", False), ("4", "0", False)],
)
def test_in_a_mutation_rows_disagree_on_the_processing_code_only_where_it_does_something_else(
    holder: str, partner: str, agree: bool
) -> None:
    # given a household changed by a mutation, its rows with these processing codes
    register = MemoryRegister()
    rows = household({"PP_VRWRKCD": holder}, {"PP_VRWRKCD": partner})

    # when it is delivered
    report = deliver(register, "x.csv", csv_bytes(rows), kind="mutation")

    # then `0` new beside `1` changed both store it; a cancellation or information beside
    # another code contradicts
    assert ("policy_rows_disagree" not in report["error_counts"]) is agree, report["errors"]


def disagreeing_export() -> bytes:
    rows: list[dict[str, Any]] = [person(f"A{n}") for n in range(5)]
    rows += household({"PP_DEKKING": "RP|VK"}, {"PP_DEKKING": "RP"})
    rows += [person(f"B{n}") for n in range(5)]
    return csv_bytes(rows)


def test_a_check_only_delivery_refuses_disagreeing_rows_as_the_real_delivery_does() -> None:
    # given an export with one household whose rows disagree on its modules
    checked, delivered = MemoryRegister(), MemoryRegister()

    # when the partner checks it, and (on another register) delivers it for real
    check = deliver(checked, "x.csv", disagreeing_export(), kind="check")
    real = deliver(delivered, "x.csv", disagreeing_export())

    # then both refuse that policy alone, and report alike
    assert real["error_counts"] == {"policy_rows_disagree": 1}
    assert real["rows_accepted"] == 10
    assert comparable(check) == comparable(real)
