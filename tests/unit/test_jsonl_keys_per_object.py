"""Each JSON Lines object is read by its own keys. JSON exporters leave out empty fields
(Jackson NON_NULL, `omitempty`), so what the first object has no value for is not missing from
the file: a later client's e-mail, mobile and house number addition are stored though the first
client had none, and persons after a company first in the file keep their birth dates. The
contract's role-prefixed labels (`SP_ANAAM`: the prefix sets the role) are read in every object,
whichever prefix the first one used; a key that is no label of the contract is never stored."""

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


POLICY_COLUMNS = {"PP_NUMMER", "PP_BRANCHE", "PP_INGDAT", "PP_EXPDAT", "PP_DEKKING", "PP_GEZIN"}


def _with_role_prefix(row: dict[str, str], role: str) -> dict[str, str]:
    """A row as an exporter writes it with the contract's entity prefixes (`SP_ANAAM`): no
    ENTITEIT, no empty field."""
    return {
        (key if key in POLICY_COLUMNS else f"{role}_{key}"): value
        for key, value in row.items()
        if value and key != "ENTITEIT"
    }


def _jsonl(objects: list[dict[str, str]]) -> bytes:
    return ("\n".join(json.dumps(obj) for obj in objects) + "\n").encode()


def _stored_parties(register: MemoryRegister) -> list[tuple[str, str, str | None, str]]:
    return sorted(
        (p["policy_number"], p["role"], p.get("email"), p["surname"])
        for p in register.items("party")
    )


def test_objects_with_another_role_prefix_than_the_first_are_read_by_their_own_keys():
    # given a household exported with role-prefixed keys: the policyholder's object first, then
    # the partner's (SP_ keys), then another policyholder with an e-mail (VP_EMAIL)
    register = MemoryRegister()
    objects = [
        _with_role_prefix(person("J1"), "VP"),
        _with_role_prefix(person("J1", ANAAM="Visser", VOORL="B.", GEBDAT="19810101"), "SP"),
        _with_role_prefix(person("J2", HUISNR="3", EMAIL="x@example.nl"), "VP"),
    ]
    register.upload(f"incoming/{PARTNER}/full/export.jsonl", _jsonl(objects))

    # when it is delivered
    register.drain()

    # then every party is stored in its role, with what its object holds
    report = register.report(PARTNER)
    assert report["error_counts"] == {}, report["errors"]
    assert _stored_parties(register) == [
        ("J1", "SP", None, "Visser"),
        ("J1", "VP", None, "Berg"),
        ("J2", "VP", "x@example.nl", "Berg"),
    ]


def test_a_prefixed_object_after_plain_ones_is_read_in_the_role_its_prefix_sets():
    # given a plain policyholder's object, then the co-insured child written with KN_ keys
    register = MemoryRegister()
    child = person("J1", ANAAM="Jansen", VOORL="K.", GEBDAT="20150101", EMAIL="k@example.nl")
    register.upload(
        f"incoming/{PARTNER}/full/export.jsonl",
        _jsonl([{k: v for k, v in person("J1").items() if v}, _with_role_prefix(child, "KN")]),
    )

    # when it is delivered
    register.drain()

    # then the child is stored as KN, with its e-mail
    assert register.report(PARTNER)["error_counts"] == {}
    assert _stored_parties(register) == [
        ("J1", "KN", "k@example.nl", "Jansen"),
        ("J1", "VP", None, "Berg"),
    ]


def test_a_later_objects_key_outside_the_contract_is_not_stored():
    # given a later object with a prefixed BSN and a key that is no label, holding values
    register = MemoryRegister()
    partner = _with_role_prefix(person("J1", ANAAM="Visser", GEBDAT="19810101"), "SP")
    partner |= {"SP_BSNR": "111222333", "SP_NOTITIE": "Uniek-geheim"}
    register.upload(
        f"incoming/{PARTNER}/full/export.jsonl",
        _jsonl([_with_role_prefix(person("J1"), "VP"), partner]),
    )

    # when it is delivered
    register.drain()

    # then the party is stored and neither value is anywhere in the register
    assert register.report(PARTNER)["rows_accepted"] == 2
    everything = json.dumps(register.items(), default=str)
    assert "111222333" not in everything
    assert "Uniek-geheim" not in everything


@pytest.mark.parametrize("key", ["BSNR", "bsnr", "VP_BSNR", "KN_Bsnr"])
def test_a_later_objects_bsn_under_any_of_its_keys_is_dropped_and_counted(key):
    # given a JSON Lines export whose first objects carry no BSN and whose last one does
    register = MemoryRegister()
    objects = [person("J1"), person("J1", ENTITEIT="KN", VOORL="C.", GEBDAT="20100101")]
    objects.append({**person("J2", HUISNR="2"), key: "111222333"})
    register.upload(f"incoming/{PARTNER}/full/x.jsonl", _jsonl(objects))

    # when it is delivered
    register.drain()

    # then every row is stored, the BSN nowhere, and the report says one BSN was dropped
    report = register.report(PARTNER)
    assert report["rows_accepted"] == 3, report["errors"]
    assert "111222333" not in json.dumps(register.items(), default=str)
    assert any("1 BSN" in warning for warning in report["warnings"]), report["warnings"]
