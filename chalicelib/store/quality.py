"""Quality snapshots in the table: one small item per full delivery (field and error counts,
never a delivered value), so a scorecard is one query of a partner's partition instead of a
read of every delivery record with its listed errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from chalicelib.models.quality import QualityCounts, QualitySnapshot
from chalicelib.store import keys
from chalicelib.store.deliveries import plain_numbers
from chalicelib.store.table import Item, Table

# A partner delivering its full portfolio daily has about 730 snapshots in 24 months; the trend
# shows the newest of them.
MAX_TREND_POINTS = 400


class QualityStore(Protocol):
    def save(self, snapshot: QualitySnapshot) -> None: ...
    def history(self, partner_id: str, *, limit: int) -> Iterator[QualitySnapshot]: ...


def to_item(snapshot: QualitySnapshot) -> Item:
    return {
        "pk": keys.quality_pk(snapshot.partner_id),
        "sk": keys.quality_sk(snapshot.received_at, snapshot.delivery_id),
        "type": "quality",
        **snapshot.model_dump(),
    }


def from_item(item: Item) -> QualitySnapshot:
    fields = plain_numbers({k: v for k, v in item.items() if k not in ("pk", "sk", "type")})
    fields["quality"] = QualityCounts.model_validate(fields.get("quality") or {})
    return QualitySnapshot.model_validate(fields)


class DynamoQuality:
    def __init__(self, table: Table | None = None) -> None:
        self.table = table or Table()

    def save(self, snapshot: QualitySnapshot) -> None:
        """Put (or replace: a held delivery finishes again once confirmed)."""
        self.table.put(to_item(snapshot))

    def history(self, partner_id: str, *, limit: int) -> Iterator[QualitySnapshot]:
        """Newest first; expired ones are left out by the table."""
        items = self.table.query(keys.quality_pk(partner_id), forward=False, limit=limit)
        return (from_item(item) for item in items)
