"""A UTF-8 portfolio with one row saved as Windows-1252 (a spreadsheet edit) is stored with
every name as written, wherever that row is: each line is decoded on its own
(docs/file-contract.md, "Format")."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.support.ingest import HEADER, all_items, drain, person, report, upload

pytestmark = pytest.mark.integration

PARTNER = "demo-volmacht"
COLUMNS = [*HEADER, "RNAAM"]
# (first name, surname) of three policyholders; one row is saved as Windows-1252
NAMES = [("Jürgen", "Müller"), ("José", "Gómez"), ("Chloë", "Ünal")]


def rows() -> list[dict[str, str]]:
    return [
        person(f"P-{n}", RNAAM=first, ANAAM=surname, VOORV="", HUISNR=str(n + 1))
        for n, (first, surname) in enumerate(NAMES)
    ]


def csv_lines() -> list[str]:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, delimiter=";", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows())
    return out.getvalue().splitlines(keepends=True)


def json_lines() -> list[str]:
    return [json.dumps(row, ensure_ascii=False) + "\n" for row in rows()]


@pytest.mark.parametrize("windows_row", [0, 1], ids=["windows-row-first", "windows-row-later"])
@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_one_windows_1252_row_in_a_utf8_file_stores_every_name_as_written(
    aws: dict[str, str], suffix: str, windows_row: int
) -> None:
    # given a UTF-8 file whose row `windows_row` was saved as Windows-1252
    lines = csv_lines()[1:] if suffix == "csv" else json_lines()
    header = csv_lines()[0].encode() if suffix == "csv" else b""
    data = header + b"".join(
        line.encode("cp1252" if n == windows_row else "utf-8") for n, line in enumerate(lines)
    )

    # when the partner delivers it
    upload(f"incoming/{PARTNER}/full/portfolio.{suffix}", data)
    drain(aws["ingest_queue_url"])

    # then every row is accepted and every name stored exactly as written
    assert report(PARTNER)[-1]["rows_accepted"] == len(NAMES)
    stored = {
        (item["first_name"], item["surname"]) for item in all_items() if item["type"] == "party"
    }
    assert stored == set(NAMES)


def test_a_json_value_with_half_an_emoji_is_a_row_error_and_the_rest_is_stored(
    aws: dict[str, str],
) -> None:
    # given JSON Lines (escaped, as most exporters write) where one surname ends in half an
    # emoji: the exporter cut it at a length limit
    lines = [json.dumps(row) for row in rows()]
    lines[1] = lines[1].replace("G\\u00f3mez", "G\\u00f3mez \\ud83d")

    # when the partner delivers it
    upload(f"incoming/{PARTNER}/full/portfolio.jsonl", "\n".join(lines).encode())
    drain(aws["ingest_queue_url"])

    # then that row is rejected as not readable text, and the others are stored as written
    delivered = report(PARTNER)[-1]
    assert delivered["status"] == "accepted_with_errors"
    assert [(e["line"], e["code"]) for e in delivered["errors"]] == [(2, "invalid_encoding")]
    stored = {
        (item["first_name"], item["surname"]) for item in all_items() if item["type"] == "party"
    }
    assert stored == {NAMES[0], NAMES[2]}
