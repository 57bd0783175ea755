"""Columns the file contract does not know are not read, and the report says which: a partner
whose export writes `EMAILADRES` for `EMAIL` learns why no e-mail address arrived. Labels only,
never a value; once per file, capped; never for a file whose header did not map (its "labels"
may be a person's values). A BSN key is the contract's, not unknown: a JSON Lines object
carrying one, filled or empty, gets the same "BSN column" warning as a CSV header with `BSNR`,
and only a filled one is counted as dropped (docs/file-contract.md, "Format" and "The report")."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.config import reset_settings
from chalicelib.rules.unknown_columns import LISTED_AT_MOST, nameable, note_unknown
from tests.support.ingest import csv_bytes, person, portfolio
from tests.support.memory import MemoryRegister

pytestmark = pytest.mark.unit

PARTNER = "demo-volmacht"
HEADER = list(person("P1"))


def deliver(data: bytes, name: str, *, kind: str = "full", **drain: Any) -> dict[str, Any]:
    register = MemoryRegister()
    register.upload(f"incoming/{PARTNER}/{kind}/{name}", data)
    rounds = register.drain(**drain)
    return {**register.report(PARTNER), "invocations": rounds}


def jsonl(objects: list[dict[str, Any]]) -> bytes:
    return ("\n".join(json.dumps(obj) for obj in objects) + "\n").encode()


def unknown_columns_warnings(report: dict[str, Any]) -> list[str]:
    return [w for w in report["warnings"] if "not in the file contract" in w]


def bsn_warnings(report: dict[str, Any]) -> tuple[int, list[str]]:
    """(how many "BSN column" warnings, the "BSN values dropped" warnings)"""
    column = sum("The file has a BSN column" in w for w in report["warnings"])
    return column, [w for w in report["warnings"] if "BSN values dropped" in w]


@pytest.mark.parametrize("kind", ["full", "check"])
def test_a_csv_headers_unknown_columns_are_named_once_without_their_values(kind: str):
    # given a CSV export writing EMAILADRES for EMAIL and a column of notes, on every row
    rows = [person(f"P{i}", HUISNR=str(i), EMAILADRES=f"klant{i}@example.nl") for i in range(1, 4)]
    for row in rows:
        row["Opmerking"] = "belt liever niet"
    data = csv_bytes(rows, header=[*HEADER, "EMAILADRES", "Opmerking"])

    # when it is delivered (or checked)
    report = deliver(data, "export.csv", kind=kind)

    # then every row is stored, and one warning names the two labels, never a value
    assert report["rows_accepted"] == 3
    (warning,) = unknown_columns_warnings(report)
    assert "EMAILADRES, Opmerking" in warning
    text = json.dumps(report)
    assert "example.nl" not in text
    assert "belt liever niet" not in text


def test_a_json_lines_key_of_a_later_object_is_named():
    # given a JSON Lines export whose first client has no e-mail (the key is left out) and
    # whose later clients write it as EMAILADRES
    objects = [person("J1"), person("J2", HUISNR="2"), person("J3", HUISNR="3")]
    objects[1]["EMAILADRES"] = "b@example.nl"
    objects[2]["emailadres"] = "c@example.nl"
    objects[2]["Notitie"] = "vip"

    # when it is delivered
    report = deliver(jsonl(objects), "export.jsonl")

    # then the report names the keys (one spelling each), sorted, never a value
    assert report["rows_accepted"] == 3
    (warning,) = unknown_columns_warnings(report)
    assert "EMAILADRES, Notitie." in warning
    assert "example.nl" not in json.dumps(report)
    assert "vip" not in warning


def test_unknown_keys_seen_before_and_after_a_hand_over_are_named_in_one_warning(monkeypatch):
    # given a JSON Lines file of 60 policies read in batches of 25, with one unknown key in the
    # first object and another only in the last batch
    monkeypatch.setenv("INGEST_BATCH_ROWS", "25")
    reset_settings()
    objects: list[dict[str, Any]] = portfolio(60)  # type: ignore[assignment]
    objects[0]["VERZEKERDE_SINDS"] = "2001"
    objects[55]["KLANTNUMMER"] = "K-55"

    # when it is delivered one batch per invocation (out of time after each)
    report = deliver(jsonl(objects), "export.jsonl", remaining_ms=lambda: 1_000)

    # then both keys are named, in one warning
    assert report["invocations"] >= 3
    assert report["rows_accepted"] == 60
    (warning,) = unknown_columns_warnings(report)
    assert "VERZEKERDE_SINDS, KLANTNUMMER." in warning  # in the order the file has them


def test_the_list_is_capped_and_a_label_that_may_be_a_value_is_never_named():
    # given a header with 14 unknown columns, one of them 9 digits (a value, not a label)
    extra = [f"EXTRA_{i:02d}" for i in range(13)]
    data = csv_bytes([person("P1")], header=[*HEADER, "123456782", *extra])

    # when it is delivered
    report = deliver(data, "export.csv")

    # then ten labels are named, the rest only said to exist, and the digits never
    (warning,) = unknown_columns_warnings(report)
    assert "123456782" not in json.dumps(report)
    assert [label for label in extra if label in warning] == extra[:10]
    assert "…" in warning


def test_a_file_without_its_header_row_names_no_columns():
    # given a CSV whose header row is missing: its first row stands where the labels should be
    data = csv_bytes([person("P1"), person("P2")], header=HEADER).split(b"\n", 1)[1]

    # when it is delivered
    report = deliver(data, "export.csv")

    # then it is rejected for its missing columns, and none of the row's values is named
    assert report["status"] == "rejected"
    assert unknown_columns_warnings(report) == []
    assert "Berg" not in json.dumps(report["warnings"])


def test_a_file_of_the_contracts_columns_only_gets_no_unknown_columns_warning():
    # given a CSV, and a JSON Lines file whose second object writes its party role-prefixed
    csv_report = deliver(csv_bytes([person("P1")]), "export.csv")
    partner = person("J1", ANAAM="Visser", GEBDAT="19810101")
    prefixed = {k if k.startswith("PP_") else f"SP_{k}": v for k, v in partner.items()}
    del prefixed["SP_ENTITEIT"]

    # when they are delivered
    jsonl_report = deliver(jsonl([person("J1"), prefixed]), "export.jsonl")

    # then neither names an unknown column
    assert unknown_columns_warnings(csv_report) == []
    assert jsonl_report["rows_accepted"] == 2, jsonl_report["errors"]
    assert unknown_columns_warnings(jsonl_report) == []


# --- a BSN key ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["", None])
@pytest.mark.parametrize("key", ["BSNR", "bsnr", "VP_BSNR"])
@pytest.mark.parametrize("where", ["first", "later"])
def test_an_empty_json_lines_bsn_key_gets_the_bsn_column_warning_like_a_csv_column(
    key: str, value: str | None, where: str
):
    # given a JSON Lines export writing a BSN key without a value, in its first or a later object
    objects = [person("J1"), person("J2", HUISNR="2")]
    objects[0 if where == "first" else 1][key] = value  # type: ignore[assignment]
    # and a CSV export with an empty BSNR column
    csv_report = deliver(
        csv_bytes([{**person("J1"), "BSNR": ""}], header=[*HEADER, "BSNR"]), "export.csv"
    )

    # when it is delivered
    report = deliver(jsonl(objects), "export.jsonl")

    # then both say once that the file has a BSN column, and neither counts a dropped BSN
    assert report["rows_accepted"] == 2, report["errors"]
    assert bsn_warnings(report) == (1, [])
    assert bsn_warnings(csv_report) == (1, [])
    assert unknown_columns_warnings(report) == []


@pytest.mark.parametrize("where", ["first", "later"])
def test_a_filled_json_lines_bsn_key_is_counted_and_the_file_warned_about(where: str):
    # given a JSON Lines export with one BSN, in its first or a later object
    objects = [person("J1"), person("J2", HUISNR="2"), person("J3", HUISNR="3")]
    objects[0 if where == "first" else 2]["KN_Bsnr"] = "111222333"

    # when it is delivered
    report = deliver(jsonl(objects), "export.jsonl")

    # then the report has the BSN column warning and one BSN dropped, and no BSN anywhere
    assert report["rows_accepted"] == 3, report["errors"]
    column, dropped = bsn_warnings(report)
    assert column == 1
    (dropped_warning,) = dropped
    assert "1 BSN" in dropped_warning
    assert "111222333" not in json.dumps(report)


def test_a_json_lines_file_without_a_bsn_key_gets_no_bsn_warning():
    report = deliver(jsonl([person("J1"), person("J2", HUISNR="2")]), "export.jsonl")

    assert report["rows_accepted"] == 2
    assert bsn_warnings(report) == (0, [])


# --- which labels are named (rules/unknown_columns.py) ------------------------------------------


@pytest.mark.parametrize(
    ("label", "named"),
    [
        ("EMAILADRES", True),
        ("Adres_één", True),
        ("VERZEKERDE SINDS", True),
        ("123456782", False),  # a BSN where a label should be
        ("j.jansen@example.nl", False),
        ("Tel 0612", False),
        ("Straat (oud)", False),
        ("X" * 41, False),
    ],
)
def test_a_label_is_named_only_when_it_cannot_be_a_value(label: str, named: bool):
    assert nameable(label) is named


def test_labels_are_named_once_whatever_their_case_and_the_rest_only_said_to_exist():
    # given two labels named already and more seen, one of them again in another case
    named, more = note_unknown(["EMAILADRES", "Notitie"], False, ["emailadres", "Klant"])

    # then each is named once, in the order seen
    assert (named, more) == (["EMAILADRES", "Notitie", "Klant"], False)
    # and past the cap, or for a label that may be a value, the list only ends in "…"
    assert note_unknown(named, more, ["123456782"]) == (named, True)
    capped, more = note_unknown([], False, [f"K{i}" for i in range(LISTED_AT_MOST + 1)])
    assert (len(capped), more) == (LISTED_AT_MOST, True)
