"""The "sending"/"sent" marker of each e-mail the mail worker sends, per queue message (its
idempotency id): activation e-mails and delivery notices (chalicelib/services/sending.py)."""

from __future__ import annotations

from typing import Literal, Protocol

from chalicelib.errors import ConditionFailed
from chalicelib.store import keys
from chalicelib.store.table import Table

Claim = Literal["claimed", "sent", "busy"]


class MarkerStore(Protocol):
    def claim(
        self, idempotency_id: str, *, about: str, now: int, lease_until: int, expires_at: int
    ) -> Claim: ...
    def release(self, idempotency_id: str) -> None: ...
    def mark_sent(self, idempotency_id: str, *, at: str, ses_message_id: str) -> None: ...


class DynamoMarkers:
    def __init__(self, table: Table | None = None) -> None:
        self.table = table or Table()

    def claim(
        self, idempotency_id: str, *, about: str, now: int, lease_until: int, expires_at: int
    ) -> Claim:
        """ "claimed": this delivery may send (no marker, or a "sending" one whose lease has
        lapsed); "sent": the e-mail went out before; "busy": another delivery is sending."""
        marker_pk = keys.sent_marker_pk(idempotency_id)
        try:
            self.table.put(
                {
                    "pk": marker_pk,
                    "sk": keys.SENT_SK,
                    "type": "sent_mail",
                    "about": about,  # the mandate or delivery the e-mail is about
                    "status": "sending",
                    "lease_until": lease_until,
                    "expires_at": expires_at,
                },
                condition=(
                    "attribute_not_exists(pk) OR (#status = :sending AND lease_until < :now)"
                ),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":sending": "sending", ":now": now},
            )
            return "claimed"
        except ConditionFailed:
            marker = self.table.get(marker_pk, keys.SENT_SK, consistent=True)
        return "sent" if marker is not None and marker.get("status") == "sent" else "busy"

    def release(self, idempotency_id: str) -> None:
        self.table.delete(keys.sent_marker_pk(idempotency_id), keys.SENT_SK)

    def mark_sent(self, idempotency_id: str, *, at: str, ses_message_id: str) -> None:
        self.table.update(
            keys.sent_marker_pk(idempotency_id),
            keys.SENT_SK,
            UpdateExpression="SET #status = :sent, sent_at = :at, ses_message_id = :id",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":sent": "sent", ":at": at, ":id": ses_message_id},
        )
