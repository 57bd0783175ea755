"""Delivery notices: the e-mail that tells a partner its delivery was rejected, held for review
or accepted with too many errors (what the mail worker does with a `delivery_notice` message).

The ingest queues the message before it marks the delivery finished, so no crash can lose it;
a message read before the delivery is marked finished is retried. The e-mail is sent at most
once per delivery and status (`chalicelib/services/sending.py`)."""

from __future__ import annotations

from typing import Literal

from chalicelib.clock import epoch
from chalicelib.config import get_settings
from chalicelib.models.delivery import DeliveryNoticeMessage
from chalicelib.observability import logger
from chalicelib.rules import ingest as rules
from chalicelib.rules.notices import render_notice
from chalicelib.services.ingest import build_report
from chalicelib.services.sending import Sender, send_once
from chalicelib.store.activation import MarkerStore
from chalicelib.store.deliveries import DeliveryStore, DynamoDeliveries

# A marker only has to outlive the redeliveries of its message (the queue keeps one 4 days).
MARKER_SECONDS = 14 * 24 * 3600

NoticeOutcome = Literal["sent", "duplicate", "stale", "no_contact"]


class DeliveryNotFinished(Exception):
    """The delivery is not marked finished yet: the message is retried later."""


def deliver_notice(
    message: DeliveryNoticeMessage,
    *,
    deliveries: DeliveryStore | None = None,
    markers: MarkerStore | None = None,
    mailer: Sender | None = None,
) -> NoticeOutcome:
    record = (deliveries or DynamoDeliveries()).get(message.delivery_id, consistent=True)
    if record is None:
        logger.info("notice of an unknown delivery skipped")
        return "stale"
    if record.status != message.status:
        # A confirmed held delivery runs again with the finish time of its held run still set,
        # so "processing" alone says it is not finished.
        if record.status == "processing" or record.finished_at is None:
            raise DeliveryNotFinished(message.delivery_id)
        # Finished with another status since (a held delivery that was confirmed): this
        # notice is no longer true, and the new status has its own.
        logger.info("stale delivery notice skipped", extra={"delivery_id": record.delivery_id})
        return "stale"
    contact = get_settings().partner_contacts.get(record.partner_id)
    if contact is None:
        logger.warning(
            "no contact address for the partner; notice not sent",
            extra={"partner_id": record.partner_id, "delivery_id": record.delivery_id},
        )
        return "no_contact"
    subject, text = render_notice(
        build_report(record), rules.unreconciled_warning(record.kind, record.progress)
    )
    outcome = send_once(
        message.idempotency_id,
        about=record.delivery_id,
        expires_at=int(epoch()) + MARKER_SECONDS,
        recipient=contact,
        subject=subject,
        text=text,
        markers=markers,
        mailer=mailer,
    )
    logger.info(
        "delivery notice sent" if outcome == "sent" else "delivery notice already sent",
        extra={"delivery_id": record.delivery_id, "status": record.status},
    )
    return outcome
