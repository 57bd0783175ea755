"""Bounds shared by the request models: what a value a client sends may be."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

from chalicelib.config import PARTNER_ID

# The dates a request may carry.
EARLIEST_REQUEST_DATE = date(1900, 1, 1)
LATEST_REQUEST_DATE = date(2199, 12, 31)


def _within_request_range(value: date) -> date:
    if not EARLIEST_REQUEST_DATE <= value <= LATEST_REQUEST_DATE:
        raise ValueError(
            f"a date from {EARLIEST_REQUEST_DATE} to {LATEST_REQUEST_DATE} is expected"
        )
    return value


# Every date a request carries: far enough back for any birth date, far enough ahead for any
# mandate or deadline we compute, and far from the calendar's end (year 9999), so that adding
# retention or notification months to it can never leave the calendar.
RequestDate = Annotated[date, AfterValidator(_within_request_range)]

PartnerId = Annotated[str, StringConstraints(pattern=PARTNER_ID.pattern)]
