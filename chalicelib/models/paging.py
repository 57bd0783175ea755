"""Listings read in pages, newest first: an answer whose listing goes on names where its page
ended as `next_cursor`, and `cursor=` reads on from there. A cursor is that position in
URL-safe base64 (no personal data, nothing to escape in a query string); each listing checks
that a cursor has the shape of its own positions (docs/api.md)."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated

from pydantic import Field

# What a query parameter `cursor` may look like before it is decoded.
Cursor = Annotated[str, Field(max_length=200, pattern=r"^[A-Za-z0-9_-]+$")]


def page_cursor(position: str) -> str:
    """The cursor that names `position`: where a page ended."""
    return base64.urlsafe_b64encode(position.encode()).decode().rstrip("=")


def cursor_position(cursor: str, shape: re.Pattern[str]) -> re.Match[str]:
    """The position a cursor names, which must have the listing's `shape` (ValueError if not:
    a query model turns it into 400 invalid_query)."""
    try:
        position = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        position = ""
    found = shape.fullmatch(position)
    if found is None:
        raise ValueError("not a cursor of this listing: pass an answer's next_cursor unchanged")
    return found
