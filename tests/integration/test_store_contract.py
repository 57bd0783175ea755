"""The delivery, portfolio and mandate stores (and the mandates' read of a holder) keep the same
promises on DynamoDB (moto) as the in-memory fakes that the unit scenarios use: the same checks
run against both, so a fake cannot promise what the adapter does not keep."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from chalicelib.clock import epoch
from chalicelib.errors import ConditionFailed
from chalicelib.models.delivery import DeliveryRecord, Progress
from chalicelib.models.portfolio import PartyFields
from chalicelib.rules.identity import Bucket, Trace, bucket_keys, trace_of
from chalicelib.services.identity import IdentityResolver, PolicyParties
from chalicelib.services.mandates import HolderPolicies, RegisterHolders
from chalicelib.store.activation import DynamoMarkers, MarkerStore
from chalicelib.store.deliveries import DeliveryStore, DynamoDeliveries
from chalicelib.store.identity import DynamoIdentities, IdentityStore, Join
from chalicelib.store.mandates import DynamoMandates, MandateStore
from chalicelib.store.portfolio import DynamoPortfolio, PortfolioStore
from chalicelib.store.register_items import policy_items
from tests.support import mandates as support_mandates
from tests.support.identity import RacingStore
from tests.support.memory import (
    MemoryDeliveries,
    MemoryIdentities,
    MemoryMandates,
    MemoryMarkers,
    MemoryPortfolio,
)

pytestmark = pytest.mark.integration

NOW = 1_800_000_000


@pytest.fixture(params=["memory", "dynamodb"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "dynamodb":
        request.getfixturevalue("aws")
    return str(request.param)


@pytest.fixture
def deliveries(backend: str) -> DeliveryStore:
    return MemoryDeliveries() if backend == "memory" else DynamoDeliveries()


@pytest.fixture
def portfolio(backend: str) -> PortfolioStore:
    return MemoryPortfolio() if backend == "memory" else DynamoPortfolio()


def record(delivery_id: str = "d1", *, lease_until: int = NOW + 900) -> DeliveryRecord:
    return DeliveryRecord(
        delivery_id=delivery_id,
        partner_id="demo-volmacht",
        kind="full",
        bucket="b",
        object_key="incoming/demo-volmacht/full/p.csv",
        received_at=f"2026-03-02T09:00:0{delivery_id[-1]}+00:00",
        seq=f"2026030{delivery_id[-1]}",
        expires_at=NOW + 10**8,
        lease_until=lease_until,
    )


def test_a_delivery_is_claimed_once_while_its_lease_runs(deliveries):
    assert deliveries.claim(record(), now=NOW) is not None
    assert deliveries.claim(record(), now=NOW + 10) is None
    assert deliveries.take_lease("d1", lease_until=NOW + 2000, now=NOW + 10) is None


def test_a_lapsed_or_released_lease_can_be_taken_over(deliveries):
    deliveries.claim(record(), now=NOW)
    taken = deliveries.claim(record(lease_until=NOW + 2000), now=NOW + 901)
    assert taken is not None
    assert taken.lease_until == NOW + 2000
    deliveries.release_lease("d1")
    assert deliveries.take_lease("d1", lease_until=NOW + 3000, now=NOW + 902) is not None


def test_a_checkpoint_is_what_the_next_reader_sees(deliveries):
    deliveries.claim(record(), now=NOW)
    progress = Progress(offset=1234, line=40, rows_total=39, errors=[{"line": 3, "code": "x"}])
    deliveries.checkpoint("d1", progress)
    stored = deliveries.get("d1", consistent=True)
    assert stored is not None
    assert (stored.progress.offset, stored.progress.rows_total) == (1234, 39)
    assert stored.progress.errors == [{"line": 3, "code": "x"}]


def test_a_hand_over_frees_the_lease_for_the_follow_up(deliveries):
    deliveries.claim(record(), now=NOW)
    deliveries.hand_over("d1", Progress(offset=10))
    follow_up = deliveries.take_lease("d1", lease_until=NOW + 900, now=NOW + 1)
    assert follow_up is not None
    assert follow_up.progress.offset == 10


def test_a_finished_delivery_is_neither_claimed_nor_confirmed(deliveries):
    deliveries.claim(record(), now=NOW)
    deliveries.finish("d1", status="accepted", progress=Progress(phase="done"), finished_at="t")
    finished = deliveries.get("d1")
    assert finished is not None
    assert (finished.status, finished.finished_at, finished.lease_until) == ("accepted", "t", None)
    assert deliveries.claim(record(), now=NOW + 10_000) is None
    with pytest.raises(ConditionFailed):
        deliveries.confirm("d1", progress=Progress(), by="admin", at="t")


def test_a_held_delivery_is_confirmed_once_and_can_be_held_again(deliveries):
    deliveries.claim(record(), now=NOW)
    deliveries.finish("d1", status="held_for_review", progress=Progress(), finished_at="t")
    confirmed = deliveries.confirm("d1", progress=Progress(phase="ending"), by="admin", at="t2")
    assert (confirmed.status, confirmed.confirmed_by, confirmed.lease_until) == (
        "processing",
        "admin",
        0,
    )
    with pytest.raises(ConditionFailed):
        deliveries.confirm("d1", progress=Progress(), by="admin", at="t3")
    deliveries.hold_again("d1")
    again = deliveries.get("d1")
    assert again is not None
    assert again.status == "held_for_review"


def test_recent_deliveries_come_newest_first(deliveries):
    for delivery_id in ("d1", "d2", "d3"):
        deliveries.claim(record(delivery_id), now=NOW)
    assert [r.delivery_id for r in deliveries.recent("demo-volmacht", limit=2)] == ["d3", "d2"]


def stored_policy(number: str, seq: str) -> list[dict[str, Any]]:
    from chalicelib.config import get_settings
    from chalicelib.rules.rows import map_header, validate_row
    from tests.support.ingest import HEADER, person

    header = map_header(HEADER, "full")
    values = [person(number).get(label, "") for label in HEADER]
    outcome = validate_row(values, header, kind="full", line=2, today=date(2026, 3, 2))
    assert outcome.row is not None, outcome.errors
    return policy_items(
        "demo-volmacht",
        [outcome.row],
        seq=seq,
        delivery_id="d1",
        delivered_at="2026-03-02T09:00:00+00:00",
        expires_at=NOW + 10**8,
        client_id_key=get_settings().client_id_key,
    )


def test_policies_are_read_back_by_number_and_missing_ones_are_left_out(portfolio):
    assert portfolio.write_policies([stored_policy("P1", "s1"), stored_policy("P2", "s1")]) == [
        True,
        True,
    ]
    found = portfolio.policies("demo-volmacht", ["P1", "P2", "P3"], consistent=True)
    assert sorted(found) == ["P1", "P2"]
    assert found["P1"]["status"] == "active"


def test_the_active_policies_a_delivery_did_not_see_are_found_and_can_be_ended(portfolio):
    assert portfolio.write_policies([stored_policy("P1", "s1"), stored_policy("P2", "s1")]) == [
        True,
        True,
    ]
    assert list(portfolio.active_not_seen("demo-volmacht", "s2")) == ["P1", "P2"]
    missing = portfolio.policies("demo-volmacht", ["P2"], consistent=True)["P2"]
    portfolio.end([missing], day="2026-03-02", seq="s2")
    ended = portfolio.policies("demo-volmacht", ["P2"], consistent=True)["P2"]
    assert (ended["status"], ended["ended_on"], ended["status_seq"]) == (
        "removed_from_portfolio",
        "2026-03-02",
        "s2",
    )
    assert list(portfolio.active_not_seen("demo-volmacht", "s3")) == ["P1"]


def test_what_a_delivery_saw_without_writing_is_read_back_whole_and_only_its_own(portfolio):
    # given two batches of one delivery noted as seen, one of them noted again by a retry
    portfolio.note_seen("d1", 2, ["P1", "P2", "P1"], expires_at=NOW + 10**8)
    portfolio.note_seen("d1", 502, ["P3"], expires_at=NOW + 10**8)
    portfolio.note_seen("d1", 2, ["P1", "P2"], expires_at=NOW + 10**8)
    portfolio.note_seen("d2", 2, ["P9"], expires_at=NOW + 10**8)
    portfolio.note_seen("d2", 502, [], expires_at=NOW + 10**8)

    portfolio.note_seen("d4", 2, ["P1"], refused=["P7"], expires_at=NOW + 10**8)
    portfolio.note_seen("d4", 502, [], refused=["P8"], expires_at=NOW + 10**8)

    # then each delivery reads back its own numbers, each once
    assert sorted(portfolio.seen("d1")) == ["P1", "P2", "P3"]
    assert list(portfolio.seen("d2")) == ["P9"]
    assert list(portfolio.seen("d3")) == []
    # and the refused ones only when asked for
    assert sorted(portfolio.seen("d4")) == ["P1", "P7", "P8"]
    assert list(portfolio.seen("d4", refused=False)) == ["P1"]
    # and up to a line: the unchanged ones of the batches that start at or before it
    assert sorted(portfolio.seen_until("d1", 501)) == ["P1", "P2"]
    assert sorted(portfolio.seen_until("d1", 502)) == ["P1", "P2", "P3"]
    assert list(portfolio.seen_until("d1", 1)) == []
    # a resumed delivery treats a later row of a refused policy as apart, as of an unchanged one
    assert sorted(portfolio.seen_until("d4", 502)) == ["P1", "P7", "P8"]


@pytest.fixture
def markers(backend: str) -> MarkerStore:
    return MemoryMarkers() if backend == "memory" else DynamoMarkers()


def claim(markers: MarkerStore, *, now: int) -> str:
    return markers.claim("i1", about="m1", now=now, lease_until=now + 120, expires_at=NOW * 2)


def test_an_activation_marker_is_claimed_once_while_its_lease_runs(markers):
    assert claim(markers, now=NOW) == "claimed"
    assert claim(markers, now=NOW + 60) == "busy"
    assert claim(markers, now=NOW + 121) == "claimed"


def test_a_sent_marker_is_never_claimed_again_and_a_released_one_is(markers):
    claim(markers, now=NOW)
    markers.release("i1")
    assert claim(markers, now=NOW + 1) == "claimed"
    markers.mark_sent("i1", at="2026-03-02T09:00:00Z", ses_message_id="ses-1")
    assert claim(markers, now=NOW + 10_000) == "sent"


@pytest.fixture
def mandates(backend: str) -> MandateStore:
    return MemoryMandates() if backend == "memory" else DynamoMandates()


@pytest.fixture
def holders(backend: str) -> tuple[PortfolioStore, HolderPolicies]:
    """Where the ingest writes a policy, and where the mandates read its holders back."""
    if backend == "memory":
        memory = MemoryPortfolio()
        return memory, memory
    return DynamoPortfolio(), RegisterHolders()


def mandate(mandate_id: str = "m_" + "1" * 24, client_id: str = "c_1") -> dict[str, Any]:
    return {"mandate_id": mandate_id, "client_id": client_id, "state": "submitted", "history": []}


def move(mandates: MandateStore, to_state: str, *, token: str | None = None, **extra: Any) -> Any:
    return mandates.transition(
        "m_" + "1" * 24,
        from_state="submitted" if to_state == "approved" else "approved",
        to_state=to_state,
        history_entry={"state": to_state},
        at="2026-03-02T09:00:00Z",
        expires_at=NOW,
        extra=extra,
        current_token=token,
    )


def test_a_mandate_is_created_once_and_listed_under_its_client(mandates):
    mandates.create(mandate())
    mandates.create(mandate("m_" + "2" * 24, client_id="c_2"))

    with pytest.raises(ConditionFailed):
        mandates.create(mandate())
    assert [m["mandate_id"] for m in mandates.for_client("c_1")] == ["m_" + "1" * 24]
    assert mandates.get("m_" + "3" * 24) is None


def test_a_mandate_changes_state_only_from_the_state_it_is_in_and_with_its_current_token(
    mandates,
):
    mandates.create(mandate())
    approved = move(mandates, "approved", token_hash="h1")

    with pytest.raises(ConditionFailed):
        move(mandates, "approved", token_hash="h2")  # no longer submitted
    with pytest.raises(ConditionFailed):
        move(mandates, "active", token="h-old")
    active = move(mandates, "active", token="h1", activated_at="2026-03-02T09:00:00Z")

    assert (approved["state"], approved["token_hash"]) == ("approved", "h1")
    assert [h["state"] for h in active["history"]] == ["approved", "active"]
    assert mandates.get("m_" + "1" * 24)["activated_at"] == "2026-03-02T09:00:00Z"


def test_a_token_is_found_by_its_hash(mandates):
    mandates.put_token("h1", {"mandate_id": "m_1", "token_expires_at": NOW})

    assert mandates.get_token("h1")["mandate_id"] == "m_1"
    assert mandates.get_token("h2") is None


def test_a_holders_memberships_leave_out_a_party_a_later_delivery_dropped(holders):
    writer, reader = holders
    party = support_mandates.holder_party()
    other = support_mandates.holder_party(first_name="Bram", birth_date="1979-05-06")
    writer.write_policies(
        [
            support_mandates.register_items("demo-volmacht", "P1", [party]),
            support_mandates.register_items("demo-volmacht", "P2", [party]),
        ]
    )
    writer.write_policies(
        [support_mandates.register_items("demo-volmacht", "P2", [other], seq="s9")]
    )

    found = reader.current(support_mandates.client_of(party))

    assert [(p["policy_number"], policy["policy_number"]) for p, policy in found] == [("P1", "P1")]
    assert reader.current(support_mandates.client_of(other))[0][0]["policy_number"] == "P2"


# --- identity resolution's store -----------------------------------------------------------------


@pytest.fixture
def identities(backend: str, portfolio: PortfolioStore) -> IdentityStore:
    if backend == "memory":
        assert isinstance(portfolio, MemoryPortfolio)
        return MemoryIdentities(portfolio)
    return DynamoIdentities()


def a_trace(client_id: str, partner_id: str = "demo-volmacht") -> Trace:
    return Trace(
        client_id=client_id,
        legal=False,
        surname="Jansen",
        first_name="kees",
        birth_date="1980-03-12",
        postcode="1077XL",
        house_number="232",
        contacts=frozenset({"+31612345678"}),
        partner_id=partner_id,
        since="s1",
        expires_at=NOW + 10**8,
    )


def test_an_identity_bucket_is_read_back_as_written_and_an_unknown_one_is_absent(identities):
    bucket = Bucket("DOB#1980-03-12", traces=[a_trace("c_1"), a_trace("c_2", "demo-verzekeraar")])
    bucket.join("c_0", "c_1", NOW + 10**8)
    identities.save([bucket], [])
    found = identities.buckets(["DOB#1980-03-12", "DOB#1999-01-01"])
    assert list(found) == ["DOB#1980-03-12"]
    assert found["DOB#1980-03-12"].traces == bucket.traces
    assert found["DOB#1980-03-12"].joined == {"c_0": ("c_1", NOW + 10**8)}


def test_one_partners_variants_of_a_client_are_read_back_and_an_old_bucket_reads_as_one(
    identities,
):
    # given a bucket stored before variants (one trace per client and partner), as written
    old_item = {
        "pk": "IDENTITY#DOB#1980-03-12#k",
        "sk": "IDENTITY",
        "type": "identity",
        "traces": [a_trace("c_1").as_item()],
        "joined": {},
        "expires_at": NOW + 10**8,
        "version": 3,
    }
    if isinstance(identities, MemoryIdentities):
        identities.items[(old_item["pk"], old_item["sk"])] = old_item
    else:
        identities.table.put_all([old_item])
    [old] = identities.buckets(["DOB#1980-03-12#k"]).values()
    assert (old.traces, old.version) == ([a_trace("c_1")], 3)
    # when the partner's other variant of the client (initials, a landline) is kept and saved
    other = replace(a_trace("c_1"), first_name="", initials="k", contacts=frozenset({"+31703"}))
    old.keep(other)
    assert identities.save([old], []) is True
    # then both variants are read back
    [stored] = identities.buckets(["DOB#1980-03-12#k"]).values()
    assert stored.traces == [a_trace("c_1"), other]


def test_the_current_parties_of_a_policy_stored_without_traces_are_read(portfolio, identities):
    portfolio.write_policies([stored_policy("P1", "s1")])
    parties = identities.parties_of("demo-volmacht", ["P1", "P9"])
    assert [p["surname"] for p in parties["P1"]] == ["Berg"]
    assert parties["P9"] == []


def test_a_join_is_found_from_the_old_id_and_from_the_surviving_id(identities):
    identities.save([], [Join("c_old", "c_first", NOW + 10**8)])
    assert identities.client_index("c_old").joined_into == "c_first"
    assert identities.client_index("c_first").aliases == ["c_old"]
    assert identities.client_index("c_first").joined_into is None


def test_a_bucket_changed_by_another_writer_since_it_was_read_is_not_overwritten(identities):
    identities.save([Bucket("DOB#1980-03-12", traces=[a_trace("c_1")])], [])
    [read_by_one] = identities.buckets(["DOB#1980-03-12"]).values()
    [read_by_other] = identities.buckets(["DOB#1980-03-12"]).values()
    read_by_one.keep(a_trace("c_2", "demo-verzekeraar"))
    read_by_other.keep(a_trace("c_3", "demo-intermediair"))

    assert identities.save([read_by_one], []) is True
    assert identities.save([read_by_other], [Join("c_old", "c_3", NOW + 10**8)]) is False

    [stored] = identities.buckets(["DOB#1980-03-12"]).values()
    assert [t.client_id for t in stored.traces] == ["c_1", "c_2"]
    assert identities.client_index("c_old").joined_into is None, "nothing of it is written"
    assert identities.save([Bucket("DOB#1980-03-12")], []) is False, "a new bucket over one"


def test_a_bucket_past_its_expiry_that_ttl_has_not_deleted_yet_is_written_over(identities):
    # given a bucket whose every trace has expired, still in the table (TTL deletes late)
    lapsed = replace(a_trace("c_gone"), expires_at=int(epoch()) - 60)
    identities.save([Bucket("DOB#1980-03-12", traces=[lapsed])], [])
    # when a delivery reads it (as none) and writes a new bucket
    assert identities.buckets(["DOB#1980-03-12"]) == {}
    written = identities.save([Bucket("DOB#1980-03-12", traces=[a_trace("c_new")])], [])
    # then the new bucket replaces it
    assert written is True
    [stored] = identities.buckets(["DOB#1980-03-12"]).values()
    assert [t.client_id for t in stored.traces] == ["c_new"]


def test_a_join_is_not_written_when_a_later_transaction_of_its_save_conflicts(identities):
    # given a bucket another writer changed since it was read
    identities.save([Bucket("DOB#1999-09-09", traces=[a_trace("c_1")])], [])
    [stale] = identities.buckets(["DOB#1999-09-09"]).values()
    identities.save([replace(stale, traces=[a_trace("c_2")])], [])
    # when a save of more buckets than one transaction holds, the stale one last, fails
    fresh = [
        Bucket(f"DOB#1970-01-{day:02d}#{n}", traces=[a_trace(f"c_{n}")])
        for n, day in enumerate(range(1, 29))
    ]
    fresh += [Bucket(f"KVK#{n:08d}", traces=[a_trace(f"c_k{n}")]) for n in range(80)]
    saved = identities.save([*fresh, stale], [Join("c_old", "c_new", NOW + 10**8)])
    # then its join was not written
    assert saved is False
    assert identities.client_index("c_old").joined_into is None


def test_a_save_refused_for_one_changed_bucket_still_writes_the_others_but_no_join(identities):
    # given a bucket another writer changed since it was read
    identities.save([Bucket("DOB#1999-09-09", traces=[a_trace("c_1")])], [])
    [stale] = identities.buckets(["DOB#1999-09-09"]).values()
    identities.save([replace(stale, traces=[a_trace("c_2")])], [])
    # when a save of a few new buckets, the stale one among them (one transaction), and a join
    fresh = [Bucket(f"KVK#{n:08d}", traces=[a_trace(f"c_k{n}")]) for n in range(5)]
    saved = identities.save([*fresh[:3], stale, *fresh[3:]], [Join("c_old", "c_k0", NOW + 10**8)])
    # then it is refused, the stale bucket keeps the other writer's traces, and the join waits
    assert saved is False
    [stored] = identities.buckets(["DOB#1999-09-09"]).values()
    assert [t.client_id for t in stored.traces] == ["c_2"]
    assert identities.client_index("c_old").joined_into is None
    # but the new buckets are written: the second resolution finds its own traces in them,
    # and only the changed bucket goes round again
    written = identities.buckets([b.key for b in fresh])
    assert sorted(written) == sorted(b.key for b in fresh)
    assert all(b.version == 1 for b in written.values())


RESOLVER_KEY = "contract-client-id-key"


def kees(**fields: str) -> PartyFields:
    base = PartyFields(
        role="VP", is_legal_entity=False, surname="Jansen", surname_key="jansen",
        first_name="Kees", initials="K.", birth_date="1980-03-12", postcode="1077XL",
        house_number="232",
    )  # fmt: skip
    return replace(base, **fields)


def resolved(store: IdentityStore, partner_id: str, number: str, party: PartyFields) -> list[str]:
    resolution = IdentityResolver(store, key=RESOLVER_KEY).resolve(
        partner_id,
        [PolicyParties(number, [party], None)],
        seq=f"2026-03-01#{partner_id}",
        expires_at=NOW + 10**8,
        now=NOW,
    )
    return resolution.client_ids[0]


def test_two_resolvers_racing_on_one_new_person_keep_both_traces_under_one_client_id(identities):
    # given two partners' deliveries of one new person (one writes Janssen), each reading the
    # person's buckets before either wrote them
    other: list[str] = []
    racing = RacingStore(
        identities,
        lambda: other.extend(
            resolved(identities, "demo-verzekeraar", "Z1", kees(surname="Janssen"))
        ),
    )
    # when the first one saves after the other one did
    first = resolved(racing, "demo-volmacht", "V1", kees())
    # then its save was refused and its second resolution took the other's client id
    assert racing.saves == 2
    assert first == other
    # and every bucket of the person keeps both partners' traces under that id
    keys = bucket_keys(trace_of(kees(), first[0], partner_id="demo-volmacht"))
    stored = identities.buckets(keys)
    assert sorted(stored) == sorted(keys)
    for bucket in stored.values():
        assert {(t.partner_id, t.client_id) for t in bucket.traces} == {
            ("demo-verzekeraar", first[0]),
            ("demo-volmacht", first[0]),
        }
