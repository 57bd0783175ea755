"""Ingest: one uploaded portfolio file becomes validated rows in the register, a report and a
delivery record.

The file is streamed and written in batches. After every batch the delivery record holds a
checkpoint (byte offset, counters, errors so far), so a delivery survives a Lambda that runs out
of time (it hands over to a follow-up invocation through the ingest queue) or dies (SQS delivers
the message again once the lease has lapsed). Deliveries are applied in the order the partner
made them: a policy whose stored `data_seq` is newer than this delivery is left alone.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from boto3.dynamodb.conditions import Attr

from chalicelib.config import Settings, get_settings
from chalicelib.errors import ConditionFailed, Conflict, NotFound, StoreRefused
from chalicelib.models.delivery import DeliveryReport, S3ObjectRef
from chalicelib.models.portfolio import (
    DeliveryKind,
    PolicyFields,
    RowError,
    RowOutcome,
    ValidRow,
)
from chalicelib.observability import logger, metrics
from chalicelib.rules.dates import expires_at
from chalicelib.rules.rows import HeaderMap, map_header, validate_row
from chalicelib.rules.spreadsheet import spreadsheet_csv
from chalicelib.services.reader import (
    BadLine,
    FileFormat,
    FileRejected,
    RawRow,
    ReadLimits,
    ResumePoint,
    open_rows,
)
from chalicelib.services.register_items import client_identity, policy_items
from chalicelib.store import keys
from chalicelib.store.blobs import Blobs
from chalicelib.store.queues import Queue
from chalicelib.store.table import BATCH_GET_MAX, TRANSACT_MAX, Item, Table

RemainingMs = Callable[[], int]
HELD_MARK = "nothing ended until an administrator confirms"
# A policy's parties are buffered until the policy's last row; more than this is not a household.
MAX_ROWS_PER_POLICY = 100
KEY_PATTERN = re.compile(r"^incoming/(?P<partner>[^/]+)/(?P<kind>[^/]+)/(?P<name>[^/]+)$")


def _message(code: str, nl: str, en: str, *, line: int = 0, column: str | None = None) -> RowError:
    return RowError(line=line, column=column, code=code, message_nl=nl, message_en=en)


def delivery_id_for(ref: S3ObjectRef) -> str:
    """The same upload always gets the same id: S3 may notify an upload more than once, each
    time with the same key, version or sequencer, and event time. A later upload of the same
    key (a new event time) is a new delivery."""
    version = ref.version_id or ref.sequencer or ref.etag or ""
    identity = f"{ref.bucket}/{ref.key}#{version}#{ref.event_time}"
    return hashlib.sha256(identity.encode()).hexdigest()[:32]


def delivery_seq(ref: S3ObjectRef) -> str:
    """Sortable position of the delivery in the partner's order: upload time, then sequencer."""
    moment = datetime.fromisoformat(ref.event_time.replace("Z", "+00:00"))
    return f"{moment.astimezone(UTC):%Y%m%dT%H%M%S.%f}#{ref.sequencer.rjust(32, '0')}"


@dataclass
class Progress:
    """Everything a delivery carries from one invocation to the next."""

    phase: str = "rows"  # rows -> reconcile -> ending -> done
    offset: int = 0
    line: int = 1
    format: dict[str, Any] | None = None
    rows_total: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    rows_superseded: int = 0
    policies_written: int = 0
    existing_active_seen: int = 0
    policies_ended: int = 0
    pending_removal: int = 0
    ending_batch: list[str] = field(default_factory=list)  # pks being ended when last saved
    bsn_dropped: int = 0
    truncated: bool = False
    rejected: bool = False
    warnings: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_counts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_record(cls, record: Item) -> Progress:
        stored = record.get("progress") or {}
        known = {f for f in cls.__dataclass_fields__}
        values = {k: _plain(v) for k, v in stored.items() if k in known}
        return cls(**values)

    def add_error(self, error: RowError, cap: int) -> None:
        self.error_counts[error.code] = self.error_counts.get(error.code, 0) + 1
        if len(self.errors) < cap:
            self.errors.append(
                {
                    "line": error.line,
                    "column": error.column,
                    "code": error.code,
                    "message": error.message_nl,
                    "message_en": error.message_en,
                }
            )

    def warn(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)


def _plain(value: Any) -> Any:
    """DynamoDB hands numbers back as Decimal; progress wants ints."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return int(value)
    return value


def _last_change(policy: Item) -> str:
    """The newest delivery that changed the policy: its data, or its status (a removal)."""
    return max(str(policy.get("data_seq", "")), str(policy.get("status_seq", "")))


def _written_earlier_in_delivery(current: Item | None, seq: str, group: _PolicyGroup) -> bool:
    """This delivery already wrote the policy from other rows: its rows are split in the file.
    (The same rows written again — a retry of the same batch — are fine.)"""
    return (
        current is not None
        and current.get("data_seq") == seq
        and int(current.get("source_line", group.lines[0])) != group.lines[0]
    )


@dataclass
class _PolicyGroup:
    """The consecutive rows of one policy (a policy's rows must be adjacent in a file)."""

    policy_number: str | None
    outcomes: list[RowOutcome] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    end_offset: int = 0
    last_line: int = 0
    overflow: int = 0  # rows past MAX_ROWS_PER_POLICY: counted, not kept


class IngestService:
    def __init__(
        self,
        *,
        settings: Settings | None = None,
        table: Table | None = None,
        blobs: Blobs | None = None,
        queue: Queue | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        self.table = table or Table()
        self.blobs = blobs or Blobs()
        self.queue = queue or Queue(self.settings.ingest_queue_url)
        self.now = now or (lambda: datetime.now(UTC))

    # ---------------------------------------------------------------- messages

    def handle_message(self, body: str, remaining_ms: RemainingMs) -> None:
        """One SQS message: an S3 notification, or a request to resume a delivery."""
        try:
            document = json.loads(body)
        except ValueError:
            logger.warning("ingest message is not JSON; dropped")
            return
        if not isinstance(document, dict):
            logger.warning("ingest message is not an object; dropped")
            return
        if document.get("Event") == "s3:TestEvent":
            logger.info("s3 test event skipped")
            return
        if "resume" in document:
            self.resume(str(document["resume"].get("delivery_id", "")), remaining_ms)
            return
        for record in document.get("Records") or []:
            if not str(record.get("eventName", "")).startswith("ObjectCreated"):
                continue
            s3 = record.get("s3", {})
            ref = S3ObjectRef(
                bucket=s3.get("bucket", {}).get("name", ""),
                key=s3.get("object", {}).get("key", ""),
                size=int(s3.get("object", {}).get("size") or 0),
                etag=s3.get("object", {}).get("eTag"),
                version_id=s3.get("object", {}).get("versionId"),
                sequencer=str(s3.get("object", {}).get("sequencer") or ""),
                event_time=record.get("eventTime") or self.now().isoformat(),
            )
            self.start(ref, remaining_ms)

    # ---------------------------------------------------------------- lifecycle

    def start(self, ref: S3ObjectRef, remaining_ms: RemainingMs) -> None:
        delivery_id = delivery_id_for(ref)
        match = KEY_PATTERN.match(ref.key)
        partner_id = match["partner"] if match else "_unknown"
        kind = match["kind"] if match else "unknown"
        received = datetime.fromisoformat(ref.event_time.replace("Z", "+00:00"))
        record: Item = {
            "pk": keys.delivery_pk(delivery_id),
            "sk": keys.DELIVERY_SK,
            "type": "delivery",
            "delivery_id": delivery_id,
            "partner_id": partner_id,
            "kind": kind,
            "bucket": ref.bucket,
            "object_key": ref.key,
            "received_at": received.astimezone(UTC).isoformat(),
            "seq": delivery_seq(ref),
            "status": "processing",
            "lease_until": self._lease_until(),
            "progress": asdict(Progress()),
            "expires_at": expires_at(received, self.settings.retention_months),
            "gsi2pk": keys.deliveries_gsi2pk(partner_id),
            "gsi2sk": keys.delivery_gsi2sk(received.astimezone(UTC).isoformat(), delivery_id),
        }
        claimed = self._claim(record)
        if claimed is None:
            logger.info("duplicate delivery event ignored", extra={"delivery_id": delivery_id})
            return
        problem = self._unacceptable(match, partner_id, kind)
        if problem is not None:
            progress = Progress.from_record(claimed)
            progress.rejected = True
            progress.add_error(problem, self.settings.max_report_errors)
            self._finish(claimed, progress)
            return
        self._run(claimed, remaining_ms)

    def resume(self, delivery_id: str, remaining_ms: RemainingMs) -> None:
        record = self.table.get(keys.delivery_pk(delivery_id), keys.DELIVERY_SK, consistent=True)
        if record is None or record.get("status") != "processing":
            logger.info("resume of a finished or unknown delivery ignored")
            return
        claimed = self._take_lease(record)
        if claimed is not None:
            self._run(claimed, remaining_ms)

    def _unacceptable(
        self, match: re.Match[str] | None, partner_id: str, kind: str
    ) -> RowError | None:
        if match is None:
            return _message(
                "invalid_object_key",
                "Het bestand staat niet op incoming/<partner>/<full|mutation>/<naam>.",
                "The file is not at incoming/<partner>/<full|mutation>/<name>.",
            )
        if partner_id not in self.settings.partners:
            return _message(
                "unknown_partner",
                f"Partner '{partner_id}' is niet bekend in deze omgeving.",
                f"Partner '{partner_id}' is not configured in this stage.",
            )
        if kind not in ("full", "mutation"):
            return _message(
                "unknown_delivery_kind",
                "Het leveringstype moet 'full' of 'mutation' zijn.",
                "The delivery kind must be 'full' or 'mutation'.",
            )
        return None

    def _lease_until(self) -> int:
        return int(self.now().timestamp()) + self.settings.ingest_lease_seconds

    def _claim(self, record: Item) -> Item | None:
        """Create the delivery record, or take over one whose worker died; None = duplicate."""
        try:
            self.table.put(record, condition="attribute_not_exists(pk)")
            return record
        except ConditionFailed:
            existing = self.table.get(record["pk"], record["sk"], consistent=True)
        if existing is None or existing.get("status") != "processing":
            return None
        return self._take_lease(existing)

    def _take_lease(self, record: Item) -> Item | None:
        now = int(self.now().timestamp())
        try:
            return self.table.update(
                record["pk"],
                record["sk"],
                UpdateExpression="SET lease_until = :lease",
                ConditionExpression="#status = :processing AND lease_until < :now",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":lease": self._lease_until(),
                    ":processing": "processing",
                    ":now": now,
                },
            )
        except ConditionFailed:
            logger.info("delivery is being processed elsewhere", extra={"pk": record["pk"]})
            return None

    def _run(self, record: Item, remaining_ms: RemainingMs) -> None:
        try:
            self._advance(record, remaining_ms)
        except StoreRefused:
            # DynamoDB refuses a request of this delivery itself (not a policy's items: those
            # become row errors); a retry would be refused the same way for hours.
            self._refuse(record)
        except Exception:
            # Let the retry of this message resume from the last checkpoint at once instead of
            # waiting for the lease to lapse.
            self._release(record)
            raise

    def _refuse(self, record: Item) -> None:
        """End the delivery as rejected, with what its last checkpoint holds and the reason."""
        logger.error("DynamoDB refused the delivery", extra={"delivery_id": record["delivery_id"]})
        stored = self.table.get(record["pk"], record["sk"], consistent=True) or record
        progress = Progress.from_record(stored)
        progress.rejected = True
        progress.add_error(
            _message(
                "storage_refused",
                "De database weigert de levering; niets verder verwerkt. Meld dit bij beheer.",
                "The database refuses the delivery; nothing further processed. Tell support.",
            ),
            self.settings.max_report_errors,
        )
        self._finish(stored, progress)

    def _release(self, record: Item) -> None:
        try:
            self.table.update(
                record["pk"],
                record["sk"],
                UpdateExpression="SET lease_until = :zero",
                ConditionExpression="#status = :processing",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":zero": 0, ":processing": "processing"},
            )
        except Exception:
            logger.warning("lease not released; it lapses by itself", extra={"pk": record["pk"]})

    def _advance(self, record: Item, remaining_ms: RemainingMs) -> None:
        """Go on from the saved phase. Every phase change is saved before the next phase starts,
        so a retry never re-reads a file it already finished."""
        progress = Progress.from_record(record)
        if progress.phase == "rows":
            if not self._ingest_rows(record, progress, remaining_ms):
                return
            if progress.rows_rejected and not (progress.rows_accepted or progress.rows_superseded):
                # Every row was refused: nothing of the file is stored, so it is rejected.
                progress.rejected = True
                progress.add_error(
                    _message(
                        "no_valid_rows",
                        "Geen enkele regel van het bestand is verwerkt; zie de fouten per regel.",
                        "No row of the file was stored; see the errors per row.",
                    ),
                    self.settings.max_report_errors,
                )
            reconcilable = (
                record["kind"] == "full"
                and not progress.rejected
                and not progress.truncated
                and progress.rows_accepted > 0
            )
            if record["kind"] == "full" and not reconcilable and not progress.rejected:
                progress.warn(
                    "Geen polissen beëindigd: de levering is onvolledig. / "
                    "No policies ended: the delivery is incomplete."
                )
            progress.phase = "reconcile" if reconcilable else "done"
            self._checkpoint(record, progress)
        if progress.phase == "reconcile":
            self._decide_removals(record, progress)
            self._checkpoint(record, progress)
        if progress.phase == "ending" and not self._end_missing(record, progress, remaining_ms):
            return
        self._finish(record, progress)

    # ---------------------------------------------------------------- rows

    def _open(self, record: Item, progress: Progress) -> Iterator[RawRow | BadLine]:
        limits = ReadLimits(
            max_line_bytes=self.settings.max_line_bytes,
            max_uncompressed_bytes=self.settings.max_uncompressed_mb * 1024 * 1024,
        )
        resume = None
        start = 0
        if progress.format is not None:
            fmt = FileFormat(**{**progress.format, "labels": tuple(progress.format["labels"])})
            resume = ResumePoint(format=fmt, offset=progress.offset, line=progress.line)
            start = 0 if fmt.compressed else progress.offset
        stream = self.blobs.open(record["object_key"], start=start)
        reader = open_rows(stream, filename=record["object_key"], limits=limits, resume=resume)
        if progress.format is None:
            progress.format = asdict(reader.format)
            progress.format["labels"] = list(reader.format.labels)
        return iter(reader)

    def _ingest_rows(self, record: Item, progress: Progress, remaining_ms: RemainingMs) -> bool:
        """Stream the rows into the register. False when it handed over to a follow-up."""
        kind: DeliveryKind = "full" if record["kind"] == "full" else "mutation"
        first_time = progress.format is None
        try:
            rows = self._open(record, progress)
        except FileRejected as exc:
            return self._file_failed(progress, exc, first_time)
        except NotFound:
            progress.rejected = True
            progress.add_error(
                _message("object_missing", "Het bestand bestaat niet meer.", "The file is gone."),
                self.settings.max_report_errors,
            )
            return True
        assert progress.format is not None
        header = map_header(list(progress.format["labels"]), kind)
        if header.missing:
            progress.rejected = True
            missing = ", ".join(header.missing)
            progress.add_error(
                _message(
                    "missing_columns",
                    f"Verplichte kolommen ontbreken: {missing}.",
                    f"Required columns are missing: {missing}.",
                    line=1,
                ),
                self.settings.max_report_errors,
            )
            return True
        if header.has_bsn:
            progress.warn(
                "Het bestand bevat een BSN-kolom; BSN's worden niet opgeslagen. / "
                "The file has a BSN column; BSNs are never stored."
            )
        today = self.now().date()
        batch: list[_PolicyGroup] = []
        batch_rows = 0
        group: _PolicyGroup | None = None
        try:
            for item in rows:
                if not isinstance(item, RawRow):
                    # A line the reader could not turn into values (too long, not JSON).
                    progress.rows_total += 1
                    progress.rows_rejected += 1
                    progress.add_error(
                        _message(item.code, item.message_nl, item.message_en, line=item.line),
                        self.settings.max_report_errors,
                    )
                    if group is not None:
                        group.end_offset = item.end_offset
                        group.last_line = item.last_line or item.line
                    continue
                outcome = validate_row(item.values, header, kind=kind, line=item.line, today=today)
                number = outcome.policy_number
                if group is None or number is None or number != group.policy_number:
                    if group is not None:
                        batch.append(group)
                        batch_rows += len(group.outcomes)
                    if batch_rows >= self.settings.ingest_batch_rows:
                        self._flush(record, progress, batch, header)
                        batch, batch_rows = [], 0
                        if remaining_ms() < self.settings.ingest_min_remaining_ms:
                            # This row is re-read by the follow-up: the checkpoint is before it.
                            self._hand_over(record, progress)
                            return False
                    group = _PolicyGroup(number)
                progress.rows_total += 1
                if outcome.bsn_dropped:
                    progress.bsn_dropped += 1
                if len(group.outcomes) < MAX_ROWS_PER_POLICY:
                    group.outcomes.append(outcome)
                    group.lines.append(item.line)
                else:
                    group.overflow += 1
                group.end_offset = item.end_offset
                group.last_line = item.last_line or item.line
        except FileRejected as exc:
            # Unreadable from here on (e.g. the uncompressed size limit): what came before stays.
            if group is not None:
                batch.append(group)
            self._flush(record, progress, batch, header)
            return self._file_failed(progress, exc, first_time and progress.rows_total == 0)
        if group is not None:
            batch.append(group)
        self._flush(record, progress, batch, header)
        if progress.rows_total == 0:
            progress.rejected = True
            progress.add_error(
                _message(
                    "empty_file",
                    "Het bestand bevat geen regels.",
                    "The file contains no rows.",
                    line=1,
                ),
                self.settings.max_report_errors,
            )
        return True

    def _file_failed(self, progress: Progress, exc: FileRejected, nothing_written: bool) -> bool:
        error = _message(exc.code, exc.message_nl, exc.message_en, line=exc.line)
        progress.add_error(error, self.settings.max_report_errors)
        if nothing_written:
            progress.rejected = True
        else:
            progress.truncated = True
        return True

    def _flush(
        self, record: Item, progress: Progress, batch: list[_PolicyGroup], header: HeaderMap
    ) -> None:
        if not batch:
            return
        cap = self.settings.max_report_errors
        writable: list[tuple[_PolicyGroup, list[ValidRow]]] = []
        touch: list[str] = []
        for group in batch:
            rows = self._accept_group(group, progress, cap)
            if rows is not None:
                writable.append((group, rows))
            elif group.policy_number is not None:
                touch.append(group.policy_number)
        self._write(record, progress, writable)
        if record["kind"] == "full":
            self._mark_seen(record, touch)
        progress.offset = batch[-1].end_offset
        progress.line = batch[-1].last_line or progress.line
        self._checkpoint(record, progress)

    def _accept_group(
        self, group: _PolicyGroup, progress: Progress, cap: int
    ) -> list[ValidRow] | None:
        """The group's rows if the policy can be written; else record why not, per row."""
        invalid = [o for o in group.outcomes if o.errors or o.row is None]
        reason: RowError | None = None
        if group.overflow:
            reason = _message(
                "too_many_parties",
                f"Polis {group.policy_number} heeft meer dan {MAX_ROWS_PER_POLICY} regels.",
                f"Policy {group.policy_number} has more than {MAX_ROWS_PER_POLICY} rows.",
                line=group.lines[0],
            )
            progress.rows_rejected += group.overflow
        elif not invalid:
            holders = sum(1 for o in group.outcomes if o.row and o.row.party.role == "VP")
            identities = [client_identity(o.row.party) for o in group.outcomes if o.row]
            if len(set(identities)) != len(identities):
                # Two rows that would be the same client (twins with the same initials, or a
                # row repeated): storing both is impossible, storing one would lose the other.
                reason = _message(
                    "duplicate_party",
                    f"Polis {group.policy_number} bevat twee regels voor dezelfde persoon.",
                    f"Policy {group.policy_number} has two rows for the same person.",
                    line=group.lines[0],
                )
            elif holders != 1:
                reason = _message(
                    "policy_needs_one_policyholder",
                    f"Polis {group.policy_number} moet precies één verzekeringnemer (VP) hebben.",
                    f"Policy {group.policy_number} must have exactly one policyholder (VP).",
                    line=group.lines[0],
                    column="ENTITEIT",
                )
        if not invalid and reason is None:
            return [o.row for o in group.outcomes if o.row is not None]
        progress.rows_rejected += len(group.outcomes)
        for outcome in invalid:
            for error in outcome.errors:
                progress.add_error(error, cap)
        if reason is not None:
            progress.add_error(reason, cap)
        invalid_ids = {id(o) for o in invalid}
        for outcome, line in zip(group.outcomes, group.lines, strict=True):
            if id(outcome) in invalid_ids or reason is not None:
                continue
            progress.add_error(
                _message(
                    "policy_has_rejected_rows",
                    f"Polis {group.policy_number} is niet verwerkt: een andere regel is afgekeurd.",
                    f"Policy {group.policy_number} was not applied: another row was rejected.",
                    line=line,
                ),
                cap,
            )
        return None

    def _write(
        self,
        record: Item,
        progress: Progress,
        writable: list[tuple[_PolicyGroup, list[ValidRow]]],
    ) -> None:
        if not writable:
            return
        partner_id = record["partner_id"]
        seq = record["seq"]
        keys_wanted = [
            (keys.policy_pk(partner_id, rows[0].policy.policy_number), keys.POLICY_SK)
            for _, rows in writable
        ]
        existing = {item["pk"]: item for item in self.table.batch_get_many(keys_wanted)}
        delivered_at = record["received_at"]
        delivery_day = delivered_at[:10]
        ttl = int(record["expires_at"])
        in_this_batch: set[str] = set()
        planned: list[tuple[_PolicyGroup, list[Item], bool]] = []
        for group, rows in writable:
            policy = rows[0].policy
            pk = keys.policy_pk(partner_id, policy.policy_number)
            current = existing.get(pk)
            if current is not None and _last_change(current) > seq:
                progress.rows_superseded += len(rows)
                continue
            if pk in in_this_batch or _written_earlier_in_delivery(current, seq, group):
                self._reject_split(progress, group, len(rows))
                continue
            in_this_batch.add(pk)
            status, ended_on = self._status_for(policy, current, delivery_day)
            if status == "cancelled" and policy.end_date is None:
                policy.end_date = ended_on
            seen_active = (
                current is not None
                and current.get("status") == "active"
                and str(current.get("first_seen_seq", seq)) < seq
            )
            items = policy_items(
                partner_id,
                rows,
                seq=seq,
                delivery_id=record["delivery_id"],
                delivered_at=delivered_at,
                expires_at=ttl,
                client_id_key=self.settings.client_id_key,
                status=status,
                ended_on=ended_on,
                first_seen_seq=str(current["first_seen_seq"]) if current else None,
            )
            items[0]["source_line"] = group.lines[0]
            planned.append((group, items, seen_active))
        stored = self._put_policies([items for _, items, _ in planned])
        for (group, _, seen_active), ok in zip(planned, stored, strict=True):
            if not ok:
                self._reject_refused(progress, group)
                continue
            progress.existing_active_seen += seen_active
            progress.policies_written += 1
            progress.rows_accepted += len(group.outcomes)

    def _put_policies(self, policies: list[list[Item]]) -> list[bool]:
        """Write every policy's items; which policies were stored. Batched across policies; if
        DynamoDB refuses a batch (a key or an item beyond its limits, which the row rules are
        meant to make impossible), each policy is written again on its own, all or nothing, and
        only the refused ones are left out: one bad policy never stalls a delivery."""
        try:
            with self.table.writer() as writer:
                for items in policies:
                    for item in items:
                        writer.put(item)
            return [True] * len(policies)
        except StoreRefused:
            logger.warning("DynamoDB refused a batch; its policies are written one by one")
        return [self._put_policy(items) for items in policies]

    def _put_policy(self, items: list[Item]) -> bool:
        try:
            if len(items) <= TRANSACT_MAX:
                self.table.put_all(items)
            else:  # a policy of many parties: in batches, the policy item last
                with self.table.writer() as writer:
                    for item in (*items[1:], items[0]):
                        writer.put(item)
        except StoreRefused:
            return False
        return True

    def _reject_refused(self, progress: Progress, group: _PolicyGroup) -> None:
        progress.rows_rejected += len(group.outcomes)
        for line in group.lines:
            progress.add_error(
                _message(
                    "storage_refused",
                    f"Polis {group.policy_number} is niet opgeslagen: de database weigert een "
                    "waarde ervan (te lang of ongeldig).",
                    f"Policy {group.policy_number} was not stored: the database refuses one of "
                    "its values (too long or invalid).",
                    line=line,
                ),
                self.settings.max_report_errors,
            )

    def _reject_split(self, progress: Progress, group: _PolicyGroup, rows: int) -> None:
        progress.rows_rejected += rows
        progress.add_error(
            _message(
                "policy_rows_not_adjacent",
                f"Polis {group.policy_number} kwam al eerder in dit bestand voor; de regels van "
                "een polis moeten aaneensluiten.",
                f"Policy {group.policy_number} appeared earlier in this file; the rows of a "
                "policy must be adjacent.",
                line=group.lines[0],
                column="PP_NUMMER",
            ),
            self.settings.max_report_errors,
        )

    @staticmethod
    def _status_for(policy: PolicyFields, current: Item | None, day: str) -> tuple[str, str | None]:
        if policy.processing_code == "2":
            # Cancelled: cover ends at PP_EXPDAT when given (it may lie ahead), else today.
            return "cancelled", policy.end_date or day
        if policy.processing_code == "4" and current is not None:
            # "For information": the contract itself did not change.
            return str(current.get("status", "active")), current.get("ended_on")
        return "active", None

    def _mark_seen(self, record: Item, policy_numbers: list[str]) -> None:
        """A full delivery's rejected policy is still in the portfolio: don't end it for a typo."""
        for number in dict.fromkeys(policy_numbers):
            try:
                self.table.update(
                    keys.policy_pk(record["partner_id"], number),
                    keys.POLICY_SK,
                    UpdateExpression="SET seen_seq = :seq",
                    ConditionExpression="attribute_exists(pk) AND seen_seq < :seq",
                    ExpressionAttributeValues={":seq": record["seq"]},
                )
            except ConditionFailed:
                continue

    # ---------------------------------------------------------------- removals

    def _removal_candidates(self, record: Item) -> Iterator[Item]:
        """Active policies of the partner that this full delivery did not contain, as the
        sparse ACTIVE index shows them (an index query, never a scan). The index is eventually
        consistent: callers confirm each candidate against the table."""
        return self.table.query(
            keys.active_gsi2pk(record["partner_id"]),
            index="gsi2",
            filter_condition=Attr("seen_seq").lt(record["seq"]),
        )

    def _missing(self, record: Item) -> Iterator[list[Item]]:
        """The missing policies in batches, each read fresh (consistent) from the table: a
        policy this delivery just wrote may still look missing in the index."""
        batch_size = min(self.settings.ingest_batch_rows, BATCH_GET_MAX)
        candidates: list[tuple[str, str]] = []

        def confirmed() -> list[Item]:
            fresh = self.table.batch_get(candidates, consistent=True)
            return [
                item
                for item in fresh
                if item.get("status") == "active" and str(item.get("seen_seq", "")) < record["seq"]
            ]

        for item in self._removal_candidates(record):
            candidates.append((item["pk"], item["sk"]))
            if len(candidates) == batch_size:
                batch = confirmed()
                candidates = []
                if batch:
                    yield batch
        if candidates:
            batch = confirmed()
            if batch:
                yield batch

    def _decide_removals(self, record: Item, progress: Progress) -> None:
        missing = sum(len(batch) for batch in self._missing(record))
        base = missing + progress.existing_active_seen
        share = 100.0 * missing / base if base else 0.0
        if missing and share > self.settings.full_delivery_max_removal_pct:
            progress.pending_removal = missing
            progress.phase = "held"
            progress.warn(
                f"{missing} van {base} actieve polissen ontbreken ({share:.0f}%): niets beëindigd "
                f"tot een beheerder de levering bevestigt. / {missing} of {base} active policies "
                f"are missing ({share:.0f}%): {HELD_MARK}."
            )
            return
        progress.phase = "ending" if missing else "done"

    def _end_missing(self, record: Item, progress: Progress, remaining_ms: RemainingMs) -> bool:
        """End the missing policies batch by batch; False when it handed over to a follow-up.

        Before a batch is written its keys are saved with the checkpoint; a retry after a kill
        counts the ones that were ended, so `policies_ended` is exact. Ended policies leave the
        ACTIVE index, so a follow-up's query starts where this one stopped."""
        seq = record["seq"]
        if progress.ending_batch:
            saved = [(pk, keys.POLICY_SK) for pk in progress.ending_batch]
            progress.policies_ended += sum(
                1
                for item in self.table.batch_get(saved, consistent=True)
                if item.get("status") == "removed_from_portfolio" and item.get("status_seq") == seq
            )
            progress.ending_batch = []
        day = record["received_at"][:10]
        for batch in self._missing(record):
            progress.ending_batch = [item["pk"] for item in batch]
            self._checkpoint(record, progress)
            with self.table.writer() as writer:
                for policy in batch:
                    policy["status"] = "removed_from_portfolio"
                    policy["ended_on"] = day
                    policy["status_seq"] = seq
                    policy.pop("gsi2pk", None)
                    policy.pop("gsi2sk", None)
                    writer.put(policy)
            progress.policies_ended += len(batch)
            progress.ending_batch = []
            if remaining_ms() < self.settings.ingest_min_remaining_ms:
                self._hand_over(record, progress)
                return False
        progress.pending_removal = 0
        progress.phase = "done"
        return True

    # ---------------------------------------------------------------- records

    def _checkpoint(self, record: Item, progress: Progress) -> None:
        self.table.update(
            record["pk"],
            record["sk"],
            UpdateExpression="SET progress = :progress",
            ExpressionAttributeValues={":progress": asdict(progress)},
        )

    def _hand_over(self, record: Item, progress: Progress) -> None:
        """Out of time: save where we are, release the lease, and queue the rest."""
        self.table.update(
            record["pk"],
            record["sk"],
            UpdateExpression="SET progress = :progress, lease_until = :zero",
            ExpressionAttributeValues={":progress": asdict(progress), ":zero": 0},
        )
        self.queue.send({"resume": {"delivery_id": record["delivery_id"]}})
        logger.info(
            "delivery handed over to a follow-up invocation",
            extra={"delivery_id": record["delivery_id"], "rows_total": progress.rows_total},
        )

    def _status(self, progress: Progress) -> str:
        if progress.rejected:
            return "rejected"
        if progress.phase == "held":
            return "held_for_review"
        if progress.rows_rejected or progress.truncated:
            return "accepted_with_errors"
        return "accepted"

    def _finish(self, record: Item, progress: Progress) -> None:
        if progress.bsn_dropped:
            progress.warn(
                f"{progress.bsn_dropped} BSN-waarden genegeerd en niet opgeslagen. / "
                f"{progress.bsn_dropped} BSN values dropped and not stored."
            )
        status = self._status(progress)
        finished_at = self.now().isoformat()
        report = build_report(record, progress, status, finished_at)
        report_key = f"reports/{record['partner_id']}/{record['delivery_id']}"
        self.blobs.put_json(f"{report_key}.json", report.model_dump(mode="json"))
        self.blobs.put_bytes(
            f"{report_key}.csv", report_csv(report).encode(), content_type=REPORT_CSV_TYPE
        )
        self.table.update(
            record["pk"],
            record["sk"],
            UpdateExpression=(
                "SET #status = :status, progress = :progress, finished_at = :finished "
                "REMOVE lease_until"
            ),
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":status": status,
                ":progress": asdict(progress),
                ":finished": finished_at,
            },
        )
        metrics.add_metric(name="RowsAccepted", unit=MetricUnit.Count, value=progress.rows_accepted)
        metrics.add_metric(name="RowsRejected", unit=MetricUnit.Count, value=progress.rows_rejected)
        metrics.add_metric(
            name="PoliciesEnded", unit=MetricUnit.Count, value=progress.policies_ended
        )
        logger.info(
            "delivery finished",
            extra={
                "delivery_id": record["delivery_id"],
                "partner_id": record["partner_id"],
                "status": status,
                "rows_total": progress.rows_total,
                "rows_accepted": progress.rows_accepted,
                "rows_rejected": progress.rows_rejected,
                "policies_ended": progress.policies_ended,
            },
        )

    # ---------------------------------------------------------------- review

    def release_held(self, delivery_id: str, *, confirmed_by: str) -> Item:
        """An administrator confirmed a held full delivery: end its missing policies."""
        pk = keys.delivery_pk(delivery_id)
        record = self.table.get(pk, keys.DELIVERY_SK, consistent=True)
        if record is None:
            raise NotFound("no such delivery", code="delivery_not_found")
        progress = Progress.from_record(record)
        progress.phase = "ending"
        confirmed_at = self.now().isoformat(timespec="seconds")
        progress.warnings = [w for w in progress.warnings if HELD_MARK not in w]
        progress.warn(
            f"Bevestigd door een beheerder op {confirmed_at}: de ontbrekende polissen worden "
            f"beëindigd. / Confirmed by an administrator at {confirmed_at}: the missing "
            "policies are ended."
        )
        try:
            updated = self.table.update(
                pk,
                keys.DELIVERY_SK,
                UpdateExpression="SET #status = :processing, progress = :progress, "
                "lease_until = :zero, confirmed_by = :by, confirmed_at = :at",
                ConditionExpression="#status = :held",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":processing": "processing",
                    ":progress": asdict(progress),
                    ":zero": 0,
                    ":held": "held_for_review",
                    ":by": confirmed_by,
                    ":at": confirmed_at,
                },
            )
        except ConditionFailed:
            raise Conflict(
                "only a delivery that is held for review can be confirmed",
                code="delivery_not_held",
            ) from None
        try:
            self.queue.send({"resume": {"delivery_id": delivery_id}})
        except Exception:
            # Nothing will resume it: put it back on hold so the administrator can confirm again.
            self.table.update(
                pk,
                keys.DELIVERY_SK,
                UpdateExpression="SET #status = :held",
                ConditionExpression="#status = :processing",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":held": "held_for_review", ":processing": "processing"},
            )
            raise
        return updated


def build_report(
    record: Item, progress: Progress, status: str, finished_at: str | None
) -> DeliveryReport:
    truncated = sum(progress.error_counts.values()) > len(progress.errors)
    return DeliveryReport(
        delivery_id=record["delivery_id"],
        partner_id=record["partner_id"],
        object_key=record["object_key"],
        kind=record["kind"],
        received_at=record["received_at"],
        status=status,
        rows_total=progress.rows_total,
        rows_accepted=progress.rows_accepted,
        rows_rejected=progress.rows_rejected,
        rows_superseded=progress.rows_superseded,
        policies_written=progress.policies_written,
        policies_ended=progress.policies_ended,
        policies_pending_removal=progress.pending_removal,
        warnings=list(progress.warnings),
        errors=progress.errors,
        error_counts=dict(progress.error_counts),
        errors_truncated=truncated,
        confirmed_by=record.get("confirmed_by"),
        confirmed_at=record.get("confirmed_at"),
        finished_at=finished_at,
    )


REPORT_CSV_TYPE = "text/csv; charset=utf-8"
REPORT_CSV_COLUMNS = ("file", "line", "column", "code", "message", "message_en")


def report_csv(report: DeliveryReport) -> str:
    """The report's errors for a spreadsheet, one per line; the file name is the partner's own,
    so every cell is neutralised against formulas."""
    file_name = report.object_key.rsplit("/", 1)[-1]
    return spreadsheet_csv(
        REPORT_CSV_COLUMNS,
        ((file_name, e.line, e.column, e.code, e.message, e.message_en) for e in report.errors),
    )


def report_from_record(record: Item) -> DeliveryReport:
    progress = Progress.from_record(record)
    status = str(record.get("status", "processing"))
    return build_report(record, progress, status, record.get("finished_at"))


__all__ = [
    "IngestService",
    "build_report",
    "delivery_id_for",
    "report_csv",
    "report_from_record",
]
