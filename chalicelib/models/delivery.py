"""Deliveries: the S3 notification we receive, and the delivery record/report we keep."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import unquote_plus

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.models.portfolio import RowError

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


class DeliveryReport(BaseModel):
    """The report a partner reads (reports/<partner_id>/<delivery_id>.json) and the API returns."""

    delivery_id: str
    partner_id: str
    object_key: str
    kind: str
    received_at: str
    status: DeliveryStatus
    rows_total: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    rows_superseded: int = 0
    policies_written: int = 0
    policies_ended: int = 0
    policies_pending_removal: int = 0
    warnings: list[str] = Field(default_factory=list)
    errors: list[ReportError] = Field(default_factory=list)
    error_counts: dict[str, int] = Field(default_factory=dict)
    errors_truncated: bool = False
    confirmed_by: str | None = None
    confirmed_at: str | None = None
    finished_at: str | None = None


class DeliveryList(BaseModel):
    deliveries: list[DeliveryReport]


class DeliveriesQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    partner_id: str | None = Field(default=None, max_length=64)
    limit: int = Field(default=50, ge=1, le=200)


class DeliveryPath(BaseModel):
    delivery_id: str = Field(pattern=r"^[0-9a-f]{32}$")


@dataclass
class Progress:
    """Everything a delivery carries from one invocation to the next: where the file is read up
    to, the counters its report shows, and the errors and warnings so far."""

    phase: str = "rows"  # rows -> reconcile -> (held) -> ending -> done
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
    ending_batch: list[str] = field(default_factory=list)  # policy numbers being ended
    bsn_dropped: int = 0
    truncated: bool = False
    rejected: bool = False
    warnings: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_counts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> Progress:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in stored.items() if k in known})

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

    @property
    def day(self) -> str:
        return self.received_at[:10]
