"""Exports for spreadsheets neutralise formula-like cells (chalicelib/rules/spreadsheet.py)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from chalicelib.rules.spreadsheet import spreadsheet_cell, spreadsheet_csv

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "delivered",
    [
        '=HYPERLINK("https://evil.example","klik")',
        "=1+1",
        "+31 6 12345678",
        "-2+3",
        "@SUM(A1:A9)",
        "\t=1+1",
        "\r=1+1",
    ],
)
def test_a_text_a_spreadsheet_would_read_as_a_formula_gets_a_leading_quote(delivered: str) -> None:
    assert spreadsheet_cell(delivered) == "'" + delivered


@pytest.mark.parametrize("plain", ["Berg", "van der Berg", "1234AB", "a=b", "", " =1", "'quoted"])
def test_other_texts_stay_as_they_are(plain: str) -> None:
    assert spreadsheet_cell(plain) == plain


def test_numbers_stay_numbers_even_when_negative_and_none_is_an_empty_cell() -> None:
    assert [spreadsheet_cell(v) for v in (-5, 17, Decimal("-2.50"), None)] == [
        "-5",
        "17",
        "-2.50",
        "",
    ]


def test_a_csv_for_spreadsheets_neutralises_every_cell_and_keeps_quotes_and_separators() -> None:
    # when rows with formula-like texts, separators and quotes are written
    document = spreadsheet_csv(
        ["name", "line"], [['=HYPERLINK("x";"y")', 3], ["Berg; Jan", -1], ["@x", None]]
    )

    # then a spreadsheet-style reader gets every text back with formulas neutralised
    assert document.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(document.lstrip("\ufeff")), delimiter=";"))
    assert rows == [
        ["name", "line"],
        ['\'=HYPERLINK("x";"y")', "3"],
        ["Berg; Jan", "-1"],
        ["'@x", ""],
    ]
