"""Portfolio deliveries through the real ingest service on in-memory stores: what a partner's
file does to the register, decided without AWS. (The DynamoDB/S3/SQS adapters are checked in
tests/integration.)"""

from __future__ import annotations

import gzip
import json
import logging
from datetime import datetime
from typing import Any

import pytest

from chalicelib.config import reset_settings
from chalicelib.errors import Conflict, StoreError
from chalicelib.rules.dates import expires_at
from tests.support.ingest import csv_bytes, person, portfolio
from tests.support.memory import MemoryPortfolio, MemoryRegister

pytestmark = pytest.mark.unit

PARTNER = "demo-volmacht"


@pytest.fixture
def register() -> MemoryRegister:
    return MemoryRegister()


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INGEST_BATCH_ROWS", "25")
    reset_settings()


def deliver(
    register: MemoryRegister, name: str, data: bytes, *, kind: str = "full"
) -> dict[str, Any]:
    register.upload(f"incoming/{PARTNER}/{kind}/{name}", data)
    register.drain()
    return register.report(PARTNER)


def policy(register: MemoryRegister, number: str) -> dict[str, Any]:
    found = register.policy(number, PARTNER)
    assert found is not None, f"policy {number} is stored"
    return found


class Interrupted(Exception):
    """Stands for the Lambda runtime killing the function."""


class TimeRunsLow:
    """Plenty of time, except on every `every`-th look at the clock."""

    def __init__(self, every: int) -> None:
        self.calls = 0
        self.every = every

    def __call__(self) -> int:
        self.calls += 1
        return 1_000 if self.calls % self.every == 0 else 900_000


class DiesOnce:
    """Kills the invocation the `at`-th time it looks at the clock, then behaves."""

    def __init__(self, at: int) -> None:
        self.calls = 0
        self.at = at

    def __call__(self) -> int:
        self.calls += 1
        if self.calls == self.at:
            raise Interrupted
        return 900_000


# --- a delivery's effect -------------------------------------------------------------------------


def test_full_delivery_writes_policies_parties_and_lookups_that_expire_24_months_later(register):
    # given a portfolio of three policies
    data = csv_bytes(portfolio(3))

    # when the partner uploads it
    result = deliver(register, "portfolio.csv", data)

    # then the report accepts every row
    assert result["status"] == "accepted"
    assert (result["rows_total"], result["rows_accepted"], result["rows_rejected"]) == (3, 3, 0)
    # and every stored item, the delivery record too, expires 24 months after the delivery
    expected_expiry = expires_at(datetime.fromisoformat(result["received_at"]), 24)
    items = register.items()
    assert {i["type"] for i in items} == {"policy", "party", "lookup", "delivery"}
    assert all(int(i["expires_at"]) == expected_expiry for i in items)


def test_a_redelivered_policy_that_changed_gets_a_new_expiry(register):
    # given a delivered policy
    deliver(register, "first.csv", csv_bytes(portfolio(1)))
    first_expiry = int(policy(register, "P00000")["expires_at"])

    # when it is delivered again a day later with another phone number
    register.clock.advance(days=1)
    deliver(register, "second.csv", csv_bytes([{**portfolio(1)[0], "MOBIEL": "0612345678"}]))

    # then its expiry moved with the delivery
    assert int(policy(register, "P00000")["expires_at"]) > first_expiry


def test_the_same_s3_event_delivered_twice_has_the_effect_of_one_delivery(register):
    # given an upload whose notification S3 delivers twice (at-least-once)
    body = register.upload(f"incoming/{PARTNER}/full/twice.csv", csv_bytes(portfolio(2)))
    register.queue.messages.append(body)

    # when both are processed
    register.drain()

    # then there is one delivery, one report, and the counts are not doubled
    assert len(register.items("delivery")) == 1
    reports = register.reports(PARTNER)
    assert len(reports) == 1
    assert (reports[0]["rows_accepted"], reports[0]["policies_written"]) == (2, 2)


def test_an_older_delivery_processed_after_a_newer_one_changes_nothing(register):
    # given two mutation deliveries of the same policy, the second one newer
    older = register.upload(
        f"incoming/{PARTNER}/mutation/older.csv",
        csv_bytes([person("P1", PP_VRWRKCD="1", PP_DEKKING="RP")]),
        notify=False,
    )
    newer = register.upload(
        f"incoming/{PARTNER}/mutation/newer.csv",
        csv_bytes([person("P1", PP_VRWRKCD="1", PP_DEKKING="RP|VK|IN")]),
        notify=False,
    )

    # when the newer event is processed first and the older one after it
    register.process(newer)
    register.process(older)

    # then the policy keeps the newer data and the older report says it was superseded
    assert policy(register, "P1")["modules"] == ["RP", "VK", "IN"]
    older_report = next(
        r for r in register.reports(PARTNER) if r["object_key"].endswith("older.csv")
    )
    assert (older_report["rows_superseded"], older_report["rows_accepted"]) == (1, 0)


def test_full_delivery_ends_the_policies_missing_from_it_without_deleting_them(register):
    # given ten active policies
    deliver(register, "month1.csv", csv_bytes(portfolio(10)))

    # when the next full delivery lacks one of them (10% < 20%)
    result = deliver(register, "month2.csv", csv_bytes(portfolio(9)))

    # then that one is ended as removed from the portfolio, with the date, and still stored
    assert result["status"] == "accepted"
    assert result["policies_ended"] == 1
    ended = policy(register, "P00009")
    assert ended["status"] == "removed_from_portfolio"
    assert ended["ended_on"] == result["received_at"][:10]
    assert "gsi2pk" not in ended
    assert policy(register, "P00008")["status"] == "active"


def test_a_full_delivery_that_drops_half_the_portfolio_waits_for_a_confirm(register):
    # given ten active policies
    deliver(register, "month1.csv", csv_bytes(portfolio(10)))

    # when a full delivery contains only five of them
    held = deliver(register, "month2.csv", csv_bytes(portfolio(5)))

    # then nothing is ended and the delivery waits for an administrator
    assert held["status"] == "held_for_review"
    assert (held["policies_pending_removal"], held["policies_ended"]) == (5, 0)
    assert policy(register, "P00009")["status"] == "active"

    # when an administrator confirms it
    register.service().release_held(held["delivery_id"], confirmed_by="admin-user")
    register.drain()

    # then the five missing policies are ended and the report says who confirmed it
    after = register.report(PARTNER)
    assert policy(register, "P00009")["status"] == "removed_from_portfolio"
    assert (after["status"], after["policies_ended"]) == ("accepted", 5)
    assert after["confirmed_by"] == "admin-user"
    assert not any("nothing ended" in w for w in after["warnings"])
    assert any("Confirmed by an administrator" in w for w in after["warnings"])
    # and confirming again is a conflict, not a second run
    with pytest.raises(Conflict) as again:
        register.service().release_held(held["delivery_id"], confirmed_by="admin-user")
    assert again.value.code == "delivery_not_held"


def test_a_confirm_whose_queue_send_fails_leaves_the_delivery_held(register, monkeypatch):
    # given a held full delivery
    deliver(register, "m1.csv", csv_bytes(portfolio(10)))
    held = deliver(register, "m2.csv", csv_bytes(portfolio(5)))

    # when the confirm cannot reach the queue
    def queue_down(message: dict[str, Any], **kwargs: Any) -> str:
        raise StoreError("send_message: unavailable")

    monkeypatch.setattr(register.queue, "send", queue_down)
    with pytest.raises(StoreError):
        register.service().release_held(held["delivery_id"], confirmed_by="admin-user")
    monkeypatch.undo()

    # then it is still held, and a second confirm goes through
    assert register.deliveries.records[held["delivery_id"]].status == "held_for_review"
    register.service().release_held(held["delivery_id"], confirmed_by="admin-user")
    register.drain()
    assert register.report(PARTNER)["policies_ended"] == 5


def test_mutation_codes_add_change_cancel_and_inform(register):
    # given two policies
    deliver(register, "base.csv", csv_bytes([person("M1"), person("M2", HUISNR="2")]))

    # when a mutation file adds one, changes one, cancels one
    mutation = csv_bytes(
        [
            person("M3", PP_VRWRKCD="0", HUISNR="3"),
            person("M1", PP_VRWRKCD="1", PP_DEKKING="RP|FV"),
            person("M2", PP_VRWRKCD="2", HUISNR="2", PP_EXPDAT="20261001"),
        ]
    )
    result = deliver(register, "mutation.csv", mutation, kind="mutation")

    # then each code had its effect and nothing was ended by absence
    assert result["status"] == "accepted"
    assert policy(register, "M3")["status"] == "active"
    assert policy(register, "M1")["modules"] == ["RP", "FV"]
    assert policy(register, "M2")["status"] == "cancelled"
    assert policy(register, "M2")["end_date"] == "2026-10-01"

    # when a later "for information" row arrives for the cancelled policy
    info = csv_bytes([person("M2", PP_VRWRKCD="4", HUISNR="2", PP_EXPDAT="20261001")])
    deliver(register, "info.csv", info, kind="mutation")

    # then the policy stays cancelled
    assert policy(register, "M2")["status"] == "cancelled"


def test_a_cancellation_without_end_date_ends_on_the_delivery_date(register):
    deliver(register, "base.csv", csv_bytes([person("C1")]))
    cancel = csv_bytes([person("C1", PP_VRWRKCD="2")])
    result = deliver(register, "cancel.csv", cancel, kind="mutation")
    assert policy(register, "C1")["status"] == "cancelled"
    assert policy(register, "C1")["end_date"] == result["received_at"][:10]


def test_a_cancellation_with_a_future_end_date_ends_on_that_date(register):
    deliver(register, "base.csv", csv_bytes([person("C1")]))
    cancel = csv_bytes([person("C1", PP_VRWRKCD="2", PP_EXPDAT="20990331")])
    deliver(register, "cancel.csv", cancel, kind="mutation")
    stored = policy(register, "C1")
    assert (stored["status"], stored["ended_on"], stored["end_date"]) == (
        "cancelled",
        "2099-03-31",
        "2099-03-31",
    )


# --- what is refused -----------------------------------------------------------------------------


def test_a_mutation_file_without_processing_code_column_is_rejected(register):
    header = [c for c in csv_bytes([]).decode().strip().split(";") if c != "PP_VRWRKCD"]
    result = deliver(register, "m.csv", csv_bytes([person("X1")], header=header), kind="mutation")
    assert result["status"] == "rejected"
    assert result["errors"][0]["code"] == "missing_columns"
    assert "PP_VRWRKCD" in result["errors"][0]["message_en"]


def test_a_key_with_spaces_and_plus_signs_is_decoded(register):
    result = deliver(register, "mijn portefeuille+2026.csv", csv_bytes(portfolio(1)))
    assert result["object_key"] == f"incoming/{PARTNER}/full/mijn portefeuille+2026.csv"
    assert result["status"] == "accepted"


def test_an_unknown_partner_is_rejected_with_a_report_and_no_policy_data(register):
    register.upload("incoming/someone-else/full/p.csv", csv_bytes(portfolio(2)))
    register.drain()
    result = register.report("someone-else")
    assert result["status"] == "rejected"
    assert result["errors"][0]["code"] == "unknown_partner"
    assert "niet bekend" in result["errors"][0]["message"]
    assert not register.portfolio.items


@pytest.mark.parametrize(
    ("key", "code"),
    [
        ("incoming/demo-volmacht/weekly/p.csv", "unknown_delivery_kind"),
        ("incoming/demo-volmacht/full/2026/12/p.csv", "invalid_object_key"),
        ("incoming/demo-volmacht/p.csv", "invalid_object_key"),
        ("incoming/p.csv", "invalid_object_key"),
        ("elsewhere/p.csv", "invalid_object_key"),
    ],
)
def test_a_file_outside_the_key_contract_is_rejected(register, key, code):
    # (filed under the partner whose prefix it is under, so the partner reads why)
    register.upload(key, csv_bytes(portfolio(1)))
    register.drain()
    partner = "demo-volmacht" if key.startswith("incoming/demo-volmacht/") else "_unknown"
    result = register.report(partner)
    assert (result["status"], result["errors"][0]["code"]) == ("rejected", code)
    assert not register.portfolio.items


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("empty.csv", b"", "empty_file"),
        ("header-only.csv", csv_bytes([]), "empty_file"),
        ("binary.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 40, None),
        ("notes.txt", b"hello", "unsupported_file_type"),
    ],
)
def test_unreadable_files_are_rejected_with_one_clear_error_and_write_nothing(
    register, name, data, code
):
    result = deliver(register, name, data)
    assert result["status"] == "rejected"
    assert result["errors"], "a rejected file names its reason"
    if code:
        assert result["errors"][0]["code"] == code
    assert result["errors"][0]["message"]
    assert result["errors"][0]["message_en"]
    assert not register.portfolio.items


def test_a_file_that_is_gone_is_rejected(register):
    register.upload(f"incoming/{PARTNER}/full/gone.csv", csv_bytes(portfolio(1)))
    del register.blobs.objects[f"incoming/{PARTNER}/full/gone.csv"]
    register.drain()
    result = register.report(PARTNER)
    assert (result["status"], result["errors"][0]["code"]) == ("rejected", "object_missing")


def test_rejected_rows_are_reported_per_line_and_the_rest_is_stored(register):
    rows = [
        person("R1"),
        person("R2", PCODE="1234SA", HUISNR="2"),
        person("R3", PP_BRANCHE="021", HUISNR="3"),
        person("R4", HUISNR="4"),
    ]
    result = deliver(register, "mixed.csv", csv_bytes(rows))
    assert result["status"] == "accepted_with_errors"
    assert (result["rows_accepted"], result["rows_rejected"]) == (2, 2)
    by_code = {e["code"]: e for e in result["errors"]}
    assert (by_code["invalid_postcode"]["line"], by_code["invalid_postcode"]["column"]) == (
        3,
        "PCODE",
    )
    assert by_code["branch_not_in_scope"]["line"] == 4
    assert result["error_counts"] == {"invalid_postcode": 1, "branch_not_in_scope": 1}
    assert register.policy("R2", PARTNER) is None
    assert register.policy("R4", PARTNER) is not None


def test_a_file_whose_every_row_is_rejected_is_rejected_and_ends_nothing(register):
    deliver(register, "m1.csv", csv_bytes(portfolio(3)))
    rows = [person("Z1", PCODE="1234SA"), person("Z2", PP_BRANCHE="021", HUISNR="2")]
    result = deliver(register, "all-bad.csv", csv_bytes(rows))
    assert result["status"] == "rejected"
    assert result["error_counts"] == {
        "invalid_postcode": 1,
        "branch_not_in_scope": 1,
        "no_valid_rows": 1,
    }
    assert result["policies_ended"] == 0
    assert policy(register, "P00000")["status"] == "active"


def test_a_full_delivery_does_not_end_a_policy_whose_row_was_rejected(register):
    deliver(register, "m1.csv", csv_bytes(portfolio(10)))
    rows = portfolio(10)
    rows[3]["PCODE"] = "0000XX"
    result = deliver(register, "m2.csv", csv_bytes(rows))
    assert result["policies_ended"] == 0
    assert policy(register, rows[3]["PP_NUMMER"])["status"] == "active"


def test_a_policy_needs_exactly_one_policyholder(register):
    rows = [person("H1", ENTITEIT="SP"), person("H2", HUISNR="2")]
    result = deliver(register, "holders.csv", csv_bytes(rows))
    assert result["error_counts"] == {"policy_needs_one_policyholder": 1}
    assert register.policy("H1", PARTNER) is None
    assert register.policy("H2", PARTNER) is not None


def test_a_household_on_one_policy_becomes_one_policy_with_its_parties(register):
    rows = [
        person("G1", PP_GEZIN="H"),
        person("G1", PP_GEZIN="H", ENTITEIT="SP", VOORL="B.", GEBDAT="19820202"),
        person("G1", PP_GEZIN="H", ENTITEIT="KN", VOORL="C.", GEBDAT="20150303"),
    ]
    result = deliver(register, "household.csv", csv_bytes(rows))
    assert (result["rows_accepted"], result["policies_written"]) == (3, 1)
    parties = register.items("party")
    assert sorted(p["role"] for p in parties) == ["KN", "SP", "VP"]
    assert len({p["client_id"] for p in parties}) == 3


def test_twins_with_their_own_initials_on_one_policy_are_two_parties(register):
    # given twins P. and J.: same surname, birth date and address, on one household policy
    rows = [
        person("T2", PP_GEZIN="H"),
        person("T2", PP_GEZIN="H", ENTITEIT="KN", VOORL="P.", GEBDAT="20150303"),
        person("T2", PP_GEZIN="H", ENTITEIT="KN", VOORL="J.", GEBDAT="20150303"),
    ]
    result = deliver(register, "twins.csv", csv_bytes(rows))

    # then the policy is accepted with three parties, the twins two clients
    assert "duplicate_party" not in result["error_counts"]
    assert (result["rows_accepted"], result["policies_written"]) == (3, 1)
    children = [p for p in register.items("party") if p["role"] == "KN"]
    assert sorted(p["initials"] for p in children) == ["J.", "P."]
    assert len({p["client_id"] for p in children}) == 2

    # and a re-delivery gives each twin the same client id again
    first_ids = {p["initials"]: p["client_id"] for p in children}
    deliver(register, "twins-again.csv", csv_bytes(rows))
    again = [p for p in register.items("party") if p["role"] == "KN"]
    assert {p["initials"]: p["client_id"] for p in again} == first_ids


def test_two_parties_that_would_be_one_client_on_one_policy_reject_the_policy(register):
    # given twins with the same initials on one household policy
    rows = [
        person("T1", PP_GEZIN="H"),
        person("T1", PP_GEZIN="H", ENTITEIT="KN", VOORL="J.", GEBDAT="20150303"),
        person("T1", PP_GEZIN="H", ENTITEIT="KN", VOORL="J.", GEBDAT="20150303"),
    ]
    result = deliver(register, "twins.csv", csv_bytes(rows))

    # then the policy is rejected with a reason instead of silently losing a party
    assert result["error_counts"].get("duplicate_party") == 1
    assert result["rows_accepted"] == 0
    assert not register.items("policy")


def test_rows_of_one_policy_split_over_the_file_are_rejected_the_second_time(
    register, small_batches
):
    # given a file where policy S1's rows are not adjacent, in separate write batches
    household = [
        person("S1", VOORL="C."),
        person("S1", ENTITEIT="SP", VOORL="B.", GEBDAT="19820202"),
    ]
    rows = [person("S1"), *portfolio(30), *household]
    result = deliver(register, "split.csv", csv_bytes(rows))

    # then the first group is stored, the later one is rejected with a clear code
    assert result["error_counts"] == {"policy_rows_not_adjacent": 1}
    assert (result["rows_rejected"], result["policies_written"]) == (2, 31)
    parties = [p for p in register.items("party") if p["policy_number"] == "S1"]
    assert [p["role"] for p in parties] == ["VP"]


def split_redelivery(register: MemoryRegister) -> bytes:
    """Sixty policies delivered, and the same file again with a row of P00000 (whose rows
    are otherwise unchanged) appended at the end, two batches later."""
    rows = portfolio(60)
    deliver(register, "first.csv", csv_bytes(rows))
    return csv_bytes([*rows, person("P00000", VOORL="Z.", GEBDAT="19700707")])


def test_split_rows_of_a_policy_delivered_unchanged_are_rejected_like_those_of_a_written_one(
    register, small_batches
):
    # given a re-delivery in which P00000's first rows are unchanged and a later row is apart
    again = split_redelivery(register)

    # when it is delivered
    result = deliver(register, "again.csv", again)

    # then the apart row is rejected as on a first delivery, and P00000 keeps its party
    assert result["error_counts"] == {"policy_rows_not_adjacent": 1}
    assert (result["policies_written"], result["policies_unchanged"]) == (0, 60)
    parties = [p for p in register.items("party") if p["policy_number"] == "P00000"]
    assert [p["role"] for p in parties] == ["VP"]


def test_split_rows_of_an_unchanged_policy_are_rejected_after_a_hand_over_too(small_batches):
    # given the same re-delivery, run by invocations that keep running low on time
    register = MemoryRegister()
    again = split_redelivery(register)
    event = register.upload(f"incoming/{PARTNER}/full/again.csv", again, notify=False)
    clock = TimeRunsLow(every=2)
    register.process(event, clock)
    assert register.drain(clock) >= 1

    # then the apart row is rejected all the same
    result = register.report(PARTNER)
    assert result["error_counts"] == {"policy_rows_not_adjacent": 1}
    assert result["policies_written"] == 0


def test_a_retried_batch_of_unchanged_policies_is_not_taken_for_split_rows(
    small_batches, monkeypatch
):
    # given a re-delivery of sixty unchanged policies whose second batch is noted as seen but
    # dies before its checkpoint, and is then delivered again by SQS
    register = MemoryRegister()
    rows = portfolio(60)
    deliver(register, "first.csv", csv_bytes(rows))
    event = register.upload(f"incoming/{PARTNER}/full/again.csv", csv_bytes(rows), notify=False)
    checkpoint = register.deliveries.checkpoint
    calls = []

    def dies_at_the_second(delivery_id: str, progress: Any) -> None:
        calls.append(delivery_id)
        if len(calls) == 2:
            raise Interrupted
        checkpoint(delivery_id, progress)

    monkeypatch.setattr(register.deliveries, "checkpoint", dies_at_the_second)
    with pytest.raises(Interrupted):
        register.process(event)
    assert len(register.portfolio.seen_parts) == 2
    register.process(event)

    # then every policy is unchanged and no row is rejected
    result = register.report(PARTNER)
    assert (result["policies_unchanged"], result["rows_rejected"]) == (60, 0)
    assert result["error_counts"] == {}


def split_after_a_refused_group(kind: str) -> tuple[MemoryRegister, bytes]:
    """Household H1 (policyholder and partner) stored; then a file in which H1's partner row is
    bad (so H1's first group is refused), thirty policies follow, and H1's policyholder row
    comes again at the end (two batches later with batches of 25 rows, in the same batch with
    the default 500)."""
    register = MemoryRegister()
    household = [
        person("H1", PP_GEZIN="H", GEBDAT="19700101"),
        person("H1", PP_GEZIN="H", ENTITEIT="SP", VOORL="B.", GEBDAT="19720202"),
    ]
    deliver(register, "first.csv", csv_bytes([*household, *portfolio(30)]))
    code = {"PP_VRWRKCD": "1"} if kind == "mutation" else {}
    rows = [household[0], dict(household[1], PCODE="1"), *portfolio(30), household[0]]
    return register, csv_bytes([dict(row, **code) for row in rows])


@pytest.mark.parametrize("kind", ["full", "mutation", "check"])
@pytest.mark.parametrize("batch_rows", ["25", "500"], ids=["later-batch", "same-batch"])
def test_split_rows_of_a_policy_whose_first_group_was_refused_are_not_written_alone(
    monkeypatch, kind, batch_rows
):
    # given a delivery whose first group of H1 is refused for a bad row, and H1's rows again
    monkeypatch.setenv("INGEST_BATCH_ROWS", batch_rows)
    reset_settings()
    register, file = split_after_a_refused_group(kind)

    # when it is delivered (or checked)
    result = deliver(register, "again.csv", file, kind=kind)

    # then the later rows are rejected as apart, and the stored household keeps both parties
    assert result["error_counts"].get("policy_rows_not_adjacent") == 1
    parties = [p for p in register.items("party") if p["policy_number"] == "H1"]
    policy = register.policy("H1", PARTNER)
    current = sorted(p["role"] for p in parties if p["data_seq"] == policy["data_seq"])
    assert current == ["SP", "VP"]


def test_split_rows_within_one_batch_are_rejected_too(register):
    rows = [
        person("S2"),
        person("X1", HUISNR="9"),
        person("S2", VOORL="C."),
        person("S2", ENTITEIT="SP", VOORL="B.", GEBDAT="19820202"),
    ]
    result = deliver(register, "split-small.csv", csv_bytes(rows))
    assert result["error_counts"] == {"policy_rows_not_adjacent": 1}
    assert result["policies_written"] == 2


def test_the_same_person_from_two_partners_is_one_client(register):
    register.upload("incoming/demo-volmacht/full/a.csv", csv_bytes([person("A1")]))
    register.upload(
        "incoming/demo-verzekeraar/full/b.csv",
        csv_bytes([person("B1", ANAAM="Van der Berg", VOORV="", VOORL="A")]),
    )
    register.drain()
    parties = register.items("party")
    assert len(parties) == 2
    assert parties[0]["client_id"] == parties[1]["client_id"]


def test_a_bsn_is_stored_logged_and_reported_nowhere(register, capsys, caplog):
    # given a file with a BSN column
    bsn = "111222333"
    header = [*csv_bytes([]).decode().strip().split(";"), "BSNR"]
    rows = [person("S1", BSNR=bsn), person("S2", HUISNR="2", BSNR=bsn)]
    caplog.set_level(logging.DEBUG)

    # when it is delivered
    result = deliver(register, "bsn.csv", csv_bytes(rows, header=header))

    # then the rows are stored, the report warns once with a count, and the value is nowhere
    assert result["rows_accepted"] == 2
    assert sum("BSN" in w for w in result["warnings"]) == 2  # the column, and the count
    assert any("2 BSN" in w for w in result["warnings"])
    assert bsn not in json.dumps(register.items(), default=str)
    assert bsn not in json.dumps(result)
    captured = capsys.readouterr()
    assert bsn not in captured.out + captured.err + caplog.text


def test_a_column_that_appears_twice_is_named_in_a_warning_and_the_first_one_is_read(register):
    # given a file whose header has ANAAM twice, the second column holding other names
    text = csv_bytes([person("D1"), person("D2", HUISNR="2")]).decode().splitlines()
    lines = [text[0] + ";anaam", *(line + ";Other" for line in text[1:])]

    # when it is delivered
    result = deliver(register, "twice.csv", ("\n".join(lines) + "\n").encode())

    # then the rows are stored with the first column's name, and the report says so
    assert result["rows_accepted"] == 2
    assert {p["surname"] for p in register.items("party")} == {"Berg"}
    assert any("ANAAM" in w and "twice" in w for w in result["warnings"])


def test_an_s3_test_event_and_unreadable_messages_are_skipped(register):
    register.queue.messages += [
        json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"}),
        "not json",
        "[1, 2]",
    ]
    assert register.drain() == 3
    assert not register.items()


def test_windows_1252_and_tab_delimited_files_are_read(register):
    text = csv_bytes([person("W1", ANAAM="Hélène")]).decode().replace(";", "\t")
    result = deliver(register, "latin.csv", text.encode("cp1252"))
    assert result["status"] == "accepted"
    assert register.items("party")[0]["surname"] == "Hélène"


def test_json_lines_gzip_delivery_is_read(register):
    lines = "\n".join(json.dumps(r) for r in portfolio(3)).encode()
    result = deliver(register, "portfolio.jsonl.gz", gzip.compress(lines))
    assert (result["status"], result["rows_accepted"]) == ("accepted", 3)


# --- order, retries and interruptions ------------------------------------------------------------


def test_an_older_mutation_processed_after_a_newer_full_delivery_does_not_revive_a_removed_policy(
    register,
):
    # given ten policies; then the partner sends a mutation of one, then a full file without it
    deliver(register, "m1.csv", csv_bytes(portfolio(10)))
    changed = portfolio(10)[9] | {"PP_VRWRKCD": "1"}
    older = register.upload(
        f"incoming/{PARTNER}/mutation/older.csv", csv_bytes([changed]), notify=False
    )
    newer = register.upload(
        f"incoming/{PARTNER}/full/newer.csv", csv_bytes(portfolio(9)), notify=False
    )

    # when the newer full delivery is processed first and the older mutation after it
    register.process(newer)
    assert policy(register, "P00009")["status"] == "removed_from_portfolio"
    register.process(older)

    # then the removal stands and the older row is reported as superseded
    assert policy(register, "P00009")["status"] == "removed_from_portfolio"
    assert "gsi2pk" not in policy(register, "P00009")
    report = next(r for r in register.reports(PARTNER) if r["object_key"].endswith("older.csv"))
    assert (report["rows_superseded"], report["rows_accepted"]) == (1, 0)


def test_a_lagging_index_does_not_end_a_policy_the_delivery_just_wrote(register):
    # given ten policies, and an ACTIVE index that still lists one of them as not seen
    deliver(register, "m1.csv", csv_bytes(portfolio(10)))

    class LaggingIndex(MemoryPortfolio):
        def active_not_seen(self, partner_id: str, seq: str) -> Any:
            yield from super().active_not_seen(partner_id, seq)
            yield "P00000"

    lagging = LaggingIndex()
    lagging.items = register.portfolio.items
    register.portfolio = lagging

    # when a full delivery re-delivers that policy with other modules
    rows = portfolio(10)
    rows[0]["PP_DEKKING"] = "RP|VK|WC|IN|FV"
    result = deliver(register, "m2.csv", csv_bytes(rows))

    # then it stays active with its new data, and nothing was ended
    fresh = policy(register, "P00000")
    assert fresh["status"] == "active"
    assert fresh["modules"] == ["RP", "VK", "WC", "IN", "FV"]
    assert result["policies_ended"] == 0


def test_a_retry_after_every_row_was_read_finishes_the_delivery_instead_of_rejecting_it(
    register, monkeypatch
):
    # given writing the report fails once, after all rows are stored
    real_put_json = register.blobs.put_json
    failures: list[str] = []

    def fails_once(key: str, document: Any) -> None:
        if not failures:
            failures.append(key)
            raise StoreError("put_object: SlowDown")
        real_put_json(key, document)

    monkeypatch.setattr(register.blobs, "put_json", fails_once)

    # when the delivery is processed and SQS retries it
    result = deliver(register, "m.csv", csv_bytes([person("M1", PP_VRWRKCD="0")]), kind="mutation")

    # then the retry finishes it as accepted, with the row counted once
    assert failures
    assert (result["status"], result["rows_accepted"], result["error_counts"]) == (
        "accepted",
        1,
        {},
    )


def test_a_kill_while_ending_policies_is_retried_and_counts_every_ended_policy_once(
    register, monkeypatch, small_batches
):
    # given 100 policies, and a full delivery of 40 (ending 60 is allowed here)
    monkeypatch.setenv("FULL_DELIVERY_MAX_REMOVAL_PCT", "100")
    reset_settings()
    deliver(register, "m1.csv", csv_bytes(portfolio(100)))
    register.upload(f"incoming/{PARTNER}/full/m2.csv", csv_bytes(portfolio(40)))

    # when the function is killed once while it ends the missing policies
    # (looks at the clock: after the rows' first batch, then after each batch of 25 ended)
    dies = DiesOnce(at=3)
    register.drain(dies)

    # then the retry ended all 60, and the report says so
    assert dies.calls > 3
    removed = [p for p in register.items("policy") if p["status"] == "removed_from_portfolio"]
    assert len(removed) == 60
    result = register.report(PARTNER)
    assert (result["status"], result["policies_ended"]) == ("accepted", 60)


def big_delivery(register: MemoryRegister) -> str:
    """A full delivery of 150 policies (6 batches of 25) with two bad rows, not yet processed."""
    rows = portfolio(150)
    rows[40]["PCODE"] = "1234SS"
    rows[100]["GEBDAT"] = "20991231"
    return register.upload(f"incoming/{PARTNER}/full/big.csv", csv_bytes(rows), notify=False)


VOLATILE = {"finished_at", "lease_until"}


def snapshot(register: MemoryRegister) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    items = [{k: v for k, v in i.items() if k not in VOLATILE} for i in register.items()]
    items.sort(key=lambda i: (i["pk"], i["sk"]))
    report = {k: v for k, v in register.report(PARTNER).items() if k not in VOLATILE}
    return items, report


def test_an_ingest_that_runs_out_of_time_resumes_and_ends_identical(small_batches):
    # given the result of an uninterrupted run of the delivery
    expected = MemoryRegister()
    event = big_delivery(expected)
    expected.process(event)
    assert not expected.queue.messages, "an uninterrupted run queues nothing"
    expected_items, expected_report = snapshot(expected)
    assert expected_report["rows_total"] == 150

    # when the same delivery runs against an empty register, running low on time repeatedly
    interrupted = MemoryRegister()
    assert big_delivery(interrupted) == event
    clock = TimeRunsLow(every=2)
    interrupted.process(event, clock)
    follow_ups = interrupted.drain(clock)

    # then it handed over several times and the stored items and report are identical
    assert follow_ups >= 2
    assert snapshot(interrupted) == (expected_items, expected_report)


def test_an_ingest_killed_mid_file_is_retried_from_its_checkpoint_without_doubling(small_batches):
    # given the result of an uninterrupted run
    expected = MemoryRegister()
    event = big_delivery(expected)
    expected.process(event)

    # when the run is killed after a few batches and SQS delivers the message again
    killed = MemoryRegister()
    big_delivery(killed)
    dies = DiesOnce(at=5)
    with pytest.raises(Interrupted):
        killed.process(event, dies)
    assert 0 < len(killed.items("policy")) < 148
    killed.process(event, dies)

    # then the end result is the same: nothing lost, nothing counted twice
    assert snapshot(killed) == snapshot(expected)


def test_a_held_delivery_confirmed_while_time_runs_low_ends_every_missing_policy_once(
    register, small_batches
):
    # given 150 policies and a full delivery with 50 of them: held
    deliver(register, "m1.csv", csv_bytes(portfolio(150)))
    held = deliver(register, "m2.csv", csv_bytes(portfolio(50)))
    assert held["status"] == "held_for_review"

    # when an administrator confirms it and the ending runs out of time repeatedly
    register.service().release_held(held["delivery_id"], confirmed_by="admin-user")
    register.drain(TimeRunsLow(every=2))

    # then all 100 are ended exactly once
    final = register.report(PARTNER)
    assert (final["status"], final["policies_ended"]) == ("accepted", 100)
    statuses = [p["status"] for p in register.items("policy")]
    assert statuses.count("removed_from_portfolio") == 100


def test_a_policy_the_store_refuses_becomes_row_errors_and_the_rest_is_stored(register):
    # given a store that refuses every item of policy V2 (as DynamoDB refuses an oversized key)
    register.portfolio.refuses = lambda item: item.get("policy_number") == "V2"
    rows = [person("V1"), person("V2", HUISNR="2"), person("V3", HUISNR="3")]

    # when the file is delivered
    result = deliver(register, "refused.csv", csv_bytes(rows))

    # then V2's row is reported, nothing of it is stored, and the others are
    assert result["status"] == "accepted_with_errors"
    assert result["error_counts"] == {"storage_refused": 1}
    assert (result["errors"][0]["line"], result["rows_accepted"]) == (3, 2)
    assert register.policy("V2", PARTNER) is None
    assert not [i for i in register.items() if i.get("policy_number") == "V2"]
