"""One partner delivers one person on several policies with other details (a first name on
one, initials only on another; a mobile number on one, a landline on another; the address she
left): the identity bucket keeps each variant as evidence, an unchanged re-delivery writes
nothing, a variant the partner corrected or stopped delivering leaves, and buckets stored with
one trace per client and partner (before variants) keep reading. Through the real ingest on
in-memory stores (REVIEW 08:45/09:04, session 19)."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.store import keys
from tests.support.ingest import HEADER, csv_bytes, person
from tests.support.memory import MemoryRegister

pytestmark = pytest.mark.unit

PARTNER, OTHER = "demo-volmacht", "demo-verzekeraar"
COLUMNS = [*HEADER, "RNAAM", "TELNUM"]
BUCKET = (keys.identity_pk("DOB#1947-07-15#e"), keys.IDENTITY_SK)
EMMA = {
    "ANAAM": "Veen",
    "VOORV": "",
    "VOORL": "E.",
    "GEBDAT": "19470715",
    "EMAIL": "emma@example.nl",
}
# P1: first name, mobile, 1234AB 1; P2: initials only, landline, 2511AB 4 (the file's last).
P1 = person("P1", **EMMA, RNAAM="Emma", MOBIEL="0610779805")
P2 = person("P2", **EMMA, TELNUM="0703756114", PCODE="2511AB", HUISNR="4")


def deliver(register: MemoryRegister, partner: str, rows: list[dict[str, str]]) -> None:
    register.upload(
        f"incoming/{partner}/full/{len(register.blobs.objects)}.csv",
        csv_bytes(rows, header=COLUMNS),
    )
    register.drain()


def bucket_saves(register: MemoryRegister) -> list[Any]:
    """Every bucket the resolver asks the store to write, from now on."""
    saved: list[Any] = []
    save = register.identities.save

    def spy(buckets, joins):  # type: ignore[no-untyped-def]
        saved.extend(buckets)
        return save(buckets, joins)

    register.identities.save = spy  # type: ignore[method-assign]
    return saved


def bucket_variants(register: MemoryRegister) -> list[tuple[str, str, tuple[str, ...], str]]:
    """(first name, initials, contacts, postcode) of each trace in Emma's bucket."""
    item = register.identities.items[BUCKET]
    return sorted(
        (t.get("fn", ""), t.get("in", ""), tuple(t.get("ct", ())), t.get("pc", ""))
        for t in item["traces"]
    )


def clients_of(register: MemoryRegister, partner: str) -> set[str]:
    return {p["client_id"] for p in register.items("party") if p["partner_id"] == partner}


def test_given_one_person_on_two_policies_of_a_partner_then_both_variants_are_kept():
    register = MemoryRegister()
    saved = bucket_saves(register)

    deliver(register, PARTNER, [P1, P2])

    assert len(clients_of(register, PARTNER)) == 1
    assert len(saved) == 1, "the bucket is written once"
    assert bucket_variants(register) == [
        ("", "e", ("+31703756114", "emma@example.nl"), "2511AB"),
        ("emma", "e", ("+31610779805", "emma@example.nl"), "1234AB"),
    ]


def test_given_an_unchanged_monthly_re_delivery_then_no_bucket_is_written():
    register = MemoryRegister()
    saved = bucket_saves(register)
    deliver(register, PARTNER, [P1, P2])
    saved.clear()

    register.clock.advance(days=31)
    deliver(register, PARTNER, [P1, P2])

    assert register.report(PARTNER)["policies_unchanged"] == 2
    assert [b.key for b in saved] == []


def test_given_another_partner_delivering_the_first_policys_variant_then_it_is_the_same_client():
    # given the partner's two policies of Emma Veen, P2 (initials, landline) the file's last
    register = MemoryRegister()
    deliver(register, PARTNER, [P1, P2])
    (emma,) = clients_of(register, PARTNER)

    # when another partner delivers her as P1 has her (first name, mobile, P1's address)
    deliver(
        register, OTHER, [person("Z1", **{**EMMA, "EMAIL": ""}, RNAAM="Emma", MOBIEL="0610779805")]
    )

    # then she is the same client
    assert clients_of(register, OTHER) == {emma}


def test_given_a_bucket_stored_with_one_trace_per_client_and_partner_then_it_still_reads():
    # given Emma's bucket as the previous version stored it: only P2's trace of this partner
    register = MemoryRegister()
    deliver(register, PARTNER, [P1, P2])
    (emma,) = clients_of(register, PARTNER)
    item = register.identities.items[BUCKET]
    item["traces"] = [t for t in item["traces"] if "fn" not in t]
    saved = bucket_saves(register)

    # when the partner delivers both policies again, unchanged
    register.clock.advance(days=31)
    deliver(register, PARTNER, [P1, P2])

    # then they are the same client, P1's variant is added once, and then nothing is written
    assert clients_of(register, PARTNER) == {emma}
    assert [b.key for b in saved] == ["DOB#1947-07-15#e"]
    assert len(bucket_variants(register)) == 2
    saved.clear()
    register.clock.advance(days=31)
    deliver(register, PARTNER, [P1, P2])
    assert saved == []


def test_given_the_partner_corrects_a_policys_details_then_the_old_variant_is_forgotten():
    # given both policies delivered
    register = MemoryRegister()
    deliver(register, PARTNER, [P1, P2])

    # when the partner corrects P2: now with her first name and her mobile number as on P1
    register.clock.advance(days=31)
    deliver(register, PARTNER, [P1, {**P2, "RNAAM": "Emma", "TELNUM": "", "MOBIEL": "0610779805"}])

    # then the bucket forgets what P2 said before (the landline variant)
    variants = bucket_variants(register)
    assert all("+31703756114" not in contacts for _, _, contacts, _ in variants), variants
    assert ("emma", "e", ("+31610779805", "emma@example.nl"), "2511AB") in variants


def test_given_a_policy_that_ended_then_its_variant_leaves_with_the_retention():
    # given both policies delivered, then P2 ends (no longer in the partner's full delivery)
    register = MemoryRegister()
    deliver(register, PARTNER, [P1, P2])
    register.clock.advance(days=31)
    deliver(register, PARTNER, [P1])
    assert len(bucket_variants(register)) == 2, "a variant stays while it may still be evidence"

    # when the partner keeps delivering P1 every month for more than the retention (24 months)
    for _ in range(25):
        register.clock.advance(days=31)
        deliver(register, PARTNER, [P1])

    # then only P1's variant is left in the bucket
    assert bucket_variants(register) == [
        ("emma", "e", ("+31610779805", "emma@example.nl"), "1234AB")
    ]
