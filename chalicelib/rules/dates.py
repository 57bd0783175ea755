"""Calendar arithmetic shared by retention, coverage and mandates (pure)."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime


def add_months(day: date, months: int) -> date:
    """`day` plus whole calendar months, clamped to the month's end (31 Jan + 1 = 28/29 Feb).
    A result beyond the calendar (a delivered "no end" date such as 9999-12-31, plus months)
    is the calendar's last or first day: later, or earlier, than any real date."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    if year > date.max.year:
        return date.max
    if year < date.min.year:
        return date.min
    last = calendar.monthrange(year, month + 1)[1]
    return day.replace(year=year, month=month + 1, day=min(day.day, last))


def expires_at(moment: datetime, retention_months: int) -> int:
    """Epoch seconds `retention_months` after `moment`: the TTL of everything we store."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    later = add_months(moment.date(), retention_months)
    return int(datetime.combine(later, moment.timetz()).timestamp())
