"""Scorecards from quality snapshots (chalicelib/rules/quality.py) and the snapshots the ingest
keeps of full deliveries (through the real ingest service on in-memory stores)."""

from __future__ import annotations

import pytest

from chalicelib.messages import describe
from chalicelib.models.quality import FieldCounts, QualityCounts, QualitySnapshot
from chalicelib.rules.quality import ranked, scorecard, top_errors
from tests.support.ingest import csv_bytes, portfolio
from tests.support.memory import MemoryRegister

pytestmark = pytest.mark.unit

PARTNER = "demo-volmacht"


def snapshot(
    day: str, email_filled: int, *, errors: dict[str, int] | None = None
) -> QualitySnapshot:
    counts = QualityCounts(
        rows=100,
        valid_rows=100,
        fields={"email": FieldCounts(applicable=100, filled=email_filled, valid=email_filled)},
        recognisable={"policy_number": 100, "email": email_filled},
    )
    return QualitySnapshot(
        delivery_id=f"d{day}",
        partner_id=PARTNER,
        received_at=f"2026-{day}T06:00:00+00:00",
        status="accepted",
        quality=counts,
        error_counts=errors or {},
        expires_at=1,
    )


def test_a_partner_without_a_full_delivery_has_an_empty_scorecard():
    card = scorecard(PARTNER, [])
    assert (card.delivery_id, card.score, card.fields, card.trend) == (None, None, [], [])


def test_the_scorecard_shows_the_latest_delivery_and_the_trend_oldest_first():
    # given three full deliveries, newest first, whose e-mail completeness rose
    history = [snapshot("11-01", 90), snapshot("10-01", 60), snapshot("09-01", 30)]

    card = scorecard(PARTNER, history)

    # then the fields are the latest delivery's, and the trend runs from old to new
    email = next(f for f in card.fields if f.field == "email")
    assert (card.delivery_id, email.completeness) == ("d11-01", 0.9)
    assert [p.delivery_id for p in card.trend] == ["d09-01", "d10-01", "d11-01"]
    assert [p.completeness for p in card.trend] == [0.3, 0.6, 0.9]
    share = {r.form: r.share for r in card.recognisable}
    assert (share["policy_number"], share["email"]) == (1.0, 0.9)


def test_top_errors_are_the_most_frequent_codes_with_their_meaning_in_both_languages():
    errors = top_errors({"invalid_phone": 3, "required": 9, "invalid_email": 3}, limit=2)
    assert [(e.code, e.rows) for e in errors] == [("required", 9), ("invalid_email", 3)]
    assert errors[0].message == "Verplicht veld … is leeg."
    assert errors[0].message_en == "Required field … is empty."


def test_describe_names_an_unknown_code_as_itself():
    assert describe("no_such_code", "en") == "no_such_code"


def test_partners_are_ranked_worst_first_and_those_without_a_delivery_first_of_all():
    good = scorecard("partner-good", [snapshot("11-01", 100)])
    bad = scorecard("partner-bad", [snapshot("11-01", 10)])
    none = scorecard("partner-none", [])
    assert [c.partner_id for c in ranked([good, bad, none])] == [
        "partner-none",
        "partner-bad",
        "partner-good",
    ]


def test_a_full_delivery_keeps_a_snapshot_and_a_check_or_mutation_does_not():
    register = MemoryRegister()
    register.upload(f"incoming/{PARTNER}/full/m1.csv", csv_bytes(portfolio(5)))
    register.upload(f"incoming/{PARTNER}/check/try.csv", csv_bytes(portfolio(5)))
    rows = [dict(r, PP_VRWRKCD="1") for r in portfolio(2)]
    register.upload(f"incoming/{PARTNER}/mutation/m2.csv", csv_bytes(rows))
    register.drain()

    history = list(register.quality.history(PARTNER, limit=10))
    assert [s.delivery_id for s in history] == [register.reports(PARTNER)[0]["delivery_id"]]
    assert history[0].quality.rows == 5


@pytest.mark.parametrize(
    "unreadable",
    [
        b"P1;092;20240101\nP2;092;20240101\n",  # without its header row: missing_columns
        b"PK\x03\x04\x00\x00\x08\x00" + bytes(range(256)),  # a spreadsheet: not_a_text_file
    ],
    ids=["headerless", "binary"],
)
def test_a_full_delivery_that_could_not_be_read_is_the_scorecards_latest_and_ranks_first(
    unreadable: bytes,
):
    # given two partners with a good full delivery each
    register = MemoryRegister()
    register.upload(f"incoming/{PARTNER}/full/november.csv", csv_bytes(portfolio(5)))
    other = "demo-verzekeraar"
    register.upload(f"incoming/{other}/full/november.csv", csv_bytes(portfolio(5)))
    register.drain()

    # when the first partner's next full delivery cannot be read at all
    register.upload(f"incoming/{PARTNER}/full/december.csv", unreadable)
    register.drain()
    latest = register.report(PARTNER)
    assert latest["status"] == "rejected"

    # then its scorecard names that delivery, rejected and without a score
    card = scorecard(PARTNER, list(register.quality.history(PARTNER, limit=10)))
    assert (card.delivery_id, card.status, card.score) == (latest["delivery_id"], "rejected", None)
    assert [point.status for point in card.trend] == ["accepted", "rejected"]
    # and the ranking puts that partner, whose data stopped arriving, first
    cards = [
        scorecard(partner, list(register.quality.history(partner, limit=1)))
        for partner in (other, PARTNER)
    ]
    assert [c.partner_id for c in ranked(cards)] == [PARTNER, other]


def test_a_held_delivery_confirmed_later_replaces_its_snapshot_with_the_final_status():
    register = MemoryRegister()
    register.upload(f"incoming/{PARTNER}/full/m1.csv", csv_bytes(portfolio(10)))
    register.upload(f"incoming/{PARTNER}/full/m2.csv", csv_bytes(portfolio(2)))
    register.drain()
    held = register.report(PARTNER)
    assert held["status"] == "held_for_review"

    register.service().release_held(held["delivery_id"], confirmed_by="admin-user")
    register.drain()

    statuses = [s.status for s in register.quality.history(PARTNER, limit=10)]
    assert statuses == ["accepted", "accepted"]
