"""Deliveries: the S3 notification we receive, and the delivery record/report we keep."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal
from urllib.parse import unquote_plus

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from chalicelib.clock import register_date
from chalicelib.models.paging import Cursor, cursor_position, page_cursor
from chalicelib.models.portfolio import RowError
from chalicelib.models.quality import DeliveryQuality, QualityCounts

DeliveryStatus = Literal[
    "processing", "accepted", "accepted_with_errors", "rejected", "held_for_review"
]
FINAL_STATUSES = frozenset({"accepted", "accepted_with_errors", "rejected", "held_for_review"})


class S3ObjectRef(BaseModel):
    """One uploaded object, as an S3 ObjectCreated notification names it."""

    model_config = ConfigDict(frozen=True)

    bucket: str
    key: str
    size: int = 0
    etag: str | None = None
    version_id: str | None = None
    sequencer: str = ""
    event_time: str

    @field_validator("key")
    @classmethod
    def _decoded(cls, value: str) -> str:
        # S3 event keys are URL-encoded, with '+' for a space.
        return unquote_plus(value)


class ReportError(BaseModel):
    line: int
    column: str | None = None
    code: str
    message: str
    message_en: str


class DeliveryCounts(BaseModel):
    """The counters of a delivery: kept in its progress while it runs, shown in its report."""

    rows_total: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    rows_superseded: int = 0
    policies_written: int = 0
    # Delivered again exactly as stored: nothing written (docs/configuration.md, "Retention").
    policies_unchanged: int = 0
    policies_ended: int = 0
    policies_pending_removal: int = 0

    def counts(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in DeliveryCounts.model_fields}


class _DeliveryIdentity(BaseModel):
    # Its own base only so that a report lists which delivery it is before its counters.
    delivery_id: str
    partner_id: str
    object_key: str
    kind: str
    received_at: str
    status: DeliveryStatus


class DeliveryReport(DeliveryCounts, _DeliveryIdentity):
    """The report a partner reads (reports/<partner_id>/<delivery_id>.json) and the API returns."""

    warnings: list[str] = Field(default_factory=list)
    errors: list[ReportError] = Field(default_factory=list)
    error_counts: dict[str, int] = Field(default_factory=dict)
    errors_truncated: bool = False
    quality: DeliveryQuality | None = Field(
        default=None, description="per field: filled, valid, rejected by code (counts only)"
    )
    confirmed_by: str | None = None
    confirmed_at: str | None = None
    finished_at: str | None = None


class DeliveryList(BaseModel):
    deliveries: list[DeliveryReport]
    # Where the next (older) page starts: pass it as `cursor`; null on the last page.
    next_cursor: str | None = None


# Every partner's deliveries (an administrator's listing without partner_id).
EVERY_PARTNER: Final = "*"
# A listing of the held deliveries only ends in this: its cursor reads on in no other listing.
HELD_LISTING: Final = "+held"

# What a delivery cursor stands for: the listing (one partner, also `_unknown` where files
# outside any partner's folder are filed, or every partner's; all their deliveries or the held
# ones) and where its page ended (the last delivery's receive time and id).
_DELIVERY_POSITION = re.compile(
    r"(?P<listing>(?:\*|[a-z0-9_][a-z0-9_-]{1,62})(?:\+held)?)/"
    r"(?P<received_at>\d{4}-\d{2}-\d{2}T[0-9:.+Z-]{1,40})#(?P<delivery_id>[0-9a-f]{32})"
)


@dataclass(frozen=True)
class PageEnd:
    """Where a page of a delivery listing ended: deliveries received before come next."""

    listing: str
    received_at: str
    delivery_id: str

    def cursor(self) -> str:
        return page_cursor(f"{self.listing}/{self.received_at}#{self.delivery_id}")


class DeliveriesQuery(BaseModel):
    """`GET /v1/deliveries?partner_id=&status=&limit=&cursor=`: newest first; `status`
    `held_for_review`: only the deliveries waiting for an administrator's confirm; `cursor` (an
    answer's `next_cursor`) reads on where the previous page of the same listing ended."""

    model_config = ConfigDict(extra="forbid")

    partner_id: str | None = Field(default=None, max_length=64)
    status: Literal["held_for_review"] | None = None
    limit: int = Field(default=50, ge=1, le=200)
    cursor: Cursor | None = None

    @field_validator("cursor")
    @classmethod
    def _a_cursor_of_a_delivery_listing(cls, cursor: str | None) -> str | None:
        if cursor is not None:
            cursor_position(cursor, _DELIVERY_POSITION)
        return cursor

    @property
    def previous_page_end(self) -> PageEnd | None:
        if self.cursor is None:
            return None
        found = cursor_position(self.cursor, _DELIVERY_POSITION)
        return PageEnd(found["listing"], found["received_at"], found["delivery_id"])


class DeliveryPath(BaseModel):
    delivery_id: str = Field(pattern=r"^[0-9a-f]{32}$")


class RejectedRowsLink(BaseModel):
    """Where a browser downloads a finished delivery's rejected-rows file itself (any size): a
    presigned link to the file in the bucket, which names only the partner and the delivery."""

    url: str = Field(description="a GET of this address downloads the CSV (no header needed)")
    file_name: str = Field(description="the name the download is saved under: <delivery_id>.csv")
    expires_in: int = Field(description="seconds the link stays valid")


DELIVERY_NOTICE: Final = "delivery_notice"


class DeliveryNoticeMessage(BaseModel):
    """What the mail queue carries to tell a partner about a delivery: ids and a status, never
    a delivered value (the worker reads the delivery's counts itself)."""

    model_config = ConfigDict(extra="ignore")

    kind: Literal["delivery_notice"] = "delivery_notice"
    delivery_id: str
    status: DeliveryStatus
    idempotency_id: str


# A warning as a delivery keeps it: the catalogue's message key and its parameters.
Notice = dict[str, Any]


def notice(key: str, **params: object) -> Notice:
    return {"key": key, "params": {name: str(value) for name, value in params.items()}}


class Progress(DeliveryCounts):
    """Everything a delivery carries from one invocation to the next: where the file is read up
    to, the counters its report shows, and the errors and warnings so far."""

    phase: str = "rows"  # rows -> reconcile -> (held) -> ending -> done
    offset: int = 0
    line: int = 1
    format: dict[str, Any] | None = None
    existing_active_seen: int = 0
    ending_batch: list[str] = Field(default_factory=list)  # policy numbers being ended
    bsn_dropped: int = 0
    # Lines that could not be read into values (rejected, and counted in rows_rejected): a full
    # delivery with one ends nothing, as the line may have held any policy.
    unreadable_lines: int = 0
    # Rows whose policy number could not be read (rejected): the same, for the same reason.
    rows_of_unknown_policy: int = 0
    # The file's labels outside the contract that the report names (labels only), and whether
    # it has more (rules.unknown_columns).
    unknown_columns: list[str] = Field(default_factory=list)
    unknown_columns_more: bool = False
    truncated: bool = False
    rejected: bool = False
    # A Notice, or the rendered text a record from the previous version holds.
    warnings: list[Notice | str] = Field(default_factory=list)
    errors: list[dict[str, Any]] = Field(default_factory=list)
    error_counts: dict[str, int] = Field(default_factory=dict)
    quality: QualityCounts = Field(default_factory=QualityCounts)
    # Every error goes to the rejected-rows file, in parts: how many parts are saved up to
    # this checkpoint, and (not stored) the errors since the last saved part.
    rejected_parts: int = 0
    _unsaved: list[RowError] = PrivateAttr(default_factory=list)
    # What the report's rejected-rows file holds once the delivery finished (a held one
    # finishes again after its confirmation): its first parts, and its size in bytes (None: held
    # by the previous version, which did not note it).
    rejected_parts_reported: int = 0
    rejected_bytes_reported: int | None = None
    # A full delivery's clients (rules.quality.client_entry numbers) go to work files the same
    # way, counted when it ends: the parts saved up to this checkpoint, and those since. None:
    # the delivery started before clients were counted (its first rows' clients are in no
    # part), so its clients are not counted at all rather than some of them.
    client_parts: int | None = None
    _unsaved_clients: list[int] = PrivateAttr(default_factory=list)

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> Progress:
        fields = dict(stored)
        if "pending_removal" in fields:  # the previous version's name for the counter
            fields.setdefault("policies_pending_removal", fields.pop("pending_removal"))
        return cls.model_validate(fields)

    def stored(self) -> dict[str, Any]:
        return self.model_dump()

    def add_error(self, error: RowError, cap: int) -> None:
        """Kept as code and parameters: the report renders the text when it is built. The
        report keeps the first `cap`; the rejected-rows file gets every one."""
        self.error_counts[error.code] = self.error_counts.get(error.code, 0) + 1
        self._unsaved.append(error)
        if len(self.errors) < cap:
            self.errors.append(
                {
                    "line": error.line,
                    "column": error.column,
                    "code": error.code,
                    "key": error.message_key,
                    "params": dict(error.params),
                }
            )

    def unsaved_error_count(self) -> int:
        return len(self._unsaved)

    def unsaved_errors(self) -> list[RowError]:
        """The errors since the last saved part of the rejected-rows file (then none)."""
        unsaved, self._unsaved = self._unsaved, []
        return unsaved

    def add_clients(self, entries: Iterable[int]) -> None:
        self._unsaved_clients.extend(entries)

    def unsaved_clients(self) -> list[int]:
        """The clients seen since the last saved part (then none)."""
        unsaved, self._unsaved_clients = self._unsaved_clients, []
        return unsaved

    def warn(self, warning: Notice) -> None:
        if warning not in self.warnings:
            self.warnings.append(warning)

    def drop_warnings(self, key: str, legacy_mark: str) -> None:
        """Drop the warnings of catalogue message `key`, and those a record checkpointed by the
        previous version holds as "nl / en" text containing `legacy_mark`."""
        self.warnings = [
            w
            for w in self.warnings
            if not (w.get("key") == key if isinstance(w, dict) else legacy_mark in w)
        ]


@dataclass
class DeliveryRecord:
    """One delivery as the register keeps it: what was uploaded, where its processing stands,
    and who confirmed it if it was held."""

    delivery_id: str
    partner_id: str
    kind: str
    bucket: str
    object_key: str
    received_at: str  # ISO, UTC
    seq: str  # the delivery's position in the partner's order (see rules.deliveries)
    expires_at: int
    status: DeliveryStatus = "processing"
    progress: Progress = field(default_factory=Progress)
    lease_until: int | None = None
    finished_at: str | None = None
    confirmed_by: str | None = None
    confirmed_at: str | None = None
    # The upload's S3 version: the delivery reads this file to its end, also after the partner
    # uploaded another under the same key. Where none is known (a bucket without versions, the
    # embedded AWS's notifications), every read is only while the object still has `etag`.
    version_id: str | None = None
    etag: str | None = None

    @property
    def day(self) -> str:
        """The delivery date (a cancellation without an expiry date ends on it, a full
        delivery removes missing policies on it): the Dutch date of the upload, as every other
        date the register judges on."""
        return register_date(datetime.fromisoformat(self.received_at)).isoformat()
