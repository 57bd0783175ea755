"""A line the reader cannot turn into values (an unquoted delimiter in a value, a line over the
length limit, bytes that are no text, a JSON Lines object cut short) may hold any policy of the
portfolio: a full delivery with such a line cannot know which policies it lacks, so it ends
none, and its report says why (docs/file-contract.md, "What a delivery does"). The rows it
could read are stored as usual."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.ingest import csv_bytes, portfolio
from tests.support.memory import MemoryRegister

pytestmark = pytest.mark.unit

PARTNER = "demo-volmacht"
BROKEN = 50  # the row of policy P00050


def _too_many_fields() -> bytes:
    rows = portfolio(100)
    rows[BROKEN]["STRAAT"] = "STRAY"
    return csv_bytes(rows).replace(b";STRAY;", b";Dorpsstraat; achterhuis; boven; links;")


def _line_too_long() -> bytes:
    rows = portfolio(100)
    rows[BROKEN]["STRAAT"] = "Dorpsstraat " * 6_000  # 72 KB: over MAX_LINE_BYTES
    return csv_bytes(rows)


def _not_text() -> bytes:
    rows = portfolio(100)
    rows[BROKEN]["STRAAT"] = "Dorps\x00straat"
    return csv_bytes(rows)


def _json_line_cut_off() -> bytes:
    lines = [json.dumps(row) for row in portfolio(100)]
    lines[BROKEN] = lines[BROKEN][:-30]
    return ("\n".join(lines) + "\n").encode()


def stored_portfolio_then(name: str, data: bytes) -> tuple[MemoryRegister, dict[str, Any]]:
    register = MemoryRegister()
    register.upload(f"incoming/{PARTNER}/full/november.csv", csv_bytes(portfolio(100)))
    register.drain()
    register.upload(f"incoming/{PARTNER}/full/{name}", data)
    register.drain()
    return register, register.report(PARTNER)


@pytest.mark.parametrize(
    ("name", "export", "code"),
    [
        ("december.csv", _too_many_fields, "too_many_fields"),
        ("december.csv", _line_too_long, "line_too_long"),
        ("december.csv", _not_text, "invalid_encoding"),
        ("december.jsonl", _json_line_cut_off, "invalid_json"),
    ],
    ids=["too_many_fields", "line_too_long", "invalid_encoding", "invalid_json"],
)
def test_a_full_delivery_with_an_unreadable_line_ends_no_policy(
    name: str, export: Callable[[], bytes], code: str
):
    # given a partner whose 100 policies are stored
    # when its next full delivery holds all 100, the row of P00050 unreadable
    register, report = stored_portfolio_then(name, export())

    # then that line is rejected, the other 99 rows stored, and no policy is ended for it
    assert report["error_counts"] == {code: 1}, report["error_counts"]
    assert report["rows_accepted"] == 99
    assert report["policies_ended"] == 0
    policy = register.policy("P00050", PARTNER)
    assert policy is not None
    assert policy["status"] == "active"
    # and the report says why nothing was ended
    assert any("could not be read" in w for w in report["warnings"]), report["warnings"]


def test_a_full_delivery_lacking_a_policy_without_unreadable_lines_still_ends_it():
    # given the stored portfolio, and a full delivery without P00050 whose every line reads
    rows = portfolio(100)
    del rows[BROKEN]

    # when it is delivered
    register, report = stored_portfolio_then("december.csv", csv_bytes(rows))

    # then P00050 is ended as missing
    assert report["policies_ended"] == 1
    policy = register.policy("P00050", PARTNER)
    assert policy is not None
    assert policy["status"] == "removed_from_portfolio"


def _stray_quote(at: int, count: int) -> bytes:
    rows = portfolio(count)
    rows[at]["STRAAT"] = "STRAY"
    # written raw: `"Dorpsstraat;…` with no closing quote (a CSV writer would escape it)
    return csv_bytes(rows).replace(b";STRAY;", b';"Dorpsstraat;')


def test_a_stray_quote_costs_its_own_row_and_every_later_row_is_read():
    # given a check of 200 policies whose row 151 has a street starting with a quote left open
    register = MemoryRegister()
    register.upload(f"incoming/{PARTNER}/check/december.csv", _stray_quote(150, 200))

    # when it is read
    register.drain()
    report = register.report(PARTNER)

    # then that row is rejected as invalid_csv and every other row counts as read and accepted
    assert report["error_counts"] == {"invalid_csv": 1}
    assert (report["rows_total"], report["rows_accepted"]) == (200, 199)
    # and, as the real delivery's report would, it says that no policy would be ended
    assert any("could not be read" in w for w in report["warnings"]), report["warnings"]


def test_a_stray_quote_in_a_full_delivery_ends_no_policy():
    # given a partner whose 100 policies are stored
    # when its next full delivery has a quote left open in the row of P00090
    register, report = stored_portfolio_then("december.csv", _stray_quote(90, 100))

    # then the rows after it are stored and no policy is ended
    assert report["rows_accepted"] == 99
    assert report["policies_ended"] == 0
    assert all(p.get("status") == "active" for p in register.items("policy")), (
        "a delivered policy was ended"
    )


# --- a row without a usable policy number --------------------------------------------------------


@pytest.mark.parametrize(
    "number", ["", "P 00050", "P00050#", "P00050" + "0" * 30], ids=["empty", "space", "#", "long"]
)
def test_a_row_without_a_usable_policy_number_ends_no_policy(number: str):
    # given a partner whose 100 policies are stored
    # when its next full delivery holds all 100, the row of P00050 with a policy number that
    # cannot be read
    rows = portfolio(100)
    rows[BROKEN]["PP_NUMMER"] = number
    register, report = stored_portfolio_then("december.csv", csv_bytes(rows))

    # then no policy is ended for it: which one the row held cannot be known
    assert report["policies_ended"] == 0
    policy = register.policy("P00050", PARTNER)
    assert policy is not None
    assert policy["status"] == "active"
    assert any("no usable policy number" in w for w in report["warnings"]), report["warnings"]


def _household(child_number: str) -> bytes:
    rows = portfolio(10)
    child = dict(
        rows[5], ENTITEIT="KN", VOORL="K.", GEBDAT="20100101", GESLACH="M", PP_NUMMER=child_number
    )
    return csv_bytes([*rows[:6], child, *rows[6:]])


def _current_birth_dates(register: MemoryRegister, number: str) -> list[str]:
    policy = register.policy(number, PARTNER)
    assert policy is not None
    return sorted(
        p["birth_date"]
        for p in register.items("party")
        if p["policy_number"] == number and p.get("data_seq") == policy.get("data_seq")
    )


@pytest.mark.parametrize("garbled", ["", "P 00005"], ids=["empty", "space"])
def test_a_household_row_without_a_usable_policy_number_leaves_its_policy_as_it_was(
    garbled: str,
):
    # given policy P00005 stored with its policyholder and a child
    register = MemoryRegister()
    register.upload(f"incoming/{PARTNER}/full/november.csv", _household("P00005"))
    register.drain()
    before = _current_birth_dates(register, "P00005")
    assert before == ["1955-06-15", "2010-01-01"]

    # when the next full delivery has the child's row right after the policyholder's, its
    # policy number empty or garbled
    register.upload(f"incoming/{PARTNER}/full/december.csv", _household(garbled))
    register.drain()
    report = register.report(PARTNER)

    # then the policy is refused whole (its rows are adjacent: the row may be one of them) and
    # keeps both parties, instead of being written again without the child
    assert report["error_counts"].get("policy_has_rejected_rows") == 1, report["error_counts"]
    assert _current_birth_dates(register, "P00005") == before


@pytest.mark.parametrize("trailer", [b"\x1a", b"Totaal: 10 polissen\r\n"], ids=["ctrl-z", "footer"])
def test_a_trailer_line_is_no_row_of_the_last_policy(trailer: bytes):
    # given 10 stored policies
    register = MemoryRegister()
    register.upload(f"incoming/{PARTNER}/full/november.csv", csv_bytes(portfolio(10)))
    register.drain()

    # when a mutation changes all 10, its file ending in a DOS end-of-file mark or a footer (a
    # line with no policy number and no party)
    rows = [dict(row, STRAAT="Nieuwstraat", PP_VRWRKCD="1") for row in portfolio(10)]
    register.upload(f"incoming/{PARTNER}/mutation/changes.csv", csv_bytes(rows) + trailer)
    register.drain()
    report = register.report(PARTNER)

    # then that line is rejected on its own and the last policy's change is applied
    assert "policy_has_rejected_rows" not in report["error_counts"], report["error_counts"]
    assert report["rows_accepted"] == 10
    last = register.policy("P00009", PARTNER)
    assert last is not None
    streets = {
        p.get("street")
        for p in register.items("party")
        if p["policy_number"] == "P00009" and p.get("data_seq") == last.get("data_seq")
    }
    assert streets == {"Nieuwstraat"}


def test_a_full_delivery_ending_in_a_footer_still_ends_the_policies_it_lacks():
    # given 100 stored policies, and a full delivery without P00050 that ends in a footer
    rows = portfolio(100)
    del rows[BROKEN]

    # when it is delivered
    register, report = stored_portfolio_then(
        "december.csv", csv_bytes(rows) + b"Totaal: 99 polissen\r\n"
    )

    # then the footer is a rejected line of no policy, and P00050 is ended as missing
    assert report["policies_ended"] == 1, report["warnings"]
    policy = register.policy("P00050", PARTNER)
    assert policy is not None
    assert policy["status"] == "removed_from_portfolio"
