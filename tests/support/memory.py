"""In-memory stand-ins for the stores, and a register that runs the real ingest on them.

The fakes keep the adapters' semantics that the ingest relies on (conditional claims and
leases, copies on every read and write so nothing changes without a write, the ACTIVE index as
"active and not seen by this delivery") and nothing else. tests/integration/test_store_contract.py
runs the same checks against these fakes and the DynamoDB adapters, so they cannot drift apart.
"""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO
from urllib.parse import quote_plus

from chalicelib.auth import Principal
from chalicelib.clock import epoch
from chalicelib.config import get_settings
from chalicelib.errors import ConditionFailed, NotFound, StoreError
from chalicelib.models.delivery import DeliveryRecord, Progress
from chalicelib.models.quality import QualitySnapshot
from chalicelib.rules.identity import Bucket
from chalicelib.rules.matching import is_current
from chalicelib.services.ingest import IngestService
from chalicelib.store.blobs import Prefix
from chalicelib.store.deliveries import to_item
from chalicelib.store.identity import (
    ClientIndex,
    Join,
    bucket_from_item,
    bucket_item,
    join_items,
    split_client_index,
)
from chalicelib.store.lanes import Entry, Turn, first_waiting, forgotten, may_take, turn_for
from chalicelib.store.register_items import stored_policy

Item = dict[str, Any]


class FakeClock:
    """A clock that moves only when told to: ordering and leases without sleeping."""

    def __init__(self, start: datetime | None = None) -> None:
        self.moment = start or datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


def stored(progress: Progress) -> Progress:
    """The progress as the table keeps it: its fields, not what lives only in memory."""
    return Progress.from_stored(progress.stored())


class MemoryDeliveries:
    def __init__(self) -> None:
        self.records: dict[str, DeliveryRecord] = {}

    def claim(self, record: DeliveryRecord, *, now: int) -> DeliveryRecord | None:
        existing = self.records.get(record.delivery_id)
        if existing is None:
            self.records[record.delivery_id] = copy.deepcopy(record)
            return copy.deepcopy(record)
        if existing.status != "processing":
            return None
        assert record.lease_until is not None
        return self.take_lease(record.delivery_id, lease_until=record.lease_until, now=now)

    def get(self, delivery_id: str, *, consistent: bool = False) -> DeliveryRecord | None:
        return copy.deepcopy(self.records.get(delivery_id))

    def take_lease(self, delivery_id: str, *, lease_until: int, now: int) -> DeliveryRecord | None:
        record = self.records.get(delivery_id)
        if record is None or record.status != "processing" or (record.lease_until or 0) >= now:
            return None
        record.lease_until = lease_until
        return copy.deepcopy(record)

    def release_lease(self, delivery_id: str) -> None:
        record = self.records.get(delivery_id)
        if record is not None and record.status == "processing":
            record.lease_until = 0

    def checkpoint(self, delivery_id: str, progress: Progress) -> None:
        self._existing(delivery_id).progress = stored(progress)

    def hand_over(self, delivery_id: str, progress: Progress) -> None:
        record = self._existing(delivery_id)
        record.progress = stored(progress)
        record.lease_until = 0

    def finish(
        self, delivery_id: str, *, status: str, progress: Progress, finished_at: str
    ) -> None:
        record = self._existing(delivery_id)
        record.status = status  # type: ignore[assignment]
        record.progress = stored(progress)
        record.finished_at = finished_at
        record.lease_until = None

    def confirm(self, delivery_id: str, *, progress: Progress, by: str, at: str) -> DeliveryRecord:
        record = self.records.get(delivery_id)
        if record is None or record.status != "held_for_review":
            raise ConditionFailed("update_item")
        record.status = "processing"
        record.progress = stored(progress)
        record.lease_until = 0
        record.confirmed_by, record.confirmed_at = by, at
        return copy.deepcopy(record)

    def hold_again(self, delivery_id: str) -> None:
        record = self.records.get(delivery_id)
        if record is None or record.status != "processing":
            raise ConditionFailed("update_item")
        record.status = "held_for_review"

    def recent(
        self, partner_id: str, *, limit: int, before: tuple[str, str] | None = None
    ) -> Iterator[DeliveryRecord]:
        mine = [
            r
            for r in self.records.values()
            if r.partner_id == partner_id
            and (before is None or (r.received_at, r.delivery_id) < before)
        ]
        mine.sort(key=lambda r: (r.received_at, r.delivery_id), reverse=True)
        return (copy.deepcopy(r) for r in mine[:limit])

    def _existing(self, delivery_id: str) -> DeliveryRecord:
        # An UpdateItem on a missing key creates an item; the ingest never does that.
        return self.records[delivery_id]


class MemoryPortfolio:
    """Every item the ingest writes (policies, parties, lookups), by key."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Item] = {}
        self.seen_parts: dict[tuple[str, int], tuple[list[str], list[str]]] = {}
        self.refuses: Callable[[Item], bool] = lambda item: False

    def _policy(self, partner_id: str, number: str) -> Item | None:
        for item in self.items.values():
            if (
                item["type"] == "policy"
                and item["partner_id"] == partner_id
                and item["policy_number"] == number
            ):
                return item
        return None

    def policies(
        self, partner_id: str, numbers: Sequence[str], *, consistent: bool = False
    ) -> dict[str, Item]:
        found = {}
        for number in dict.fromkeys(numbers):
            policy = self._policy(partner_id, number)
            if policy is not None:
                found[number] = stored_policy(copy.deepcopy(policy))
        return found

    def write_policies(self, policies: Sequence[Sequence[Item]]) -> list[bool]:
        """Every policy is stored, except one that `refuses` (as DynamoDB refuses an item
        beyond its limits): none of its items is stored."""
        stored = []
        for items in policies:
            if any(self.refuses(item) for item in items):
                stored.append(False)
                continue
            for item in items:
                self.items[(item["pk"], item["sk"])] = copy.deepcopy(item)
            stored.append(True)
        return stored

    def note_seen(
        self,
        delivery_id: str,
        part: int,
        unchanged: Sequence[str],
        *,
        refused: Sequence[str] = (),
        expires_at: int,
    ) -> None:
        if unchanged or refused:
            self.seen_parts[(delivery_id, part)] = (
                list(dict.fromkeys(unchanged)),
                list(dict.fromkeys(refused)),
            )

    def seen(self, delivery_id: str, *, refused: bool = True) -> Iterator[str]:
        for (owner, _), (unchanged, refused_numbers) in sorted(self.seen_parts.items()):
            if owner == delivery_id:
                yield from unchanged
                if refused:
                    yield from refused_numbers

    def seen_until(self, delivery_id: str, line: int) -> Iterator[str]:
        for (owner, part), (unchanged, refused) in sorted(self.seen_parts.items()):
            if owner == delivery_id and part <= line:
                yield from unchanged
                yield from refused

    def active_not_seen(self, partner_id: str, seq: str) -> Iterator[str]:
        numbers = sorted(
            item["policy_number"]
            for item in self.items.values()
            if item["type"] == "policy"
            and item["partner_id"] == partner_id
            and "gsi2pk" in item
            and str(stored_policy(item).get("seen_seq", "")) < seq
        )
        yield from numbers

    def current(self, client_id: str) -> list[tuple[Item, Item]]:
        """The client's current memberships (party item, policy item), as the dossier reads
        them from the client index: stale parties left out."""
        found = []
        for item in self.items.values():
            if item["type"] == "party" and item["client_id"] == client_id:
                policy = self._policy(item["partner_id"], item["policy_number"])
                if is_current(item, policy):
                    assert policy is not None
                    found.append((copy.deepcopy(item), copy.deepcopy(policy)))
        return found

    def end(self, policies: Iterable[Item], *, day: str, seq: str) -> None:
        for policy in policies:
            ended = copy.deepcopy(policy)
            ended.update(status="removed_from_portfolio", ended_on=day, status_seq=seq)
            ended.pop("gsi2pk", None)
            ended.pop("gsi2sk", None)
            self.items[(ended["pk"], ended["sk"])] = ended


class MemoryIdentities:
    """Identity buckets and joins as the DynamoDB adapter stores them (the same item builders),
    and the party items of a `MemoryPortfolio` for the policies stored before traces."""

    def __init__(self, portfolio: MemoryPortfolio) -> None:
        self.portfolio = portfolio
        self.items: dict[tuple[str, str], Item] = {}

    def buckets(self, bucket_keys: Sequence[str]) -> dict[str, Bucket]:
        found = {}
        for key in dict.fromkeys(bucket_keys):
            item = self._live_bucket(key)
            if item is not None:
                found[key] = bucket_from_item(key, copy.deepcopy(item))
        return found

    def _live_bucket(self, key: str) -> Item | None:
        """As DynamoDB reads it: an item past its expiry is none, deleted or not."""
        item = self.items.get((f"IDENTITY#{key}", "IDENTITY"))
        return item if item is not None and int(item["expires_at"]) > epoch() else None

    def parties_of(self, partner_id: str, numbers: Sequence[str]) -> dict[str, list[Item]]:
        found: dict[str, list[Item]] = {}
        for number in dict.fromkeys(numbers):
            policy = self.portfolio._policy(partner_id, number)
            found[number] = [
                copy.deepcopy(item)
                for item in self.portfolio.items.values()
                if item["type"] == "party"
                and (item["partner_id"], item["policy_number"]) == (partner_id, number)
                and is_current(item, policy)
            ]
        return found

    def save(self, buckets: Sequence[Bucket], joins: Sequence[Join]) -> bool:
        """Each bucket only over the version it was read at; the joins only when every bucket
        was written."""
        unchanged = [b for b in buckets if self._version(b.key) == b.version]
        for item in map(bucket_item, unchanged):
            self.items[(item["pk"], item["sk"])] = copy.deepcopy(item)
        if len(unchanged) < len(buckets):
            return False
        for item in (i for join in joins for i in join_items(join)):
            self.items[(item["pk"], item["sk"])] = copy.deepcopy(item)
        return True

    def _version(self, key: str) -> int:
        stored = self._live_bucket(key)
        return int(stored["version"]) if stored else 0

    def client_index(self, client_id: str) -> ClientIndex:
        """The client index partition: party items of the portfolio and the join items."""
        under = [
            i
            for i in [*self.portfolio.items.values(), *self.items.values()]
            if i.get("gsi1pk") == f"CLIENT#{client_id}"
        ]
        return split_client_index(client_id, copy.deepcopy(under))


class MemoryLanes:
    """The partners' lanes: who waits (delivery id → seq), who holds the turn until when, and
    the newest full delivery that replaced each portfolio (the rules of `store.lanes`)."""

    def __init__(self) -> None:
        self.lanes: dict[str, Item] = {}

    def enter(self, entry: Entry, *, now: int) -> Turn:
        lane = self.lanes.setdefault(entry.partner_id, {"waiting": {}})
        lane["waiting"].setdefault(entry.delivery_id, entry.seq)
        if not may_take(lane, entry.delivery_id):
            return Turn(granted=False, full_seq=str(lane.get("full_seq", "")))
        turn = turn_for(lane, entry.seq)
        let_go, floor = forgotten(lane)
        done = lane.setdefault("done", {})
        for delivery_id in let_go:
            done.pop(delivery_id, None)
        if floor:
            lane["done_floor"] = floor
        lane.update(holder=entry.delivery_id, lease_until=entry.lease_until)
        return turn

    def leave(
        self, partner_id: str, delivery_id: str, *, seq: str, replaced_portfolio: bool = False
    ) -> str | None:
        lane = self.lanes.get(partner_id)
        if lane is None:
            return None
        lane["waiting"].pop(delivery_id, None)
        if lane.get("holder") != delivery_id:
            return None
        lane.pop("holder")
        lane.pop("lease_until", None)
        lane.setdefault("done", {})[delivery_id] = seq
        if replaced_portfolio and str(lane.get("full_seq", "")) < seq:
            lane["full_seq"] = seq
        return first_waiting(lane["waiting"])


class MemoryBlobs:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def open(
        self, key: str, *, start: int = 0, version_id: str | None = None, etag: str | None = None
    ) -> BinaryIO:
        """The memory keeps one version of an object: `version_id` and `etag` are not checked."""
        if key not in self.objects:
            raise NotFound(f"object {key} not found")
        return io.BytesIO(self.objects[key][start:])

    def version_of(self, key: str, *, etag: str | None) -> str | None:
        return None

    def put_json(self, key: str, document: Any) -> None:
        self.objects[key] = json.dumps(document, ensure_ascii=False, default=str).encode()

    def put_bytes(
        self, key: str, data: bytes | BinaryIO, *, content_type: str = "application/octet-stream"
    ) -> None:
        self.objects[key] = data if isinstance(data, bytes) else data.read()

    def concatenate(
        self,
        key: str,
        head: bytes | Prefix,
        parts: Sequence[str],
        *,
        content_type: str,
        missing: list[str] | None = None,
    ) -> int:
        first = head if isinstance(head, bytes) else self.get_bytes(head.key, length=head.length)
        gone = [part for part in parts if part not in self.objects]
        if gone:
            if missing is None:
                raise NotFound(f"object {gone[0]} not found")
            missing.extend(gone)
        found = [self.objects[part] for part in parts if part in self.objects]
        self.objects[key] = first + b"".join(found)
        return len(self.objects[key])

    def size(self, key: str) -> int | None:
        return len(self.objects[key]) if key in self.objects else None

    def get_bytes(self, key: str, *, start: int = 0, length: int | None = None) -> bytes:
        if key not in self.objects:
            raise NotFound(f"object {key} not found")
        return self.objects[key][start : None if length is None else start + length]

    def get_json(self, key: str) -> Any:
        return json.loads(self.objects[key])


class MemoryQueue:
    def __init__(self) -> None:
        self.messages: list[str] = []
        self.delays: list[int] = []  # of every message sent, in order

    def send(self, message: dict[str, Any], *, delay_seconds: int = 0) -> str:
        self.messages.append(json.dumps(message, separators=(",", ":")))
        self.delays.append(delay_seconds)
        return f"m-{len(self.messages)}"


RemainingMs = Callable[[], int]


class MemoryQuality:
    """Quality snapshots by partner and sort key (what the scorecard reads)."""

    def __init__(self) -> None:
        self.snapshots: dict[tuple[str, str], QualitySnapshot] = {}

    def save(self, snapshot: QualitySnapshot) -> None:
        key = (snapshot.partner_id, f"{snapshot.received_at}#{snapshot.delivery_id}")
        self.snapshots[key] = snapshot.model_copy(deep=True)

    def history(self, partner_id: str, *, limit: int) -> Iterator[QualitySnapshot]:
        mine = sorted((k, v) for k, v in self.snapshots.items() if k[0] == partner_id)
        return iter([snapshot for _, snapshot in reversed(mine)][:limit])


def plenty() -> int:
    return 900_000


@dataclass
class MemoryRegister:
    """The ingest wired to in-memory stores, with S3's notifications on a queue: upload a file,
    drain the queue, read the reports and the stored items."""

    clock: FakeClock = field(default_factory=FakeClock)
    deliveries: MemoryDeliveries = field(default_factory=MemoryDeliveries)
    portfolio: MemoryPortfolio = field(default_factory=MemoryPortfolio)
    blobs: MemoryBlobs = field(default_factory=MemoryBlobs)
    queue: MemoryQueue = field(default_factory=MemoryQueue)
    identities: MemoryIdentities | None = None
    lanes: MemoryLanes = field(default_factory=MemoryLanes)
    quality: MemoryQuality = field(default_factory=MemoryQuality)
    mail_queue: MemoryQueue = field(default_factory=MemoryQueue)
    sequencer: int = 0

    def __post_init__(self) -> None:
        if self.identities is None:
            self.identities = MemoryIdentities(self.portfolio)

    def service(self) -> IngestService:
        return IngestService(
            settings=get_settings(),
            deliveries=self.deliveries,
            portfolio=self.portfolio,
            blobs=self.blobs,  # type: ignore[arg-type]
            queue=self.queue,  # type: ignore[arg-type]
            lanes=self.lanes,
            now=self.clock,
            identities=self.identities,
            quality=self.quality,
            mail_queue=self.mail_queue,  # type: ignore[arg-type]
        )

    def notification(self, key: str) -> str:
        """The S3 ObjectCreated notification of the upload of `key`, as S3 sends it to SQS (the
        key URL-encoded, a new sequencer and the clock's time)."""
        self.sequencer += 1
        record = {
            "eventName": "ObjectCreated:Put",
            "eventTime": self.clock().isoformat().replace("+00:00", "Z"),
            "s3": {
                "bucket": {"name": get_settings().bucket_name},
                "object": {
                    "key": quote_plus(key, safe="/"),
                    "size": len(self.blobs.objects[key]),
                    "sequencer": f"{self.sequencer:016X}",
                },
            },
        }
        return json.dumps({"Records": [record]})

    def upload(self, key: str, data: bytes, *, notify: bool = True) -> str:
        """Store the file and queue its notification; the clock moves a second, so every
        upload is later than the one before."""
        self.clock.advance(seconds=1)
        self.blobs.objects[key] = data
        body = self.notification(key)
        if notify:
            self.queue.messages.append(body)
        return body

    def process(self, body: str, remaining_ms: RemainingMs = plenty) -> None:
        self.service().handle_message(body, remaining_ms)

    def drain(self, remaining_ms: RemainingMs = plenty, *, max_rounds: int = 200) -> int:
        """Hand every queued message to the ingest, as SQS would, until none is left; a message
        whose processing raises stays on the queue and is delivered again. Returns the rounds."""
        for rounds in range(max_rounds):
            if not self.queue.messages:
                return rounds
            body = self.queue.messages.pop(0)
            try:
                self.process(body, remaining_ms)
            except Exception:
                self.queue.messages.append(body)
        raise AssertionError(f"queue not drained after {max_rounds} rounds")

    def reports(self, partner_id: str) -> list[dict[str, Any]]:
        documents = [
            json.loads(data)
            for key, data in self.blobs.objects.items()
            if key.startswith(f"reports/{partner_id}/") and key.endswith(".json")
        ]
        return sorted(documents, key=lambda d: d["received_at"])

    def report(self, partner_id: str) -> dict[str, Any]:
        return self.reports(partner_id)[-1]

    def items(self, kind: str | None = None) -> list[Item]:
        everything = [copy.deepcopy(i) for i in self.portfolio.items.values()]
        everything += [to_item(r) for r in self.deliveries.records.values()]
        return [i for i in everything if kind is None or i["type"] == kind]

    def policy(self, number: str, partner_id: str) -> Item | None:
        return self.portfolio.policies(partner_id, [number]).get(number)


class MemoryMandates:
    """Mandates and activation tokens by id and hash (what the activation worker reads)."""

    def __init__(self) -> None:
        self.mandates: dict[str, Item] = {}
        self.tokens: dict[str, Item] = {}

    def get(self, mandate_id: str) -> Item | None:
        return copy.deepcopy(self.mandates.get(mandate_id))

    def create(self, mandate: Item) -> None:
        if mandate["mandate_id"] in self.mandates:
            raise ConditionFailed("put_item")
        self.mandates[mandate["mandate_id"]] = copy.deepcopy(mandate)

    def for_client(self, client_id: str) -> Iterator[Item]:
        return (copy.deepcopy(m) for m in self.mandates.values() if m["client_id"] == client_id)

    def transition(
        self,
        mandate_id: str,
        *,
        from_state: str,
        to_state: str,
        history_entry: Mapping[str, Any],
        at: str,
        expires_at: int,
        extra: Mapping[str, Any] | None = None,
        current_token: str | None = None,
    ) -> Item:
        mandate = self.mandates.get(mandate_id)
        if (
            mandate is None
            or mandate["state"] != from_state
            or (current_token is not None and mandate.get("token_hash") != current_token)
        ):
            raise ConditionFailed("update_item")
        mandate.update(state=to_state, updated_at=at, expires_at=expires_at, **(extra or {}))
        mandate.setdefault("history", []).append(dict(history_entry))
        return copy.deepcopy(mandate)

    def extend(self, mandate_id: str, *, state: str, expires_at: int) -> bool:
        mandate = self.mandates.get(mandate_id)
        if mandate is None or mandate["state"] != state or mandate["expires_at"] >= expires_at:
            return False
        mandate["expires_at"] = expires_at
        return True

    def undo(self, mandate_id: str, *, before: Mapping[str, Any], token_hash: str) -> bool:
        mandate = self.mandates.get(mandate_id)
        history = len(before.get("history", []))
        if (
            mandate is None
            or mandate.get("token_hash") != token_hash
            or len(mandate.get("history", [])) != history + 1
        ):
            return False
        mandate.update(state=before["state"], updated_at=before["updated_at"])
        del mandate["history"][history]
        for name in ("token_hash", "activation_expires_at"):
            if before.get(name) is None:
                mandate.pop(name, None)
            else:
                mandate[name] = before[name]
        return True

    def put_token(self, token_hash: str, token: Item) -> None:
        self.tokens[token_hash] = copy.deepcopy(token)

    def get_token(self, token_hash: str) -> Item | None:
        return copy.deepcopy(self.tokens.get(token_hash))


class MemoryAudit:
    """The audit log's entries in the order written (`record_audit`'s signature)."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def __call__(
        self,
        principal: Principal,
        route: str,
        query: Mapping[str, object],
        result_ids: Sequence[str],
    ) -> None:
        self.entries.append(
            {
                "actor": principal.subject,
                "route": route,
                "query": dict(query),
                "result_ids": list(result_ids),
            }
        )


class MemoryMarkers:
    """The activation e-mail markers: "sending" with a lease, then "sent"."""

    def __init__(self) -> None:
        self.markers: dict[str, Item] = {}

    def claim(
        self, idempotency_id: str, *, about: str, now: int, lease_until: int, expires_at: int
    ) -> str:
        marker = self.markers.get(idempotency_id)
        if marker is None or (marker["status"] == "sending" and marker["lease_until"] < now):
            self.markers[idempotency_id] = {
                "about": about,
                "status": "sending",
                "lease_until": lease_until,
                "expires_at": expires_at,
            }
            return "claimed"
        return "sent" if marker["status"] == "sent" else "busy"

    def release(self, idempotency_id: str) -> None:
        self.markers.pop(idempotency_id, None)

    def mark_sent(self, idempotency_id: str, *, at: str, ses_message_id: str) -> None:
        self.markers.setdefault(idempotency_id, {}).update(
            status="sent", sent_at=at, ses_message_id=ses_message_id
        )


class FakeMailer:
    """Records every e-mail; `failures` sends fail first (SES refusing, or down)."""

    def __init__(self, failures: int = 0) -> None:
        self.sent: list[dict[str, str]] = []
        self.failures = failures

    def send(self, *, sender: str, recipient: str, subject: str, text: str) -> str:
        if self.failures:
            self.failures -= 1
            raise StoreError("send_email: unavailable")
        self.sent.append({"recipient": recipient, "subject": subject, "text": text})
        return f"ses-{len(self.sent)}"
