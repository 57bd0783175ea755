"""Delivery notices to partners: when one is due (rules/notices.py), what the e-mail says (no
delivered value), how the ingest queues it, and how the mail worker sends it once (on
in-memory stores; tests/integration/test_quality.py runs it on moto, SQS and SES)."""

from __future__ import annotations

import json

import pytest

from chalicelib.config import reset_settings
from chalicelib.models.delivery import DeliveryNoticeMessage, DeliveryReport, notice
from chalicelib.rules.notices import needs_notice, notice_id, render_notice
from chalicelib.services.notices import DeliveryNotFinished, deliver_notice
from tests.support.ingest import csv_bytes, person, portfolio
from tests.support.memory import FakeMailer, MemoryMarkers, MemoryRegister

pytestmark = pytest.mark.unit

PARTNER = "demo-volmacht"
CONTACT = "data@volmacht.example"


@pytest.mark.parametrize(
    ("kind", "status", "rejected", "due"),
    [
        ("full", "rejected", 0, True),
        ("full", "held_for_review", 0, True),
        ("mutation", "accepted_with_errors", 6, True),  # 6% > 5%
        ("mutation", "accepted_with_errors", 5, False),  # 5% is not above 5%
        ("full", "accepted", 0, False),
        ("check", "rejected", 0, False),
    ],
)
def test_a_notice_is_due_when_rejected_held_or_too_many_rows_are_rejected(
    kind, status, rejected, due
):
    assert needs_notice(kind, status, 100, rejected, 5.0) is due


def test_a_full_delivery_that_ends_nothing_for_an_unreadable_line_is_due_however_few():
    # given a full delivery with 1 unreadable line of 100 (under the 5% threshold)
    # then a notice is due: it ended none of the policies it left out, and may again next month
    assert needs_notice("full", "accepted_with_errors", 100, 1, 5.0, unknown_policy_rows=1)
    # and not for a mutation (it ends nothing by leaving out) nor for a check
    assert not needs_notice("mutation", "accepted_with_errors", 100, 1, 5.0, unknown_policy_rows=1)
    assert not needs_notice("check", "accepted_with_errors", 100, 1, 5.0, unknown_policy_rows=1)


def test_the_email_of_a_full_delivery_with_unreadable_lines_says_nothing_was_ended():
    # given the report of such a delivery
    unreadable = report(
        status="accepted_with_errors",
        rows_total=100,
        rows_accepted=99,
        rows_rejected=1,
        error_counts={"too_many_fields": 1},
        errors=[],
    )

    # when its e-mail is written, with why it ended nothing
    _, text = render_notice(unreadable, notice("unreadable_not_reconciled", count=1))

    # then it says, in both languages, that no policy was ended and why
    assert "Geen polissen beëindigd: 1 regel(s) van het bestand konden niet gelezen" in text
    assert "No policies ended: 1 line(s) of the file could not be read" in text


def report(**overrides: object) -> DeliveryReport:
    fields: dict[str, object] = {
        "delivery_id": "d" * 32,
        "partner_id": PARTNER,
        "object_key": f"incoming/{PARTNER}/full/Jansen-export.csv",
        "kind": "full",
        "received_at": "2026-11-30T06:00:00+00:00",
        "status": "rejected",
        "rows_total": 3,
        "rows_rejected": 3,
        "error_counts": {"invalid_phone": 2, "required": 1},
        "errors": [
            {
                "line": 2,
                "column": "ANAAM",
                "code": "required",
                "message": "Verplicht veld ANAAM is leeg.",
                "message_en": "Required field ANAAM is empty.",
            }
        ],
    }
    fields.update(overrides)
    return DeliveryReport.model_validate(fields)


def test_the_email_says_what_happened_the_counts_top_errors_and_where_the_report_is():
    subject, text = render_notice(report())
    assert "afgekeurd" in subject
    assert "rejected" in subject
    assert "Regels gelezen: 3; verwerkt: 0; afgekeurd: 3." in text
    assert "Rows read: 3; accepted: 0; rejected: 3." in text
    assert "- invalid_phone (2x): Phone number in … is invalid." in text
    assert "- invalid_phone (2x): Telefoonnummer in … is ongeldig." in text
    assert f"reports/{PARTNER}/{'d' * 32}.csv" in text
    assert f"GET /v1/deliveries/{'d' * 32}" in text


def test_the_email_holds_no_file_name_and_no_message_of_a_row():
    subject, text = render_notice(report())
    assert "Jansen" not in subject + text
    assert "ANAAM" not in text  # a row's message names its column; the e-mail does not


def test_the_email_says_the_report_lists_the_first_rows_and_the_csv_holds_every_one():
    _, complete = render_notice(report())
    _, capped = render_notice(report(rows_rejected=300, errors_truncated=True))
    assert "The report:" in complete
    assert "The report (every count; the first 1 rejected rows):" in capped
    assert "de eerste 1 afgekeurde regels" in capped
    for text in (complete, capped):
        rows = text.index("Every rejected row, as a spreadsheet (CSV):")
        assert text.index(f"GET /v1/deliveries/{'d' * 32}/rejected-rows", rows) > rows
        assert text.index(f"reports/{PARTNER}/{'d' * 32}.csv", rows) > rows
        assert "Elke afgekeurde regel, als spreadsheet (CSV):" in text


def test_the_email_of_a_delivery_without_errors_points_to_no_rejected_rows():
    _, text = render_notice(report(status="held_for_review", errors=[], error_counts={}))
    assert "rejected-rows" not in text
    assert ".csv" not in text


def test_a_held_delivery_email_says_how_many_policies_wait_for_confirmation():
    _, text = render_notice(report(status="held_for_review", policies_pending_removal=40))
    assert "40 active policies are missing from this full delivery" in text


@pytest.fixture
def contacts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTNER_CONTACTS", f"{PARTNER}={CONTACT}")
    reset_settings()


def queued(register: MemoryRegister) -> list[dict[str, object]]:
    return [json.loads(body) for body in register.mail_queue.messages]


def test_a_rejected_and_a_held_delivery_each_queue_one_notice(contacts):
    register = MemoryRegister()
    register.upload(f"incoming/{PARTNER}/full/m1.csv", csv_bytes(portfolio(10)))
    register.upload(f"incoming/{PARTNER}/full/bad.csv", csv_bytes([person("X", PCODE="1")]))
    register.upload(f"incoming/{PARTNER}/full/half.csv", csv_bytes(portfolio(2)))
    register.upload(f"incoming/{PARTNER}/check/bad.csv", csv_bytes([person("X", PCODE="1")]))
    register.drain()

    reports = register.reports(PARTNER)
    assert [r["status"] for r in reports] == [
        "accepted",
        "rejected",
        "held_for_review",
        "rejected",
    ]
    assert queued(register) == [
        {
            "kind": "delivery_notice",
            "delivery_id": r["delivery_id"],
            "status": r["status"],
            "idempotency_id": notice_id(r["delivery_id"], r["status"]),
        }
        for r in reports[1:3]
    ]


def test_a_partner_without_a_contact_address_gets_no_notice_queued():
    register = MemoryRegister()
    register.upload(f"incoming/{PARTNER}/full/bad.csv", csv_bytes([person("X", PCODE="1")]))
    register.drain()
    assert register.report(PARTNER)["status"] == "rejected"
    assert queued(register) == []


def rejected_delivery(register: MemoryRegister) -> DeliveryNoticeMessage:
    register.upload(f"incoming/{PARTNER}/full/bad.csv", csv_bytes([person("X", PCODE="1")]))
    register.drain()
    return DeliveryNoticeMessage.model_validate(queued(register)[0])


def test_the_worker_sends_one_email_and_a_redelivered_message_sends_none(contacts):
    register = MemoryRegister()
    message = rejected_delivery(register)
    markers, mailer = MemoryMarkers(), FakeMailer()

    first = deliver_notice(message, deliveries=register.deliveries, markers=markers, mailer=mailer)
    again = deliver_notice(message, deliveries=register.deliveries, markers=markers, mailer=mailer)

    assert (first, again) == ("sent", "duplicate")
    assert [m["recipient"] for m in mailer.sent] == [CONTACT]


def test_a_failed_send_is_retried_and_then_sends_once(contacts):
    register = MemoryRegister()
    message = rejected_delivery(register)
    markers, mailer = MemoryMarkers(), FakeMailer(failures=1)
    with pytest.raises(Exception, match="unavailable"):
        deliver_notice(message, deliveries=register.deliveries, markers=markers, mailer=mailer)
    outcome = deliver_notice(
        message, deliveries=register.deliveries, markers=markers, mailer=mailer
    )
    assert outcome == "sent"
    assert len(mailer.sent) == 1


def test_a_notice_read_before_its_delivery_is_marked_finished_is_retried(contacts):
    register = MemoryRegister()
    message = rejected_delivery(register)
    record = register.deliveries.records[message.delivery_id]
    record.status, record.finished_at = "processing", None

    with pytest.raises(DeliveryNotFinished):
        deliver_notice(message, deliveries=register.deliveries, markers=MemoryMarkers())


def test_a_held_notice_read_after_the_delivery_was_confirmed_sends_nothing(contacts):
    register = MemoryRegister()
    register.upload(f"incoming/{PARTNER}/full/m1.csv", csv_bytes(portfolio(10)))
    register.upload(f"incoming/{PARTNER}/full/half.csv", csv_bytes(portfolio(2)))
    register.drain()
    held = DeliveryNoticeMessage.model_validate(queued(register)[0])
    register.service().release_held(held.delivery_id, confirmed_by="admin-user")
    register.drain()

    mailer = FakeMailer()
    outcome = deliver_notice(
        held, deliveries=register.deliveries, markers=MemoryMarkers(), mailer=mailer
    )
    assert (outcome, mailer.sent) == ("stale", [])


def test_the_final_notice_of_a_confirmed_delivery_read_while_it_runs_again_is_retried(contacts):
    # given a held full delivery with a rejected row, confirmed by an administrator: it runs
    # again, and its record still carries the finish time of the held run
    register = MemoryRegister()
    register.upload(f"incoming/{PARTNER}/full/m1.csv", csv_bytes(portfolio(10)))
    register.upload(
        f"incoming/{PARTNER}/full/half.csv",
        csv_bytes([*portfolio(2), person("X9", PCODE="1")]),
    )
    register.drain()
    held = DeliveryNoticeMessage.model_validate(queued(register)[0])
    register.service().release_held(held.delivery_id, confirmed_by="admin-user")
    final = DeliveryNoticeMessage(
        delivery_id=held.delivery_id,
        status="accepted_with_errors",
        idempotency_id=notice_id(held.delivery_id, "accepted_with_errors"),
    )

    # when the mail worker reads its final notice before the run is marked finished
    # then the notice is retried, not dropped as stale
    with pytest.raises(DeliveryNotFinished):
        deliver_notice(final, deliveries=register.deliveries, markers=MemoryMarkers())


def test_the_email_says_when_the_delivery_came_in_dutch_time_and_its_kind_in_words():
    # given a mutation delivery received at 15:26:10.692 UTC on 2 December (16:26 in Amsterdam)
    received = "2026-12-02T15:26:10.692000+00:00"

    # when its notice is rendered
    _, text = render_notice(report(kind="mutation", received_at=received))

    # then each language says the Dutch clock time, as people write it, and the kind in words
    assert "(mutaties, ontvangen 02-12-2026 16:26) is afgekeurd." in text
    assert "(mutations, received 2 Dec 2026 16:26, Amsterdam time) was rejected." in text
    assert "T15:26" not in text
