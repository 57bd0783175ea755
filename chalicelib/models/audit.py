"""Audit entries: who looked up what, when (docs/api.md). Personal data in the query is hashed."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.models.bounds import RequestDate


class AuditQuery(BaseModel):
    """`GET /v1/audit?date=&actor=&limit=`: one day (default today, UTC), one actor, or both."""

    model_config = ConfigDict(extra="forbid")

    date: RequestDate | None = None
    actor: str | None = Field(default=None, min_length=1, max_length=128)
    limit: int = Field(default=100, ge=1, le=500)


class AuditEntry(BaseModel):
    id: str
    at: str  # ISO time, UTC
    actor: str
    role: str
    partner_id: str | None = None
    route: str
    query: dict[str, str]
    result_ids: list[str]
    result_count: int


class AuditList(BaseModel):
    date: str | None
    actor: str | None
    entries: list[AuditEntry]
