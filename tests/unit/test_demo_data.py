"""The demo portfolio generator: deterministic, valid Dutch data, clients shared across partners."""

from __future__ import annotations

import argparse
import csv
import io
import json
from collections import Counter, defaultdict
from typing import Any

import pytest

from chalicelib.normalise import (
    normalise_house_number,
    normalise_kvk,
    normalise_phone,
    normalise_postcode,
    parse_date,
    surname_key,
)
from scripts.demo_data import (
    BAD_ROW_KINDS,
    COLUMNS,
    DEMO_PARTNERS,
    DEMO_SEED,
    generate_rows,
    known_demo_clients,
    main,
    write_csv,
    write_jsonl,
)

pytestmark = pytest.mark.unit

N_POLICIES = 400


def _csv_bytes(seed: int, partner_id: str = "demo-volmacht") -> bytes:
    out = io.BytesIO()
    write_csv(out, generate_rows(N_POLICIES, seed=seed, partner_id=partner_id))
    return out.getvalue()


def _identity(row: dict[str, str]) -> tuple[str, str | None, str | None, str]:
    house = normalise_house_number(row["HUISNR"])
    return (
        surname_key(row["ANAAM"], row["VOORV"] or None),
        parse_date(row["GEBDAT"]),
        normalise_postcode(row["PCODE"]),
        house[0] if house else "",
    )


def _natural_persons(partner_id: str) -> dict[tuple[str, str | None, str | None, str], set[str]]:
    """identity -> the surnames as written (ANAAM + VOORV) in this partner's file."""
    found: dict[tuple[str, str | None, str | None, str], set[str]] = defaultdict(set)
    for row in generate_rows(N_POLICIES, seed=DEMO_SEED, partner_id=partner_id, bad_rows=False):
        if row["GESLACH"] != "R":
            found[_identity(row)].add(f"{row['VOORV']}|{row['ANAAM']}")
    return found


def test_the_same_seed_gives_the_same_bytes_and_another_seed_other_bytes() -> None:
    # given / when
    first, second, other = _csv_bytes(7), _csv_bytes(7), _csv_bytes(8)

    # then
    assert first == second
    assert first != other
    assert first.startswith(";".join(COLUMNS).encode() + b"\r\n")


def test_every_generated_postcode_phone_date_and_kvk_is_valid() -> None:
    # given
    rows = list(generate_rows(N_POLICIES, seed=3, partner_id="demo-verzekeraar", bad_rows=False))

    # then
    assert rows
    for row in rows:
        assert normalise_postcode(row["PCODE"]) is not None, row["PCODE"]
        assert row["PCODE"].replace(" ", "")[4:] not in {"SA", "SD", "SS"}
        assert not row["PCODE"].startswith("0")
        assert normalise_house_number(row["HUISNR"]) is not None
        assert parse_date(row["PP_INGDAT"]) is not None
        if row["PP_EXPDAT"]:
            assert str(parse_date(row["PP_EXPDAT"])) > str(parse_date(row["PP_INGDAT"]))
        for phone in (row["TELNUM"], row["MOBIEL"]):
            assert not phone or normalise_phone(phone) is not None, phone
        if row["GESLACH"] == "R":
            assert normalise_kvk(row["KVKNR"]) is not None
            assert row["GEBDAT"] == ""
        else:
            assert parse_date(row["GEBDAT"]) is not None


def test_every_policy_has_exactly_one_policyholder_and_households_have_members() -> None:
    # given
    rows = list(generate_rows(N_POLICIES, seed=5, partner_id="demo-volmacht", bad_rows=False))

    # when
    roles: dict[str, Counter[str]] = defaultdict(Counter)
    household: dict[str, str] = {}
    for row in rows:
        roles[row["PP_NUMMER"]][row["ENTITEIT"]] += 1
        household[row["PP_NUMMER"]] = row["PP_GEZIN"]

    # then
    assert len(roles) == N_POLICIES
    assert all(count["VP"] == 1 for count in roles.values())
    with_partner_and_children = [p for p, c in roles.items() if c["SP"] and c["KN"]]
    assert with_partner_and_children
    assert all(household[p] == "K" for p in with_partner_and_children)
    assert any(row["GESLACH"] == "R" for row in rows)
    assert any(row["VOORV"] for row in rows)


def test_partners_share_clients_and_write_their_names_differently() -> None:
    # given
    per_partner = {partner: _natural_persons(partner) for partner in DEMO_PARTNERS}

    # when
    shared = set.intersection(*(set(found) for found in per_partner.values()))
    spellings = {
        identity: set().union(*(per_partner[p][identity] for p in DEMO_PARTNERS))
        for identity in shared
    }

    # then
    assert len(shared) >= 5
    assert any(len(written) > 1 for written in spellings.values())


def test_known_demo_clients_are_delivered_by_every_demo_partner() -> None:
    # given
    clients = known_demo_clients()
    per_partner = {partner: _natural_persons(partner) for partner in DEMO_PARTNERS}

    # then
    assert clients
    for client in clients:
        identity = (
            surname_key(client.surname, client.tussenvoegsels),
            client.birth_date,
            client.postcode,
            client.house_number,
        )
        assert all(identity in found for found in per_partner.values()), client.name


def test_bad_rows_are_few_and_of_the_announced_kinds() -> None:
    # given
    rows = list(generate_rows(2000, seed=DEMO_SEED, partner_id="demo-volmacht", bad_rows=True))

    # when
    bad = [
        row
        for row in rows
        if not row["ANAAM"]
        or not row["HUISNR"]
        or normalise_postcode(row["PCODE"]) is None
        or row["PP_BRANCHE"] not in {"090", "091", "092", "093", "990"}
        or (row["PP_EXPDAT"] and row["PP_EXPDAT"] < row["PP_INGDAT"])
        or (row["GEBDAT"] and row["GEBDAT"].replace("-", "") > "2090")
    ]

    # then
    assert 0 < len(bad) < len(rows) // 20
    assert len(BAD_ROW_KINDS) >= 5


def test_a_file_has_no_deliberately_bad_row_unless_asked() -> None:
    rows = list(generate_rows(2000, seed=DEMO_SEED, partner_id="demo-volmacht"))

    assert all(row["ANAAM"] and row["HUISNR"] for row in rows)
    assert all(normalise_postcode(row["PCODE"]) is not None for row in rows if row["PCODE"])


def test_json_lines_carry_the_same_labels_without_empty_values() -> None:
    # given
    out = io.StringIO()

    # when
    count = write_jsonl(out, generate_rows(20, seed=1, partner_id="demo-intermediair"))

    # then
    lines = out.getvalue().splitlines()
    assert count == len(lines) > 20
    for line in lines:
        document = json.loads(line)
        assert set(document) <= set(COLUMNS)
        assert all(document.values())


def test_a_windows_1252_file_with_another_delimiter_reads_back_the_same_rows() -> None:
    # given
    rows = list(generate_rows(200, seed=2, partner_id="demo-volmacht"))
    out = io.BytesIO()

    # when
    write_csv(out, rows, delimiter="\t", encoding="windows-1252")

    # then
    text = out.getvalue().decode("windows-1252")
    read = list(csv.DictReader(io.StringIO(text, newline=""), delimiter="\t"))
    assert read == rows


def test_a_later_file_continues_the_policy_numbers() -> None:
    # given
    first = list(generate_rows(10, seed=1, partner_id="demo-volmacht", bad_rows=False))
    later = list(
        generate_rows(10, seed=1, partner_id="demo-volmacht", bad_rows=False, first_policy=10)
    )

    # then
    assert {r["PP_NUMMER"] for r in first}.isdisjoint({r["PP_NUMMER"] for r in later})
    assert max(r["PP_NUMMER"] for r in first) < min(r["PP_NUMMER"] for r in later)


def test_every_command_line_option_is_explained_in_the_help(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a record of every option the command line declares
    declared: list[tuple[tuple[str, ...], dict[str, Any]]] = []
    original = argparse.ArgumentParser.add_argument

    def recording(self: argparse.ArgumentParser, *flags: str, **options: Any) -> Any:
        declared.append((flags, options))
        return original(self, *flags, **options)

    monkeypatch.setattr(argparse.ArgumentParser, "add_argument", recording)

    # when --help is asked for
    with pytest.raises(SystemExit) as exited:
        main(["--help"])

    # then it lists every option, each with an explanation
    assert exited.value.code == 0
    shown = capsys.readouterr().out
    assert len(declared) >= 10
    for flags, options in declared:
        assert options.get("help"), f"{flags[0]} has no help text"
        assert flags[0] in shown
