"""Each JSON Lines object is read by its own keys. JSON exporters leave out empty fields
(Jackson NON_NULL, `omitempty`), so what the first object has no value for is not missing from
the file: a later client's e-mail, mobile and house number addition are stored though the first
client had none, and persons after a company first in the file keep their birth dates."""

from __future__ import annotations

import json

import pytest

from tests.support.ingest import person
from tests.support.memory import MemoryRegister

pytestmark = pytest.mark.unit

PARTNER = "demo-volmacht"


def _jsonl_without_empty_fields(rows: list[dict[str, str]]) -> bytes:
    """What a JSON exporter writes: a field without a value is left out."""
    lines = [json.dumps({k: v for k, v in row.items() if v}) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def test_a_later_rows_email_mobile_and_addition_are_stored_when_the_first_row_has_none():
    # given a JSON Lines export whose first client has no e-mail, mobile or addition
    register = MemoryRegister()
    first = person("J1")
    second = person("J2", HUISNR="5", TOEVOEG="A", EMAIL="b@example.nl", MOBIEL="0612345678")
    register.upload(
        f"incoming/{PARTNER}/full/export.jsonl", _jsonl_without_empty_fields([first, second])
    )

    # when it is delivered
    register.drain()

    # then the second client is stored with everything the line holds
    (party,) = [p for p in register.items("party") if p["policy_number"] == "J2"]
    assert party.get("house_number_addition") == "A", party
    assert party.get("email") == "b@example.nl", party
    assert party.get("mobile") == "+31612345678", party


def test_persons_after_a_company_first_in_the_file_keep_their_birth_dates():
    # given a JSON Lines export whose first client is a company (no birth date)
    register = MemoryRegister()
    company = person("C1", GESLACH="R", ANAAM="Bakkerij B.V.", VOORV="", VOORL="", GEBDAT="")
    register.upload(
        f"incoming/{PARTNER}/full/export.jsonl",
        _jsonl_without_empty_fields([company, person("J2", HUISNR="5")]),
    )

    # when it is delivered
    register.drain()

    # then the person is stored: the line has its birth date
    report = register.report(PARTNER)
    assert report["error_counts"] == {}, report["errors"]
    assert report["rows_accepted"] == 2
