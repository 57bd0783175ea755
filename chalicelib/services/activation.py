"""The activation e-mail: what the `send_activation` worker does with each queue message.

Exactly-once is not available from SQS + SES, so the worker is at-least-once with a narrow
duplicate window, and every duplicate is harmless:

1. The message is checked against the mandate: it must still be `approved` and the message's
   token must be the mandate's current one (a resend supersedes earlier tokens, so an older
   message still in the queue sends nothing), and not expired. Otherwise it is acknowledged
   without sending.
2. It is sent at most once per idempotency id (`chalicelib/services/sending.py`: a "sending"
   marker claimed with a lease, SES, then "sent"; a failed send is released and retried). A crash
   between SES and the "sent" mark sends the same link twice after the lease, never a lost
   e-mail, and the link stays single-use.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import quote

from chalicelib.clock import epoch, register_time_text, register_today
from chalicelib.config import get_settings
from chalicelib.models.mandates import ActivationMessage, Language, is_person_name
from chalicelib.observability import logger
from chalicelib.rules.mandates import hash_token, stored_state
from chalicelib.services.sending import SEND_LEASE_SECONDS, Sender, SendInProgress, send_once
from chalicelib.store.activation import MarkerStore
from chalicelib.store.mandates import DynamoMandates, MandateStore

__all__ = ["SEND_LEASE_SECONDS", "SendInProgress", "deliver_activation", "render_email"]

MARKER_GRACE_SECONDS = 24 * 3600

Outcome = Literal["sent", "duplicate", "stale"]


def activation_link(token: str) -> str:
    return f"{get_settings().portal_base_url.rstrip('/')}/activate?token={quote(token, safe='')}"


SUBJECTS: dict[str, str] = {
    "nl": "Activeer uw toegang tot het klantportaal",
    "en": "Activate your access to the client portal",
}
_BODIES: dict[str, str] = {
    "nl": (
        "Beste {name},\n\n"
        "U bent gemachtigd om polissen in te zien in het klantportaal. "
        "Activeer uw toegang met deze link:\n\n{link}\n\n"
        "De link werkt één keer en verloopt op {expires}. Heeft u hier niet om gevraagd? "
        "Dan kunt u deze e-mail negeren.\n"
    ),
    "en": (
        "Dear {name},\n\n"
        "You have been authorised to view policies in the client portal. "
        "Activate your access with this link:\n\n{link}\n\n"
        "The link works once and expires on {expires} (Amsterdam time). Did you not ask for this? "
        "Then you can ignore this e-mail.\n"
    ),
}


_NO_NAME: dict[str, str] = {"nl": "heer/mevrouw", "en": "Sir or Madam"}


def render_email(language: Language, name: str, link: str, expires: datetime) -> tuple[str, str]:
    """Subject and plain-text body of the activation e-mail; greeting `name` only when it is a
    person's name (a mandate stored before names were checked may hold lines and links)."""
    greeting = name if is_person_name(name) else _NO_NAME[language]
    body = _BODIES[language].format(
        name=greeting, link=link, expires=register_time_text(language, expires)
    )
    return SUBJECTS[language], body


def _recipient(mandate: Mapping[str, Any]) -> tuple[str, str]:
    grantee = json.loads(mandate["request"])["grantee"]
    return grantee["email"], grantee.get("first_name") or grantee.get("surname") or ""


def deliver_activation(
    message: ActivationMessage,
    *,
    mandates: MandateStore | None = None,
    markers: MarkerStore | None = None,
    mailer: Sender | None = None,
) -> Outcome:
    """Send the activation e-mail of one message (at most once per idempotency id, barring the
    crash window described above). Raises when sending failed and should be retried."""
    mandates = mandates or DynamoMandates()
    token_hash = hash_token(message.token)
    mandate = mandates.get(message.mandate_id)
    token = mandates.get_token(token_hash)
    if (
        mandate is None
        or token is None
        or mandate.get("token_hash") != token_hash
        or stored_state(mandate, register_today()) != "approved"
        or epoch() >= float(token["token_expires_at"])
    ):
        logger.info("stale activation message skipped", extra={"mandate_id": message.mandate_id})
        return "stale"
    token_expiry = int(token["token_expires_at"])
    recipient, name = _recipient(mandate)
    subject, text = render_email(
        message.language,
        name,
        activation_link(message.token),
        datetime.fromtimestamp(token_expiry, UTC),
    )
    outcome = send_once(
        message.idempotency_id,
        about=message.mandate_id,
        expires_at=token_expiry + MARKER_GRACE_SECONDS,
        recipient=recipient,
        subject=subject,
        text=text,
        markers=markers,
        mailer=mailer,
    )
    logger.info(
        "activation e-mail sent" if outcome == "sent" else "activation e-mail already sent",
        extra={"mandate_id": message.mandate_id},
    )
    return outcome
