"""A policy delivered again exactly as stored is not written again, until its stored expiry
lags a fresh one by more than RETENTION_REFRESH_MONTHS (docs/configuration.md, "Retention");
a full delivery still ends only what it lacks."""

from __future__ import annotations

import copy
import hashlib
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.config import get_settings, reset_settings
from chalicelib.rules.dates import add_months, expires_at
from chalicelib.rules.ingest import PolicyNumbers
from tests.support.ingest import csv_bytes, portfolio
from tests.support.memory import MemoryRegister

pytestmark = pytest.mark.unit

PARTNER = "demo-volmacht"


@pytest.fixture
def register() -> MemoryRegister:
    return MemoryRegister()


def deliver(register: MemoryRegister, name: str, rows: list[dict[str, str]]) -> dict[str, Any]:
    register.upload(f"incoming/{PARTNER}/full/{name}", csv_bytes(rows))
    register.drain()
    return register.report(PARTNER)


def register_items(register: MemoryRegister) -> dict[tuple[str, str], dict[str, Any]]:
    return copy.deepcopy(register.portfolio.items)


def a_month_later(register: MemoryRegister, months: int = 1) -> None:
    now = register.clock()
    register.clock.moment = datetime.combine(add_months(now.date(), months), now.timetz())


def test_an_unchanged_redelivery_writes_nothing_and_changes_nothing(register):
    # given a delivered portfolio
    deliver(register, "first.csv", portfolio(5))
    before = register_items(register)

    # when the same portfolio is delivered again a month later
    a_month_later(register)
    report = deliver(register, "second.csv", portfolio(5))

    # then every row is accepted, no policy is written, ended or changed in any way
    assert report["status"] == "accepted"
    assert (report["rows_accepted"], report["policies_written"]) == (5, 0)
    assert (report["policies_unchanged"], report["policies_ended"]) == (5, 0)
    assert register_items(register) == before


def test_an_unchanged_policy_is_written_again_once_its_expiry_lags_more_than_the_refresh_window(
    register,
):
    # given a delivered policy, delivered again unchanged every month
    refresh = get_settings().retention_refresh_months
    deliver(register, "month-0.csv", portfolio(1))
    written = int(register.policy("P00000", PARTNER)["expires_at"])
    for month in range(1, refresh):
        a_month_later(register)
        report = deliver(register, f"month-{month}.csv", portfolio(1))
        # then up to the window nothing is written: the expiry stays
        assert report["policies_unchanged"] == 1
        assert int(register.policy("P00000", PARTNER)["expires_at"]) == written

    # when the monthly delivery `refresh` months (and some seconds) after the write comes
    a_month_later(register)
    report = deliver(register, "refresh.csv", portfolio(1))

    # then every item of the policy is written again with a full retention from now
    assert (report["policies_written"], report["policies_unchanged"]) == (1, 0)
    fresh = expires_at(datetime.fromisoformat(report["received_at"]), 24)
    policy_items = [i for i in register.portfolio.items.values() if i["type"] != "delivery"]
    assert {int(i["expires_at"]) for i in policy_items} == {fresh}
    # and at no time did an item expire more than the window earlier than 24 months after the
    # delivery that last contained it
    last_unchanged = add_months(datetime.fromisoformat(report["received_at"]).date(), -1)
    assert written >= expires_at(
        datetime.combine(last_unchanged, register.clock().timetz()), 24 - refresh
    )


def test_a_full_delivery_ends_only_what_it_lacks_when_the_rest_is_unchanged(register):
    # given a delivered portfolio of ten policies
    deliver(register, "first.csv", portfolio(10))

    # when the next full delivery has nine of them, unchanged
    a_month_later(register)
    report = deliver(register, "second.csv", portfolio(9))

    # then only the missing one is ended; the nine stay active without being written
    assert (report["policies_unchanged"], report["policies_ended"]) == (9, 1)
    statuses = {
        i["policy_number"]: i["status"]
        for i in register.portfolio.items.values()
        if i["type"] == "policy"
    }
    assert statuses.pop("P00009") == "removed_from_portfolio"
    assert set(statuses.values()) == {"active"}


def test_a_policy_numbers_set_holds_what_it_was_given_and_nothing_else():
    numbers = PolicyNumbers(f"P{i:07d}" for i in range(10_000))
    assert len(numbers) == 10_000
    assert all(f"P{i:07d}" in numbers for i in range(0, 10_000, 7))
    assert not any(f"Q{i:07d}" in numbers for i in range(1_000))
    assert "" not in PolicyNumbers([])


def test_the_content_hash_does_not_depend_on_the_order_the_items_were_built_in():
    # given a policy's items, as built, and the same items in another order (a party's phone
    # numbers come from a set, whose order differs between processes)
    from chalicelib.store.register_items import content_hash

    items = [
        {"pk": "POLICY#p#1", "sk": "POLICY", "type": "policy", "data_seq": "s1"},
        {"pk": "LOOKUP#PHONE#+31600000001", "sk": "c#p#1", "type": "lookup"},
        {"pk": "LOOKUP#PHONE#+31600000002", "sk": "c#p#1", "type": "lookup"},
    ]
    reordered = [items[0], items[2], items[1]]

    # then both have one hash, and a changed value or a new delivery's seq is told apart
    assert content_hash(items) == content_hash(reordered)
    assert content_hash(items) != content_hash([*items[:2], {**items[2], "type": "x"}])
    assert content_hash(items) == content_hash([{**items[0], "data_seq": "s2"}, *items[1:]])


def test_the_content_hash_of_given_items_is_the_digest_stored_policies_carry():
    # given a policy's items with every kind of value an item holds (strings, numbers, a
    # Decimal, lists, a map, None, booleans, non-ASCII text) and attributes that are not content
    from chalicelib.store.register_items import content_hash

    items = [
        {
            "pk": "POLICY#p#P1",
            "sk": "POLICY",
            "type": "policy",
            "data_seq": "s1",
            "premium": Decimal("12.50"),
            "modules": ["RP", "VK"],
            "status": "active",
            "expires_at": 1_859_343_868,
            "content_hash": "x",
            "party_traces": [{"id": "c_1"}],
            "naam": "Désirée ’t Hart",
        },
        {
            "pk": "POLICY#p#P1",
            "sk": "PARTY#c_1",
            "type": "party",
            "is_legal_entity": False,
            "house_number": "12",
            "nothing": None,
            "extra": {"b": 1, "a": [True]},
        },
        {"pk": "LOOKUP#PHONE#+31600000002", "sk": "c_1#p#P1", "type": "lookup", "role": "VN"},
        {"pk": "LOOKUP#PHONE#+31600000001", "sk": "c_1#p#P1", "type": "lookup", "role": "VN"},
    ]

    # (when and by which delivery an item was written is not content)
    not_content = {"data_seq", "seen_seq", "first_seen_seq", "delivery_id", "delivered_at"}
    not_content |= {"expires_at", "source_line", "content_hash", "party_traces"}

    # then their digest is the one the stored policies carry (the digest of one text per item,
    # `name=repr(value);` by name, items by key, each followed by `|`): a faster way to compute
    # it must not change it, or every unchanged policy would be written again once
    assert content_hash(items) == "a7d357bde11afb7676ef66f4ec3f9409"
    text = "".join(
        "".join(f"{n}={i[n]!r};" for n in sorted(i) if n not in not_content) + "|"
        for i in sorted(items, key=lambda i: (i["pk"], i["sk"]))
    )
    assert content_hash(items) == hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def test_a_policy_removed_from_the_portfolio_and_delivered_again_unchanged_is_active_again(
    register,
):
    # given ten policies, and a full delivery without the last one, which ends it
    deliver(register, "month1.csv", portfolio(10))
    a_month_later(register)
    deliver(register, "month2.csv", portfolio(9))
    assert register.policy("P00009", PARTNER)["status"] == "removed_from_portfolio"

    # when the next full delivery holds it again, exactly as before
    a_month_later(register)
    report = deliver(register, "month3.csv", portfolio(10))

    # then it is written and active again; the other nine are unchanged
    assert (report["policies_written"], report["policies_unchanged"]) == (1, 9)
    assert register.policy("P00009", PARTNER)["status"] == "active"


def test_confirming_an_old_held_delivery_ends_nothing_a_newer_full_delivery_contains(register):
    # given ten policies, a full delivery with only two of them (held for review), then a
    # newer full delivery with all ten, unchanged
    deliver(register, "m1.csv", portfolio(10))
    a_month_later(register)
    held = deliver(register, "broken.csv", portfolio(2))
    assert held["status"] == "held_for_review"
    assert deliver(register, "m2.csv", portfolio(10))["policies_unchanged"] == 10

    # when an administrator confirms the old held delivery
    register.service().release_held(held["delivery_id"], confirmed_by="admin-user")
    register.drain()

    # then every policy of the newest full delivery is still active
    statuses = {register.policy(f"P{n:05d}", PARTNER)["status"] for n in range(10)}
    assert statuses == {"active"}


def test_with_a_refresh_window_of_zero_a_redelivery_in_the_same_second_is_written_again(
    register, monkeypatch
):
    # given every re-delivered policy is to be written again (RETENTION_REFRESH_MONTHS=0)
    monkeypatch.setenv("RETENTION_REFRESH_MONTHS", "0")
    reset_settings()
    register = MemoryRegister()
    deliver(register, "first.csv", portfolio(3))

    # when the same portfolio is delivered again within the same second (the clock stands still)
    register.clock.advance(seconds=-1)  # every upload moves it a second on
    deliver(register, "again.csv", portfolio(3))

    # then every policy is written again, none is left unwritten as unchanged
    again = next(r for r in register.reports(PARTNER) if r["object_key"].endswith("again.csv"))
    assert (again["policies_written"], again["policies_unchanged"]) == (3, 0)
