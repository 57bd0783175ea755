"""Ingest: one uploaded portfolio file becomes validated rows in the register, a report and a
delivery record.

The file is streamed and written in batches. After every batch the delivery record holds a
checkpoint (byte offset, counters, errors so far), so a delivery survives a Lambda that runs out
of time (it hands over to a follow-up invocation through the ingest queue) or dies (SQS delivers
the message again once the lease has lapsed). Partners' deliveries run in parallel; a partner's
own deliveries take turns in the partner's lane, oldest first, and one that has to wait goes
back on the queue with a delay (not a failure, so never to the dead-letter queue). A policy whose
stored `data_seq` is newer than this delivery is left alone.

What is decided is in `chalicelib/rules/ingest.py`; this module reads, writes and hands over.
"""

from __future__ import annotations

import gc
import json
from array import array
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import S3Event

from chalicelib import clock, deadline
from chalicelib.config import Settings, get_settings
from chalicelib.errors import ConditionFailed, Conflict, NotFound, Replaced, StoreRefused
from chalicelib.messages import LEGACY_HELD_MARK, bilingual, render
from chalicelib.models.delivery import (
    DeliveryNoticeMessage,
    DeliveryRecord,
    DeliveryReport,
    Notice,
    Progress,
    ReportError,
    S3ObjectRef,
    notice,
)
from chalicelib.models.portfolio import DeliveryKind, RowError, RowOutcome, ValidRow
from chalicelib.models.quality import QualitySnapshot
from chalicelib.observability import logger, metrics
from chalicelib.rules import ingest as rules
from chalicelib.rules.dates import expires_at
from chalicelib.rules.ingest import MAX_ROWS_PER_POLICY, PolicyGroup, message
from chalicelib.rules.notices import needs_notice, notice_id
from chalicelib.rules.quality import FieldTally, client_entry, count_clients, summarise
from chalicelib.rules.rows import kept_labels, map_header, validate_row
from chalicelib.rules.spreadsheet import spreadsheet_csv, spreadsheet_lines
from chalicelib.rules.unknown_columns import note_unknown, unknown_columns_warning
from chalicelib.services.identity import IdentityResolver, PolicyParties
from chalicelib.services.reader import (
    BLANK_RUN,
    BadLine,
    BlankLines,
    FileFormat,
    FileRejected,
    KeysSeen,
    RawRow,
    ReadLimits,
    ResumePoint,
    RowReader,
    open_rows,
)
from chalicelib.store.aws import one_more_call_seconds
from chalicelib.store.blobs import Blobs, Prefix
from chalicelib.store.deliveries import DeliveryStore, DynamoDeliveries
from chalicelib.store.identity import DynamoIdentities, IdentityStore
from chalicelib.store.lanes import DynamoLanes, Entry, LaneStore
from chalicelib.store.portfolio import DynamoPortfolio, PortfolioStore
from chalicelib.store.quality import DynamoQuality, QualityStore
from chalicelib.store.queues import Queue
from chalicelib.store.register_items import POLICY_TRACES, policy_items
from chalicelib.store.table import BATCH_GET_MAX, Item

RemainingMs = Callable[[], int]
# A delivery whose partner's earlier one left the lane starts this long after (see _leave_lane).
WAKE_DELAY_SECONDS = 1

# Objects a delivery needs while it runs (kept by the ingest only, expired by the bucket).
WORK_PREFIX = "work/"
# A check-only delivery (no checkpoint per batch) writes a part of its rejected-rows file
# whenever this many errors wait, so a file of only bad rows never holds them all in memory.
REJECTED_PART_ROWS = 20_000
# How many of a full delivery's client parts (one per checkpoint) are read at once at its end.
CLIENT_PART_READERS = 8


@dataclass(slots=True)
class _Batch:
    """The policies read since the last checkpoint: judged as each one's rows end, written
    (or, check-only, counted) together."""

    tally: FieldTally
    writes: bool
    rows: int = 0  # rows of the batch's policies (overflow beyond a policy's limit not counted)
    first_line: int = 0
    end_offset: int = 0
    last_line: int = 0
    accepted: int = 0  # check-only: rows a real delivery would store
    writable: list[tuple[PolicyGroup, list[ValidRow]]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


class IngestService:
    def __init__(
        self,
        *,
        settings: Settings | None = None,
        deliveries: DeliveryStore | None = None,
        portfolio: PortfolioStore | None = None,
        blobs: Blobs | None = None,
        queue: Queue | None = None,
        lanes: LaneStore | None = None,
        now: Callable[[], datetime] | None = None,
        identities: IdentityStore | None = None,
        quality: QualityStore | None = None,
        mail_queue: Queue | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        self.deliveries = deliveries or DynamoDeliveries()
        self.portfolio = portfolio or DynamoPortfolio()
        self.blobs = blobs or Blobs()
        self.queue = queue or Queue(self.settings.ingest_queue_url)
        self.lanes = lanes or DynamoLanes()
        self.now = now or clock.now
        self.identity = IdentityResolver(
            identities or DynamoIdentities(),
            key=self.settings.client_id_key,
            # identity buckets are refreshed as seldom as unchanged policy items
            refresh_seconds=self.settings.retention_refresh_months * 30 * 24 * 3600,
        )
        # Deliveries that hold their partner's turn in this invocation, those of them that a
        # newer full delivery already replaced (every row superseded), and the policies that
        # newer deliveries, finished before an older one got its turn, contained unchanged.
        self._turns: set[str] = set()
        self._replaced: set[str] = set()
        self._applied_later: dict[str, rules.PolicyNumbers] = {}
        # The policies a check-only delivery accepted or refused so far (a real delivery would
        # have written or refused them): a later row of one of them is apart from its policy.
        self._checked: set[str] = set()
        # Per delivery, the policies it contained but left unwritten (unchanged, or refused for a
        # row error) in its batches up to the last checkpoint: rows of one of them in a later
        # batch are split in the file.
        self._left_unwritten: dict[str, rules.PolicyNumbers] = {}
        # Per delivery being read, what its reader saw of JSON Lines keys outside the values
        # (unknown keys, a BSN key): noted in the progress whenever it is saved.
        self._keys_seen: dict[str, KeysSeen] = {}
        self.quality = quality or DynamoQuality()
        self.mail_queue = mail_queue or Queue(self.settings.activation_queue_url)

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
        for record in S3Event(document).records if document.get("Records") else ():
            if not str(record.get("eventName", "")).startswith("ObjectCreated"):
                continue
            s3_object = record.s3.get_object
            if rules.names_a_folder(s3_object.key):
                logger.info("folder created in the bucket skipped")
                continue
            ref = S3ObjectRef(
                bucket=record.s3.bucket.name,
                key=s3_object.key,
                size=int(s3_object.get("size") or 0),
                etag=s3_object.get("eTag"),
                version_id=s3_object.version_id,
                sequencer=str(s3_object.get("sequencer") or ""),
                event_time=record.get("eventTime") or self.now().isoformat(),
            )
            self.start(ref, remaining_ms)

    # ---------------------------------------------------------------- lifecycle

    def start(self, ref: S3ObjectRef, remaining_ms: RemainingMs) -> None:
        key = rules.read_object_key(ref.key)
        received = rules.received_at(ref)
        record = DeliveryRecord(
            delivery_id=rules.delivery_id_for(ref),
            partner_id=key.partner_id,
            kind=key.kind,
            bucket=ref.bucket,
            object_key=ref.key,
            # S3's notification names the version in a versioned bucket; where it does not
            # (the embedded AWS), the version that still has the notified content.
            version_id=ref.version_id or self.blobs.version_of(ref.key, etag=ref.etag),
            etag=ref.etag,
            received_at=received.isoformat(),
            seq=rules.delivery_seq(ref),
            expires_at=expires_at(received, self.settings.retention_months),
            lease_until=self._lease_until(),
            progress=Progress(client_parts=0),
        )
        claimed = self.deliveries.claim(record, now=self._epoch())
        if claimed is None:
            logger.info(
                "duplicate delivery event ignored", extra={"delivery_id": record.delivery_id}
            )
            self._settle_if_final(self.deliveries.get(record.delivery_id, consistent=True))
            return
        problem = rules.unacceptable(key, self.settings.partners)
        if problem is not None:
            claimed.progress.rejected = True
            self._add_error(claimed.progress, problem)
            self._finish(claimed)
            return
        self._take_turn(claimed, remaining_ms)

    def resume(self, delivery_id: str, remaining_ms: RemainingMs) -> None:
        record = self.deliveries.get(delivery_id, consistent=True)
        if record is None or record.status != "processing":
            logger.info("resume of a finished or unknown delivery ignored")
            self._settle_if_final(record)
            return
        claimed = self.deliveries.take_lease(
            delivery_id, lease_until=self._lease_until(), now=self._epoch()
        )
        if claimed is None:
            logger.info("delivery is being processed elsewhere", extra={"delivery_id": delivery_id})
            return
        self._take_turn(claimed, remaining_ms)

    def _settle_if_final(self, record: DeliveryRecord | None) -> None:
        """A message retried after its delivery was marked final: the invocation that finished
        it may have failed (or been killed) before it left its partner's lane, which would
        keep every later delivery of the partner waiting, or before it removed the upload.
        Leaving and removing twice change nothing."""
        if record is None or record.status == "processing":
            return
        if rules.writes_register(record.kind):
            self._leave_lane(record)
        self._remove_upload(record)

    def _remove_upload(self, record: DeliveryRecord) -> None:
        """Once a delivery is final or held, its file is never read again (a confirmation only
        ends missing policies), so the partner's upload is removed for good: it may hold a BSN,
        under `BSNR` or a label the contract does not read, and columns the register does not
        keep. Only the version this delivery read: a later upload under the same name is
        another delivery. Where the version is unknown (a bucket without versions), the
        bucket's lifecycle rule removes the upload."""
        if record.version_id is None:
            logger.info(
                "upload's version unknown; left to the bucket's lifecycle",
                extra={"delivery_id": record.delivery_id},
            )
            return
        self.blobs.delete_version(record.object_key, record.version_id)

    def _leave_lane(self, record: DeliveryRecord) -> None:
        """Leave the partner's lane and wake the delivery whose turn it is now: its own resume
        message waits out INGEST_WAIT_SECONDS, this one starts it a second from now (the
        second lets a delivery that was just refused the turn release its lease first, or the
        wake would find it leased and be dropped). Of the two messages, the later one finds it
        leased or final and is dropped."""
        following = self.lanes.leave(
            record.partner_id,
            record.delivery_id,
            seq=record.seq,
            replaced_portfolio=rules.reconcilable(record.kind, record.progress),
        )
        if following is not None:
            self.queue.send(
                {"resume": {"delivery_id": following}}, delay_seconds=WAKE_DELAY_SECONDS
            )

    def _take_turn(self, record: DeliveryRecord, remaining_ms: RemainingMs) -> None:
        """Run the delivery if it is its partner's turn; otherwise queue it to try again later.
        Waiting is not a failure: the message is done, a new one carries the delivery. A
        check-only delivery writes nothing to the register, so it needs no turn."""
        if not rules.writes_register(record.kind):
            self._run(record, remaining_ms)
            return
        entry = Entry(
            partner_id=record.partner_id,
            delivery_id=record.delivery_id,
            seq=record.seq,
            lease_until=record.lease_until or self._lease_until(),
            expires_at=record.expires_at,
        )
        turn = self.lanes.enter(entry, now=self._epoch())
        if not turn.granted:
            # The lease first: a resume that arrives before it is released would be dropped.
            self.deliveries.release_lease(record.delivery_id)
            self.queue.send(
                {"resume": {"delivery_id": record.delivery_id}},
                delay_seconds=self.settings.ingest_wait_seconds,
            )
            logger.info(
                "delivery waits for its partner's earlier delivery",
                extra={"delivery_id": record.delivery_id, "partner_id": record.partner_id},
            )
            metrics.add_metric(name="DeliveryWaits", unit=MetricUnit.Count, value=1)
            return
        self._turns.add(record.delivery_id)
        if rules.portfolio_replaced_since(turn.full_seq, record.seq):
            self._replaced.add(record.delivery_id)
        elif turn.too_late:
            record.progress.rejected = True
            self._add_error(record.progress, message("arrived_too_late"))
            self._finish(record)
            return
        elif turn.newer:
            # Its notification came late: what the newer ones contained stays as they left it.
            self._applied_later[record.delivery_id] = rules.PolicyNumbers(
                number
                for newer in turn.newer
                for number in self.portfolio.seen(newer, refused=False)
            )
        self._run(record, remaining_ms)

    def _epoch(self) -> int:
        return int(self.now().timestamp())

    def _lease_until(self) -> int:
        return self._epoch() + self.settings.ingest_lease_seconds

    def _add_error(self, progress: Progress, error: RowError) -> None:
        progress.add_error(error, self.settings.max_report_errors)

    def _run(self, record: DeliveryRecord, remaining_ms: RemainingMs) -> None:
        try:
            self._advance(record, remaining_ms)
        except StoreRefused:
            # DynamoDB refuses a request of this delivery itself (not a policy's items: those
            # become row errors); a retry would be refused the same way for hours.
            self._refuse(record)
        except Exception:
            # Let the retry of this message resume from the last checkpoint at once instead of
            # waiting for the lease to lapse.
            try:
                self.deliveries.release_lease(record.delivery_id)
            except Exception:
                logger.warning(
                    "lease not released; it lapses by itself",
                    extra={"delivery_id": record.delivery_id},
                )
            raise

    def _refuse(self, record: DeliveryRecord) -> None:
        """End the delivery as rejected, with what its last checkpoint holds and the reason."""
        logger.error("DynamoDB refused the delivery", extra={"delivery_id": record.delivery_id})
        stored = self.deliveries.get(record.delivery_id, consistent=True) or record
        stored.progress.rejected = True
        self._add_error(stored.progress, rules.storage_refused())
        self._finish(stored)

    def _advance(self, record: DeliveryRecord, remaining_ms: RemainingMs) -> None:
        """Go on from the saved phase. Every phase change is saved before the next phase starts,
        so a retry never re-reads a file it already finished."""
        progress = record.progress
        if progress.phase == "rows":
            with _collector_skips_the_app():
                if not self._ingest_rows(record, remaining_ms):
                    return
            if rules.no_valid_rows(progress):
                progress.rejected = True
                self._add_error(
                    progress,
                    message("no_valid_rows"),
                )
            reconcilable = rules.reconcilable(record.kind, progress)
            unreconciled = rules.unreconciled_warning(record.kind, progress)
            if unreconciled is not None:
                progress.warn(unreconciled)
            progress.phase = "reconcile" if reconcilable else "done"
            if rules.writes_register(record.kind):
                # A check-only delivery is finished next; a retry after a crash in between
                # validates the file again, which changes nothing.
                self._checkpoint(record)
        if progress.phase == "reconcile":
            self._decide_removals(record)
            self._checkpoint(record)
        if progress.phase == "ending" and not self._end_missing(record, remaining_ms):
            return
        self._finish(record)

    # ---------------------------------------------------------------- rows

    def _open(self, record: DeliveryRecord) -> RowReader:
        progress = record.progress
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
        stream = self.blobs.open(
            record.object_key, start=start, version_id=record.version_id, etag=record.etag
        )
        reader = open_rows(stream, filename=record.object_key, limits=limits, resume=resume)
        if progress.format is None:
            progress.format = asdict(reader.format)
            progress.format["labels"] = kept_labels(reader.format.labels)
        return reader

    def _ingest_rows(self, record: DeliveryRecord, remaining_ms: RemainingMs) -> bool:
        """Stream the rows into the register. False when it handed over to a follow-up."""
        progress = record.progress
        kind: DeliveryKind = rules.validation_kind(record.kind)
        first_time = progress.format is None
        try:
            rows = self._open(record)
        except FileRejected as exc:
            return self._file_failed(progress, exc, first_time)
        except NotFound:
            progress.rejected = True
            self._add_error(
                progress,
                message("object_missing"),
            )
            return True
        except Replaced:
            # A new upload under the same name is its own delivery; this one ends where it is.
            return self._file_failed(progress, FileRejected("object_replaced"), first_time)
        assert progress.format is not None
        # The labels as delivered the first time (the unknown ones named below), else as kept.
        header = map_header(list(rows.format.labels), kind)
        if header.missing:
            progress.rejected = True
            missing = ", ".join(header.missing)
            self._add_error(
                progress,
                message("missing_columns", line=1, columns=missing),
            )
            return True
        if header.has_bsn and progress.format["type"] == "csv":
            # A JSON Lines file always has the column (any object may carry a BSN key): the
            # count of BSNs dropped says when one did.
            progress.warn(notice("bsn_column"))
        if header.duplicates:
            progress.warn(notice("duplicate_columns", columns=", ".join(header.duplicates)))
        progress.unknown_columns, progress.unknown_columns_more = note_unknown(
            progress.unknown_columns, progress.unknown_columns_more, header.unknown
        )
        self._keys_seen[record.delivery_id] = rows.keys_seen
        self._left_unwritten[record.delivery_id] = rules.PolicyNumbers(
            () if first_time else self.portfolio.seen_until(record.delivery_id, progress.line)
        )
        today = clock.register_date(self.now())
        tally = FieldTally()
        count_fields = tally.add
        batch = _Batch(tally, writes=rules.writes_register(record.kind))
        if not batch.writes:
            self._load_checked(record)
        batch_limit = self.settings.ingest_batch_rows
        # Counted in plain ints and added to the progress when the batch is saved: a pydantic
        # attribute per row costs more than the grouping itself.
        rows_total = bsn_dropped = 0
        group: PolicyGroup | None = None
        # The current policy's number and kept rows (the group's own lists, kept in locals: the
        # loop appends to them for every row).
        number_of_group: str | None = None
        outcomes: list[RowOutcome] = []
        lines: list[int] = []
        last: RawRow | BadLine = RawRow(0, 0, [])  # the current policy's last line so far
        try:
            for item in rows:
                if isinstance(item, BadLine):
                    if not isinstance(item, BlankLines):
                        # A line the reader could not turn into values (too long, not JSON).
                        rows_total += 1
                        progress.rows_rejected += 1
                        progress.unreadable_lines += 1
                        self._add_error(
                            progress,
                            message(item.code, key=item.message_key, line=item.line),
                        )
                    if group is not None:
                        last = item
                    # A file of nothing but bad or blank lines has no policy boundary to hand
                    # over at: out of time, hand over here, unless the lines may still be
                    # inside a policy whose next row is to come.
                    if (
                        group is None or item.line - lines[-1] > BLANK_RUN
                    ) and remaining_ms() < self.settings.ingest_min_remaining_ms:
                        self._stop_reading(record, group, item, batch, rows_total, bsn_dropped)
                        progress.offset = item.end_offset
                        progress.line = item.last_line or item.line
                        self._hand_over(record)
                        return False
                    continue
                outcome = validate_row(item.values, header, kind=kind, line=item.line, today=today)
                number = outcome.policy_number
                # (number_of_group is None while there is no group yet.) A row without a usable
                # policy number but with a party stays in the open group: it may be one of its
                # rows, so that policy is refused whole rather than written without it.
                if number != number_of_group and (
                    number is not None or group is None or not rules.of_unknown_policy(outcome)
                ):
                    if group is not None:
                        self._close(record, group, last, batch)
                    if batch.rows >= batch_limit:
                        progress.rows_total += rows_total
                        progress.bsn_dropped += bsn_dropped
                        rows_total = bsn_dropped = 0
                        self._flush(record, batch)
                        batch = _Batch(tally, writes=batch.writes)
                        if remaining_ms() < self.settings.ingest_min_remaining_ms:
                            # This row is re-read by the follow-up: the checkpoint is before it.
                            tally.fold_into(progress.quality)
                            self._hand_over(record)
                            return False
                    group = PolicyGroup(number)
                    number_of_group, outcomes, lines = number, group.outcomes, group.lines
                rows_total += 1
                if outcome.bsn_dropped:
                    bsn_dropped += 1
                if len(lines) < MAX_ROWS_PER_POLICY:
                    outcomes.append(outcome)
                    lines.append(item.line)
                else:
                    # Past the policy's limit: not judged with it, but its fields count.
                    group.overflow += 1  # type: ignore[union-attr]
                    count_fields(outcome)
                last = item
        except FileRejected as exc:
            # Unreadable from here on (e.g. the uncompressed size limit): what came before stays.
            self._stop_reading(record, group, last, batch, rows_total, bsn_dropped)
            return self._file_failed(progress, exc, first_time and progress.rows_total == 0)
        self._stop_reading(record, group, last, batch, rows_total, bsn_dropped)
        if progress.rows_total == 0:
            progress.rejected = True
            self._add_error(
                progress,
                message("empty_file", key="no_rows", line=1),
            )
        return True

    def _stop_reading(
        self,
        record: DeliveryRecord,
        group: PolicyGroup | None,
        last: RawRow | BadLine,
        batch: _Batch,
        rows_total: int,
        bsn_dropped: int,
    ) -> None:
        """Reading stops (the file's end, an unreadable rest, or a hand-over between lines that
        are no rows): the rows counted since the last batch go into the progress, the open
        policy is judged with `last` as its last line, and the batch is written with its field
        counts."""
        progress = record.progress
        progress.rows_total += rows_total
        progress.bsn_dropped += bsn_dropped
        if group is not None:
            self._close(record, group, last, batch)
        self._flush(record, batch)
        batch.tally.fold_into(progress.quality)

    def _file_failed(self, progress: Progress, exc: FileRejected, nothing_written: bool) -> bool:
        self._add_error(progress, message(exc.code, key=exc.message_key, line=exc.line))
        if nothing_written:
            progress.rejected = True
        else:
            progress.truncated = True
        return True

    def _close(
        self, record: DeliveryRecord, group: PolicyGroup, last: RawRow | BadLine, batch: _Batch
    ) -> None:
        """A policy's rows are all read (`last` is its last line): judge it at once (its rows
        need not wait for the batch), keep it for the batch's write, or (check-only) count it."""
        progress = record.progress
        outcomes = group.outcomes
        if not batch.rows:
            batch.first_line = group.lines[0] if group.lines else progress.line
        batch.rows += len(outcomes)
        batch.end_offset, batch.last_line = last.end_offset, last.last_line or last.line
        rows = rules.writable_rows(group)
        if rows is None:
            verdict = rules.judge_group(group)
            rows = verdict.rows
        if rows is None:
            batch.tally.add_each(outcomes)
            progress.rows_rejected += verdict.rejected_rows
            progress.rows_of_unknown_policy += rules.rows_of_unknown_policy(outcomes)
            for error in verdict.errors:
                self._add_error(progress, error)
            if group.policy_number is not None:
                batch.refused.append(group.policy_number)
                if not batch.writes:
                    self._checked.add(group.policy_number)
            return
        batch.tally.add_valid(outcomes)
        number = rows[0].policy.policy_number
        if number in batch.refused or (not batch.writes and number in self._checked):
            # Its earlier rows were refused in this batch, or (check-only) judged before: these
            # rows are apart from them, as `_write` finds for a policy of an earlier batch.
            progress.rows_rejected += len(rows)
            self._add_error(progress, rules.rows_not_adjacent(group))
        elif batch.writes:
            batch.writable.append((group, rows))
        else:
            self._checked.add(number)
            batch.accepted += len(rows)

    def _flush(self, record: DeliveryRecord, batch: _Batch) -> None:
        """Write the batch's policies, then checkpoint: the counters, the field counts of its
        rows and the offset after it move together, so a resumed delivery counts every row
        once. A check-only delivery saves nothing here: its field counts are folded in when it
        hands over or ends."""
        progress = record.progress
        progress.rows_accepted += batch.accepted
        if batch.writes:
            batch.tally.fold_into(progress.quality)
        if not batch.rows:
            return
        if batch.writes:
            unchanged = self._write(record, batch.writable)
            # Policies the delivery contains without writing them: an unchanged one (an older
            # delivery arriving late leaves it alone) and a refused one (a full delivery does not
            # end it for a typo; a later row of either in this file is apart from its policy).
            self.portfolio.note_seen(
                record.delivery_id,
                batch.first_line,
                unchanged,
                refused=batch.refused,
                expires_at=record.expires_at,
            )
        progress.offset = batch.end_offset
        progress.line = batch.last_line or progress.line
        if batch.writes:
            # A check-only delivery writes nothing, so it saves its place only when it hands
            # over: a retry after a crash validates again from there, which changes nothing.
            self._checkpoint(record)
            self._left_unwritten[record.delivery_id].add([*unchanged, *batch.refused])
        elif progress.unsaved_error_count() >= REJECTED_PART_ROWS:
            # Not a checkpoint: a retry writes this part again, the same, under its number.
            self._save_rejected(record)

    def _write(
        self, record: DeliveryRecord, writable: list[tuple[PolicyGroup, list[ValidRow]]]
    ) -> list[str]:
        """Write the batch's policies; the numbers of those stored unchanged (not written)."""
        if not writable:
            return []
        progress = record.progress
        unchanged: list[str] = []
        earliest_expiry = self._earliest_expiry(record)
        seq = record.seq
        # Consistent: this read decides what is left unwritten as unchanged, so a stale answer
        # (the partner's previous delivery just wrote the policy) would lose an update.
        existing = self.portfolio.policies(
            record.partner_id,
            [rows[0].policy.policy_number for _, rows in writable],
            consistent=True,
        )
        in_this_batch: set[str] = set()
        accepted: list[tuple[PolicyGroup, list[ValidRow], Item | None]] = []
        for group, rows in writable:
            policy = rows[0].policy
            number = policy.policy_number
            current = existing.get(number)
            if (
                record.delivery_id in self._replaced
                or rules.superseded(current, seq)
                or number in self._applied_later.get(record.delivery_id, ())
            ):
                progress.rows_superseded += len(rows)
                continue
            if (
                number in in_this_batch
                or number in self._left_unwritten[record.delivery_id]
                or rules.written_earlier_in_delivery(current, seq, group)
            ):
                progress.rows_rejected += len(rows)
                self._add_error(progress, rules.rows_not_adjacent(group))
                continue
            in_this_batch.add(number)
            accepted.append((group, rows, current))
        identities = self.identity.resolve(
            record.partner_id,
            [
                PolicyParties(rows[0].policy.policy_number, [row.party for row in rows], current)
                for _, rows, current in accepted
            ],
            seq=seq,
            expires_at=record.expires_at,
            now=self._epoch(),
        )
        planned: list[tuple[PolicyGroup, list[dict[str, object]], bool, list[str]]] = []
        delivery_day = record.day
        for (group, rows, current), client_ids, traces in zip(
            accepted, identities.client_ids, identities.traces, strict=True
        ):
            policy = rows[0].policy
            status, ended_on = rules.status_after(policy, current, delivery_day)
            if status == "cancelled" and policy.end_date is None:
                # The rows share one policy instance: the written one carries the end date.
                rows[0].policy = replace(policy, end_date=ended_on)
            items = policy_items(
                record.partner_id,
                rows,
                seq=seq,
                delivery_id=record.delivery_id,
                delivered_at=record.received_at,
                expires_at=record.expires_at,
                client_id_key=self.settings.client_id_key,
                status=status,
                ended_on=ended_on,
                first_seen_seq=str(current["first_seen_seq"]) if current else None,
                client_ids=client_ids,
                party_traces=traces,
            )
            items[0]["source_line"] = group.lines[0]
            # A policy stored before identity traces were kept is written once more to get them.
            if (
                rules.unchanged(current, items[0]["content_hash"], seq, earliest_expiry)
                and current is not None
                and POLICY_TRACES in current
            ):
                progress.existing_active_seen += rules.was_active_before(current, seq)
                progress.policies_unchanged += 1
                progress.rows_accepted += len(group.outcomes)
                unchanged.append(policy.policy_number)
                self._note_clients(record, group, client_ids)
                continue
            planned.append((group, items, rules.was_active_before(current, seq), client_ids))
        stored = self.portfolio.write_policies([items for _, items, _, _ in planned])
        for (group, _, seen_active, client_ids), ok in zip(planned, stored, strict=True):
            if not ok:
                progress.rows_rejected += len(group.outcomes)
                for line in group.lines:
                    self._add_error(progress, rules.policy_refused(group, line))
                continue
            progress.existing_active_seen += seen_active
            progress.policies_written += 1
            progress.rows_accepted += len(group.outcomes)
            self._note_clients(record, group, client_ids)
        return unchanged

    def _note_clients(
        self, record: DeliveryRecord, group: PolicyGroup, client_ids: list[str]
    ) -> None:
        """The clients of a policy a full delivery stored (written or unchanged), for the
        count of distinct clients each query form finds (the scorecard's)."""
        if record.kind == "full" and record.progress.client_parts is not None:
            record.progress.add_clients(map(client_entry, client_ids, group.outcomes))

    def _earliest_expiry(self, record: DeliveryRecord) -> int | None:
        """An unchanged policy whose stored expiry is this or later is not written again; None:
        every policy is written again (no refresh window)."""
        if self.settings.retention_refresh_months == 0:
            return None
        months = self.settings.retention_months - self.settings.retention_refresh_months
        return expires_at(datetime.fromisoformat(record.received_at), months)

    # ---------------------------------------------------------------- removals

    def _missing(self, record: DeliveryRecord) -> Iterator[list[dict[str, object]]]:
        """The missing policies in batches, each read fresh (consistent): a policy this
        delivery just wrote may still look missing in the eventually consistent index."""
        if record.delivery_id in self._replaced:
            # A newer full delivery replaced the portfolio after this one (an old held delivery
            # confirmed late): that one ended what was missing; this one ends nothing.
            return
        batch_size = min(self.settings.ingest_batch_rows, BATCH_GET_MAX)
        candidates: list[str] = []
        # Contained without being written (unchanged or refused): their seen_seq is older.
        seen = rules.PolicyNumbers(self.portfolio.seen(record.delivery_id))
        applied_later = self._applied_later.get(record.delivery_id, ())
        day = record.day

        def confirmed() -> list[dict[str, object]]:
            fresh = self.portfolio.policies(record.partner_id, candidates, consistent=True)
            return [p for p in fresh.values() if rules.missing_from(p, record.seq, day)]

        for number in self.portfolio.active_not_seen(record.partner_id, record.seq):
            if number in seen or number in applied_later:
                continue
            candidates.append(number)
            if len(candidates) == batch_size:
                batch = confirmed()
                candidates = []
                if batch:
                    yield batch
        if candidates:
            batch = confirmed()
            if batch:
                yield batch

    def _decide_removals(self, record: DeliveryRecord) -> None:
        progress = record.progress
        missing = sum(len(batch) for batch in self._missing(record))
        decision = rules.decide_removals(
            missing, progress.existing_active_seen, self.settings.full_delivery_max_removal_pct
        )
        if decision.held:
            progress.policies_pending_removal = missing
            progress.phase = "held"
            progress.warn(rules.held_warning(decision))
            return
        progress.phase = "ending" if missing else "done"

    def _end_missing(self, record: DeliveryRecord, remaining_ms: RemainingMs) -> bool:
        """End the missing policies batch by batch; False when it handed over to a follow-up.

        Before a batch is written its policy numbers are saved with the checkpoint; a retry
        after a kill counts the ones that were ended, so `policies_ended` is exact. Ended
        policies leave the ACTIVE index, so a follow-up's query starts where this one stopped."""
        progress = record.progress
        if progress.ending_batch:
            saved = self.portfolio.policies(
                record.partner_id, progress.ending_batch, consistent=True
            )
            progress.policies_ended += sum(
                1 for policy in saved.values() if rules.ended_by(policy, record.seq)
            )
            progress.ending_batch = []
        for batch in self._missing(record):
            progress.ending_batch = [str(policy["policy_number"]) for policy in batch]
            self._checkpoint(record)
            self.portfolio.end(batch, day=record.day, seq=record.seq)
            progress.policies_ended += len(batch)
            progress.ending_batch = []
            if remaining_ms() < self.settings.ingest_min_remaining_ms:
                self._hand_over(record)
                return False
        progress.policies_pending_removal = 0
        progress.phase = "done"
        return True

    # ---------------------------------------------------------------- records

    def _checkpoint(self, record: DeliveryRecord) -> None:
        self._note_keys_seen(record)
        self._save_rejected(record)
        self._save_clients(record)
        self.deliveries.checkpoint(record.delivery_id, record.progress)

    def _client_part_key(self, record: DeliveryRecord, number: int) -> str:
        return f"{WORK_PREFIX}{record.delivery_id}/clients/{number:06d}"

    def _save_clients(self, record: DeliveryRecord) -> None:
        """Write the clients seen since the last part as the next part, sorted (as the
        rejected rows: a retry from a checkpoint writes the parts after it again under the same
        numbers, and a part beyond the last checkpoint's count is never read)."""
        progress = record.progress
        entries = progress.unsaved_clients()
        if not entries or progress.client_parts is None:
            return
        entries.sort()
        key = self._client_part_key(record, progress.client_parts)
        self.blobs.put_bytes(key, array("Q", entries).tobytes())
        progress.client_parts += 1

    def _count_clients(self, record: DeliveryRecord) -> None:
        """The full delivery's distinct clients and those each query form finds, from its
        client parts (read a few at a time in parallel, merged in order); counted once: a
        delivery confirmed after it was held keeps the count of its rows."""
        quality, saved = record.progress.quality, record.progress.client_parts
        if (
            record.kind != "full"
            or saved is None
            or quality.clients is not None
            or not quality.rows
        ):
            return
        keys = [self._client_part_key(record, n) for n in range(saved)]

        def read(key: str) -> array[int]:
            part = array("Q")
            part.frombytes(self.blobs.get_bytes(key))
            return part

        try:
            with ThreadPoolExecutor(max_workers=CLIENT_PART_READERS) as pool:
                parts = list(pool.map(read, keys))
        except NotFound:
            logger.warning(
                "client parts not found; the delivery's clients are not counted",
                extra={"delivery_id": record.delivery_id},
            )
            return
        quality.clients, quality.recognisable_clients = count_clients(parts)

    def _rejected_part_key(self, record: DeliveryRecord, number: int) -> str:
        return f"{WORK_PREFIX}{record.delivery_id}/rejected/{number:06d}"

    def _save_rejected(self, record: DeliveryRecord) -> None:
        """Write the errors noted since the last part as the rejected-rows file's next part.
        Every checkpoint saves its part first and counts it: a retry from a checkpoint writes
        the parts after it again under the same numbers (never a part twice), and a part
        numbered beyond the last checkpoint's count is never read (never a lost or extra
        line); the report's CSV is made of the counted parts when the delivery ends."""
        progress = record.progress
        errors = progress.unsaved_errors()
        if not errors:
            return
        file_name = record.object_key.rsplit("/", 1)[-1]
        lines = spreadsheet_lines(
            (file_name, e.line, e.column, e.code, e.message_nl, e.message_en) for e in errors
        )
        key = self._rejected_part_key(record, progress.rejected_parts)
        self.blobs.put_bytes(key, lines.encode(), content_type=REPORT_CSV_TYPE)
        progress.rejected_parts += 1

    def _checked_key(self, record: DeliveryRecord) -> str:
        return f"{WORK_PREFIX}{record.delivery_id}/checked/{record.progress.offset}"

    def _load_checked(self, record: DeliveryRecord) -> None:
        """A check-only delivery going on from a hand-over gets back the policies it had
        accepted up to there (saved with the hand-over)."""
        self._checked = set()
        if record.progress.offset:
            try:
                saved = self.blobs.get_bytes(self._checked_key(record))
            except NotFound:
                logger.warning(
                    "accepted policies of the check not found; split rows before the hand-over "
                    "go unnoticed",
                    extra={"delivery_id": record.delivery_id},
                )
                return
            self._checked = set(saved.decode().split("\n")) - {""}

    def _hand_over(self, record: DeliveryRecord) -> None:
        """Out of time: save where we are, release the lease, and queue the rest."""
        self._note_keys_seen(record, done=True)
        if not rules.writes_register(record.kind):
            self.blobs.put_bytes(
                self._checked_key(record), "\n".join(sorted(self._checked)).encode()
            )
        self._save_rejected(record)
        self._save_clients(record)
        self.deliveries.hand_over(record.delivery_id, record.progress)
        self.queue.send({"resume": {"delivery_id": record.delivery_id}})
        logger.info(
            "delivery handed over to a follow-up invocation",
            extra={"delivery_id": record.delivery_id, "rows_total": record.progress.rows_total},
        )

    def _note_keys_seen(self, record: DeliveryRecord, *, done: bool = False) -> None:
        """What the reader saw of the file's keys so far goes into the progress, to be saved
        with it; `done`: this invocation reads no further."""
        seen = (self._keys_seen.pop if done else self._keys_seen.get)(record.delivery_id, None)
        if seen is None:
            return
        progress = record.progress
        progress.unknown_columns, progress.unknown_columns_more = note_unknown(
            progress.unknown_columns, progress.unknown_columns_more, sorted(seen.unknown)
        )
        if seen.bsn_key:
            progress.warn(notice("bsn_column"))

    def _finish(self, record: DeliveryRecord) -> None:
        progress = record.progress
        self._note_keys_seen(record, done=True)
        if progress.bsn_dropped:
            progress.warn(notice("bsn_dropped", count=progress.bsn_dropped))
        unknown = unknown_columns_warning(progress.unknown_columns, progress.unknown_columns_more)
        if unknown is not None:
            progress.warn(unknown)
        record.status = rules.final_status(progress)
        record.finished_at = self.now().isoformat()
        self._save_clients(record)
        self._count_clients(record)
        self._save_rejected(record)
        self._write_rejected_rows(record)
        report = build_report(record)
        self.blobs.put_json(_report_key(record), report.model_dump(mode="json"))
        if record.kind == "full":
            # Also one that could not be read at all: the scorecard's latest, unscored, so the
            # partner whose data stopped arriving is not ranked by last month's delivery.
            self.quality.save(quality_snapshot(record))
        self._notify_partner(record)
        self.deliveries.finish(
            record.delivery_id,
            status=record.status,
            progress=progress,
            finished_at=record.finished_at,
        )
        if record.delivery_id in self._turns:
            self._leave_lane(record)
            self._turns.discard(record.delivery_id)
            self._applied_later.pop(record.delivery_id, None)
        self._remove_upload(record)
        metrics.add_metric(name="RowsAccepted", unit=MetricUnit.Count, value=progress.rows_accepted)
        metrics.add_metric(name="RowsRejected", unit=MetricUnit.Count, value=progress.rows_rejected)
        metrics.add_metric(
            name="PoliciesEnded", unit=MetricUnit.Count, value=progress.policies_ended
        )
        logger.info(
            "delivery finished",
            extra={
                "delivery_id": record.delivery_id,
                "partner_id": record.partner_id,
                "status": record.status,
                "rows_total": progress.rows_total,
                "rows_accepted": progress.rows_accepted,
                "rows_rejected": progress.rows_rejected,
                "policies_ended": progress.policies_ended,
            },
        )

    def _write_rejected_rows(self, record: DeliveryRecord) -> None:
        """The report's rejected-rows file: the heading and every counted part. A delivery
        that finished before (held for review, now confirmed) keeps the file its report has and
        gets only the parts counted since appended: its earlier parts may be gone by now (the
        bucket expires work/ after 30 days; a confirmation may come any time). A retry appends to
        the same first bytes again, so no line is lost or doubled. A part that is gone (a
        delivery redriven from the dead-letter queue after the bucket expired it) is left out
        and the report says so: the delivery still ends, and leaves its partner's lane."""
        progress, key = record.progress, _rejected_rows_key(record)
        reported = progress.rejected_parts_reported
        if reported and reported == progress.rejected_parts:
            return
        head: bytes | Prefix = REJECTED_ROWS_HEAD
        if reported and progress.rejected_bytes_reported:
            head = Prefix(key, progress.rejected_bytes_reported)
        elif reported:
            logger.warning(
                "rejected-rows file of the held delivery not found; written anew",
                extra={"delivery_id": record.delivery_id},
            )
        missing: list[str] = []
        progress.rejected_bytes_reported = self.blobs.concatenate(
            key,
            head,
            [self._rejected_part_key(record, n) for n in range(reported, progress.rejected_parts)],
            content_type=REPORT_CSV_TYPE,
            missing=missing,
        )
        progress.rejected_parts_reported = progress.rejected_parts
        if missing:
            logger.warning(
                "parts of the rejected-rows file not found; left out",
                extra={"delivery_id": record.delivery_id, "parts": len(missing)},
            )
            progress.warn(notice("rejected_rows_incomplete"))

    def _notify_partner(self, record: DeliveryRecord) -> None:
        """Queue the partner's e-mail when the delivery needs them. Queued before the delivery
        is marked finished, so a crash in between queues it again (the worker sends it once)
        instead of losing it; the worker retries a message it reads before the mark."""
        progress = record.progress
        if record.partner_id not in self.settings.partner_contacts or not needs_notice(
            record.kind,
            record.status,
            progress.rows_total,
            progress.rows_rejected,
            self.settings.notice_rejected_rows_pct,
            unknown_policy_rows=progress.unreadable_lines + progress.rows_of_unknown_policy,
        ):
            return
        message = DeliveryNoticeMessage(
            delivery_id=record.delivery_id,
            status=record.status,
            idempotency_id=notice_id(record.delivery_id, record.status),
        )
        self.mail_queue.send(message.model_dump())

    # ---------------------------------------------------------------- review

    def release_held(self, delivery_id: str, *, confirmed_by: str) -> DeliveryRecord:
        """An administrator confirmed a held full delivery: end its missing policies."""
        record = self.deliveries.get(delivery_id, consistent=True)
        if record is None:
            raise NotFound("no such delivery", code="delivery_not_found")
        progress = record.progress
        progress.phase = "ending"
        if progress.rejected_bytes_reported is None:
            # Held by the previous version, which did not note what its report's file holds:
            # the parts counted so far (none is added while it is held).
            progress.rejected_parts_reported = progress.rejected_parts
            progress.rejected_bytes_reported = self.blobs.size(_rejected_rows_key(record)) or 0
        confirmed_at = self.now().isoformat(timespec="seconds")
        progress.drop_warnings("removals_held", LEGACY_HELD_MARK)
        progress.warn(notice("removals_confirmed", at=confirmed_at))
        try:
            updated = self.deliveries.confirm(
                delivery_id, progress=progress, by=confirmed_by, at=confirmed_at
            )
        except ConditionFailed:
            raise Conflict(
                "only a delivery that is held for review can be confirmed",
                code="delivery_not_held",
            ) from None
        try:
            # The request's deadline would refuse the undo below too if the send used it up.
            with deadline.leaving(one_more_call_seconds(self.settings)):
                self.queue.send({"resume": {"delivery_id": delivery_id}})
        except Exception:
            # Nothing will resume it: put it back on hold so the administrator can confirm again.
            self.deliveries.hold_again(delivery_id)
            raise
        return updated


@contextmanager
def _collector_skips_the_app() -> Iterator[None]:
    """While a file's rows are read, what was alive before them (the app and its AWS clients:
    some 120,000 objects) is left out of the cyclic garbage collector's full collections, which
    would otherwise walk all of it again every few thousand rows (15% of a check-only
    delivery's CPU at 30k rows). Handed back afterwards, so nothing stays out for good; the
    setting is the process's, and two threads reading files at once only share it."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _report_key(record: DeliveryRecord) -> str:
    return f"reports/{record.partner_id}/{record.delivery_id}.json"


def _rejected_rows_key(record: DeliveryRecord) -> str:
    return f"reports/{record.partner_id}/{record.delivery_id}.csv"


def build_report(record: DeliveryRecord) -> DeliveryReport:
    progress = record.progress
    truncated = sum(progress.error_counts.values()) > len(progress.errors)
    return DeliveryReport(
        delivery_id=record.delivery_id,
        partner_id=record.partner_id,
        object_key=record.object_key,
        kind=record.kind,
        received_at=record.received_at,
        status=record.status,
        **progress.counts(),
        warnings=[_warning_text(w) for w in progress.warnings],
        errors=[_report_error(e) for e in progress.errors],
        error_counts=dict(progress.error_counts),
        errors_truncated=truncated,
        quality=summarise(progress.quality) if progress.quality.rows else None,
        confirmed_by=record.confirmed_by,
        confirmed_at=record.confirmed_at,
        finished_at=record.finished_at,
    )


def quality_snapshot(record: DeliveryRecord) -> QualitySnapshot:
    """What the scorecard keeps of a finished full delivery: counts only."""
    return QualitySnapshot(
        delivery_id=record.delivery_id,
        partner_id=record.partner_id,
        received_at=record.received_at,
        status=record.status,
        quality=record.progress.quality,
        error_counts=dict(record.progress.error_counts),
        expires_at=record.expires_at,
    )


def _warning_text(warning: Notice | str) -> str:
    # A record checkpointed by the previous version holds the rendered text: shown as it is.
    if isinstance(warning, str):
        return warning
    return bilingual(warning["key"], warning["params"])


def _report_error(error: dict[str, Any]) -> ReportError:
    if "message" in error:  # checkpointed by the previous version: already rendered
        return ReportError.model_validate(error)
    key, params = error.get("key") or error["code"], error.get("params") or {}
    return ReportError(
        line=error["line"],
        column=error.get("column"),
        code=error["code"],
        message=render(key, params, "nl"),
        message_en=render(key, params, "en"),
    )


REPORT_CSV_TYPE = "text/csv; charset=utf-8"
REPORT_CSV_COLUMNS = ("file", "line", "column", "code", "message", "message_en")
REJECTED_ROWS_HEAD = spreadsheet_csv(REPORT_CSV_COLUMNS, ()).encode()


def report_csv(report: DeliveryReport) -> str:
    """The report's errors for a spreadsheet, one per line; the file name is the partner's own,
    so every cell is neutralised against formulas."""
    file_name = report.object_key.rsplit("/", 1)[-1]
    return spreadsheet_csv(
        REPORT_CSV_COLUMNS,
        ((file_name, e.line, e.column, e.code, e.message, e.message_en) for e in report.errors),
    )


__all__ = ["IngestService", "build_report", "report_csv"]
