"""Deliveries: the S3 notification we receive, and the delivery record/report we keep."""

from __future__ import annotations

from typing import Literal
from urllib.parse import unquote_plus

from pydantic import BaseModel, ConfigDict, Field, field_validator

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
