"""Delivery records in the table: the life cycle of one upload (claim, lease, checkpoint, hand
over, finish, hold, confirm). Every step that two invocations could race is a conditional
write, so at most one invocation works on a delivery at a time."""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, Protocol

from boto3.dynamodb.conditions import Attr, ConditionBase

from chalicelib.errors import ConditionFailed
from chalicelib.models.delivery import DeliveryRecord, Progress
from chalicelib.store import keys
from chalicelib.store.table import Item, Table


class DeliveryStore(Protocol):
    """What the ingest and the delivery API need of the delivery records."""

    def claim(self, record: DeliveryRecord, *, now: int) -> DeliveryRecord | None: ...
    def get(self, delivery_id: str, *, consistent: bool = False) -> DeliveryRecord | None: ...
    def take_lease(
        self, delivery_id: str, *, lease_until: int, now: int
    ) -> DeliveryRecord | None: ...
    def release_lease(self, delivery_id: str) -> None: ...
    def checkpoint(self, delivery_id: str, progress: Progress) -> None: ...
    def hand_over(self, delivery_id: str, progress: Progress) -> None: ...
    def finish(
        self, delivery_id: str, *, status: str, progress: Progress, finished_at: str
    ) -> None: ...
    def confirm(
        self, delivery_id: str, *, progress: Progress, by: str, at: str
    ) -> DeliveryRecord: ...
    def hold_again(self, delivery_id: str) -> None: ...
    def recent(
        self, partner_id: str, *, limit: int, before: tuple[str, str] | None = None
    ) -> Iterator[DeliveryRecord]: ...


def plain_numbers(value: Any) -> Any:
    """DynamoDB hands numbers back as Decimal; the record wants ints."""
    if isinstance(value, dict):
        return {k: plain_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_numbers(v) for v in value]
    if isinstance(value, Decimal):
        return int(value)
    return value


def to_item(record: DeliveryRecord) -> Item:
    item: Item = {
        "pk": keys.delivery_pk(record.delivery_id),
        "sk": keys.DELIVERY_SK,
        "type": "delivery",
        "delivery_id": record.delivery_id,
        "partner_id": record.partner_id,
        "kind": record.kind,
        "bucket": record.bucket,
        "object_key": record.object_key,
        "received_at": record.received_at,
        "seq": record.seq,
        "status": record.status,
        "progress": record.progress.stored(),
        "expires_at": record.expires_at,
        "gsi2pk": keys.deliveries_gsi2pk(record.partner_id),
        "gsi2sk": keys.delivery_listing_sk(record.received_at, record.delivery_id),
        "gsi1pk": keys.delivery_gsi1pk(record.status),
        "gsi1sk": keys.delivery_listing_sk(record.received_at, record.delivery_id),
    }
    optional = {
        "lease_until": record.lease_until,
        "finished_at": record.finished_at,
        "confirmed_by": record.confirmed_by,
        "confirmed_at": record.confirmed_at,
        "version_id": record.version_id,
        "etag": record.etag,
    }
    item.update({name: value for name, value in optional.items() if value is not None})
    return item


def from_item(item: Item) -> DeliveryRecord:
    lease = item.get("lease_until")
    return DeliveryRecord(
        delivery_id=item["delivery_id"],
        partner_id=item["partner_id"],
        kind=item["kind"],
        bucket=item.get("bucket", ""),
        object_key=item["object_key"],
        received_at=item["received_at"],
        seq=item["seq"],
        expires_at=int(item["expires_at"]),
        status=item.get("status", "processing"),
        progress=Progress.from_stored(plain_numbers(item.get("progress") or {})),
        lease_until=None if lease is None else int(lease),
        finished_at=item.get("finished_at"),
        confirmed_by=item.get("confirmed_by"),
        confirmed_at=item.get("confirmed_at"),
        version_id=item.get("version_id"),
        etag=item.get("etag"),
    )


def _newest_first(record: DeliveryRecord) -> tuple[str, str]:
    return (record.received_at, record.delivery_id)


class DynamoDeliveries:
    """Delivery records in the single table (docs/architecture.md, "Delivery records")."""

    def __init__(self, table: Table | None = None) -> None:
        self.table = table or Table()

    def claim(self, record: DeliveryRecord, *, now: int) -> DeliveryRecord | None:
        """Create the record, or take over one whose worker died; None: a duplicate event of a
        delivery that is finished or being processed elsewhere."""
        try:
            self.table.put(to_item(record), condition="attribute_not_exists(pk)")
            return record
        except ConditionFailed:
            existing = self.get(record.delivery_id, consistent=True)
        if existing is None or existing.status != "processing":
            return None
        assert record.lease_until is not None
        return self.take_lease(record.delivery_id, lease_until=record.lease_until, now=now)

    def get(self, delivery_id: str, *, consistent: bool = False) -> DeliveryRecord | None:
        item = self.table.get(
            keys.delivery_pk(delivery_id), keys.DELIVERY_SK, consistent=consistent
        )
        return None if item is None else from_item(item)

    def take_lease(self, delivery_id: str, *, lease_until: int, now: int) -> DeliveryRecord | None:
        """The lease of a processing delivery whose previous lease has lapsed; None if another
        invocation holds it (or the delivery is no longer processing)."""
        try:
            return from_item(
                self._update(
                    delivery_id,
                    UpdateExpression="SET lease_until = :lease",
                    ConditionExpression="#status = :processing AND lease_until < :now",
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues={
                        ":lease": lease_until,
                        ":processing": "processing",
                        ":now": now,
                    },
                )
            )
        except ConditionFailed:
            return None

    def release_lease(self, delivery_id: str) -> None:
        """Let a retry take over at once instead of waiting for the lease to lapse."""
        try:
            self._update(
                delivery_id,
                UpdateExpression="SET lease_until = :zero",
                ConditionExpression="#status = :processing",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":zero": 0, ":processing": "processing"},
            )
        except ConditionFailed:
            return

    def checkpoint(self, delivery_id: str, progress: Progress) -> None:
        self._update(
            delivery_id,
            UpdateExpression="SET progress = :progress",
            ExpressionAttributeValues={":progress": progress.stored()},
        )

    def hand_over(self, delivery_id: str, progress: Progress) -> None:
        """Save where the delivery stands and release the lease for the follow-up."""
        self._update(
            delivery_id,
            UpdateExpression="SET progress = :progress, lease_until = :zero",
            ExpressionAttributeValues={":progress": progress.stored(), ":zero": 0},
        )

    def finish(
        self, delivery_id: str, *, status: str, progress: Progress, finished_at: str
    ) -> None:
        self._update(
            delivery_id,
            UpdateExpression=(
                "SET #status = :status, progress = :progress, finished_at = :finished, "
                "gsi1pk = :listing REMOVE lease_until"
            ),
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":status": status,
                ":progress": progress.stored(),
                ":finished": finished_at,
                ":listing": keys.delivery_gsi1pk(status),
            },
        )

    def confirm(self, delivery_id: str, *, progress: Progress, by: str, at: str) -> DeliveryRecord:
        """A held delivery goes back to processing with its lease free; `ConditionFailed` when
        it is not held (any more)."""
        return from_item(
            self._update(
                delivery_id,
                UpdateExpression="SET #status = :processing, progress = :progress, "
                "lease_until = :zero, confirmed_by = :by, confirmed_at = :at, gsi1pk = :listing",
                ConditionExpression="#status = :held",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":listing": keys.delivery_gsi1pk("processing"),
                    ":processing": "processing",
                    ":progress": progress.stored(),
                    ":zero": 0,
                    ":held": "held_for_review",
                    ":by": by,
                    ":at": at,
                },
            )
        )

    def hold_again(self, delivery_id: str) -> None:
        """Undo a confirm whose follow-up could not be queued."""
        self._update(
            delivery_id,
            UpdateExpression="SET #status = :held, gsi1pk = :listing",
            ConditionExpression="#status = :processing",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":held": "held_for_review",
                ":processing": "processing",
                ":listing": keys.delivery_gsi1pk("held_for_review"),
            },
        )

    def recent(
        self, partner_id: str, *, limit: int, before: tuple[str, str] | None = None
    ) -> Iterator[DeliveryRecord]:
        """The partner's deliveries, newest first (one index query, read as far as it is
        followed); `before` (receive time, delivery id): only those received before it."""
        return self._newest(keys.deliveries_gsi2pk(partner_id), "gsi2", limit, before)

    def every_partners(
        self, *, limit: int, before: tuple[str, str] | None = None
    ) -> Iterator[DeliveryRecord]:
        """Every partner's deliveries, newest first: the held ones and the others, one index
        query each, merged (whatever the number of partners)."""
        return heapq.merge(
            self._newest(keys.HELD_DELIVERY_GSI1PK, "gsi1", limit, before),
            self._newest(keys.EVERY_DELIVERY_GSI1PK, "gsi1", limit, before),
            key=_newest_first,
            reverse=True,
        )

    def held(
        self, partner_id: str | None, *, limit: int, before: tuple[str, str] | None = None
    ) -> Iterator[DeliveryRecord]:
        """The deliveries held for an administrator's confirm, newest first (one index query
        over the held ones only); with `partner_id`, that partner's."""
        only = None if partner_id is None else Attr("partner_id").eq(partner_id)
        return self._newest(keys.HELD_DELIVERY_GSI1PK, "gsi1", limit, before, only)

    def _newest(
        self,
        pk: str,
        index: str,
        limit: int,
        before: tuple[str, str] | None,
        only: ConditionBase | None = None,
    ) -> Iterator[DeliveryRecord]:
        items = self.table.query(
            pk,
            index=index,
            sk_before=None if before is None else keys.delivery_listing_sk(*before),
            forward=False,
            limit=limit,
            filter_condition=only,
        )
        return (from_item(item) for item in items)

    def index_older_records(self) -> int:
        """Give each delivery record stored before the every-partner listing existed its gsi1
        keys (a one-off Scan after that deploy: docs/deploy.md); how many it gave them. A
        status change since the deploy set its gsi1pk but not its gsi1sk (a record is in the
        index only with both): such a record is given them too."""
        given = 0
        for item in self.table.scan_kind(keys.delivery_pk(""), keys.DELIVERY_SK):
            if "gsi1sk" in item:
                continue
            try:
                self._update(
                    item["delivery_id"],
                    UpdateExpression="SET gsi1pk = :listing, gsi1sk = :sk",
                    ConditionExpression="attribute_not_exists(gsi1sk) AND #status = :status",
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues={
                        ":listing": keys.delivery_gsi1pk(item["status"]),
                        ":sk": keys.delivery_listing_sk(item["received_at"], item["delivery_id"]),
                        ":status": item["status"],
                    },
                )
                given += 1
            except ConditionFailed:
                continue
        return given

    def _update(self, delivery_id: str, **expression: Any) -> Item:
        return self.table.update(keys.delivery_pk(delivery_id), keys.DELIVERY_SK, **expression)
