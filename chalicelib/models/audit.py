"""Audit entries: who looked up what, when (docs/api.md). Personal data in the query is hashed."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.models.bounds import RequestDate
from chalicelib.models.paging import Cursor, cursor_position

# What an audit cursor stands for: where the previous page's last entry sorts (its time and
# entry id).
_ENTRY_POSITION = re.compile(r"\d{4}-\d{2}-\d{2}T[0-9:.]{1,20}Z#[0-9a-f]{1,64}")


def _position(cursor: str) -> str:
    return cursor_position(cursor, _ENTRY_POSITION).group()


class AuditQuery(BaseModel):
    """`GET /v1/audit?date=&actor=&limit=&cursor=`: one day (default today, UTC), one actor, or
    both; `cursor` (an answer's `next_cursor`) reads on where the previous page ended."""

    model_config = ConfigDict(extra="forbid")

    date: RequestDate | None = None
    actor: str | None = Field(default=None, min_length=1, max_length=128)
    limit: int = Field(default=100, ge=1, le=500)
    cursor: Cursor | None = None

    @field_validator("cursor")
    @classmethod
    def _a_cursor_of_this_listing(cls, cursor: str | None) -> str | None:
        if cursor is not None:
            _position(cursor)
        return cursor

    @property
    def previous_page_end(self) -> str | None:
        """Where the previous page ended (entries sorting below it come next), or None."""
        return _position(self.cursor) if self.cursor else None


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
    # Where the next (older) page starts: pass it as `cursor`; null on the last page.
    next_cursor: str | None = None
