"""Send an e-mail at most once per queue message (its idempotency id), barring one narrow
window: the pattern the activation e-mails introduced, shared by every e-mail the mail worker
sends (docs/architecture.md, "Mandates", worker idempotency).

1. A "sending" marker keyed by the idempotency id is claimed with a conditional put, with a
   lease of `SEND_LEASE_SECONDS`. A marker already `sent` means a redelivery: nothing is sent
   again. A marker still leased means another delivery of the message is sending right now:
   `SendInProgress`, so the message is retried later.
2. SES sends. If it fails, the claim is released and the error raised: SQS retries the message
   and after `maxReceiveCount` moves it to the DLQ.
3. The marker is set to `sent`.

A crash between 2 and 3 leaves a claim whose lease runs out; the retry sends again: the same
e-mail twice, never a lost one (marking before sending would lose it instead).
"""

from __future__ import annotations

from typing import Literal, Protocol

from chalicelib.clock import epoch
from chalicelib.clock import now as clock_now
from chalicelib.config import get_settings
from chalicelib.store.activation import DynamoMarkers, MarkerStore
from chalicelib.store.mail import Mailer

SEND_LEASE_SECONDS = 120

Sent = Literal["sent", "duplicate"]


class SendInProgress(Exception):
    """Another delivery of the same message holds the sending lease."""


class Sender(Protocol):
    def send(self, *, sender: str, recipient: str, subject: str, text: str) -> str: ...


def send_once(
    idempotency_id: str,
    *,
    about: str,
    expires_at: int,
    recipient: str,
    subject: str,
    text: str,
    markers: MarkerStore | None = None,
    mailer: Sender | None = None,
) -> Sent:
    """Send the e-mail unless the message `idempotency_id` sent it already. `about` names what
    it is about (a mandate or delivery id) in the marker, which expires at `expires_at`."""
    markers = markers or DynamoMarkers()
    now = int(epoch())
    claim = markers.claim(
        idempotency_id,
        about=about,
        now=now,
        lease_until=now + SEND_LEASE_SECONDS,
        expires_at=expires_at,
    )
    if claim == "busy":
        raise SendInProgress(about)
    if claim == "sent":
        return "duplicate"
    try:
        ses_id = (mailer or Mailer()).send(
            sender=get_settings().ses_sender, recipient=recipient, subject=subject, text=text
        )
    except Exception:
        markers.release(idempotency_id)  # the retry may send
        raise
    markers.mark_sent(
        idempotency_id, at=clock_now().strftime("%Y-%m-%dT%H:%M:%SZ"), ses_message_id=ses_id
    )
    return "sent"
