"""Cells of exports meant for spreadsheets (CSV that people open in Excel, LibreOffice or
Google Sheets).

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read as a
formula by spreadsheets ("CSV injection", OWASP): a delivered name such as ``=HYPERLINK(…)``
would become a live link or worse in the reader's sheet. `spreadsheet_cell` puts a single quote
before such a text, which spreadsheets take as "this is text" and do not show. Numbers stay
numbers. Only exports go through here: stored values stay exactly as delivered.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Final

__all__ = ["FORMULA_STARTS", "spreadsheet_cell", "spreadsheet_csv", "spreadsheet_lines"]

FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: object) -> str:
    """The text of one cell, neutralised when a spreadsheet would read it as a formula."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value)  # a negative number is a number, not a formula
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def spreadsheet_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A CSV document for spreadsheets: every cell through `spreadsheet_cell`; ``;`` between
    cells and a byte order mark, so a Dutch Excel opens it in columns and as UTF-8."""
    return "\ufeff" + spreadsheet_lines([header]) + spreadsheet_lines(rows)


def spreadsheet_lines(rows: Iterable[Sequence[object]]) -> str:
    """Rows of such a document without its start (a part of a file written in parts)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    for row in rows:
        writer.writerow([spreadsheet_cell(value) for value in row])
    return out.getvalue()
