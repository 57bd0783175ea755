"""The clock every service and adapter reads: now (UTC), and today in the Netherlands, the date
the register's statuses and defaults are judged on. One place, so that tests move time instead
of waiting for it (`frozen`), and nothing compares two different clocks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

REGISTER_TZ = ZoneInfo("Europe/Amsterdam")

Clock = Callable[[], datetime]


def _system() -> datetime:
    return datetime.now(UTC)


_clock: Clock = _system


def now() -> datetime:
    return _clock()


def epoch() -> float:
    return _clock().timestamp()


def register_date(moment: datetime) -> date:
    """The date in the Netherlands at `moment` (an aware datetime): a nightly upload at 00:30
    Dutch time is delivered on that day, not on the UTC day before."""
    return moment.astimezone(REGISTER_TZ).date()


def register_today() -> date:
    return register_date(now())


_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def register_time_text(language: str, moment: datetime) -> str:
    """A moment as people in the Netherlands read it in an e-mail, in Dutch local time:
    ``25-11-2026 18:28`` (nl), ``25 Nov 2026 18:28`` (en; month names fixed, not from the
    process locale). A naive `moment` is taken as UTC."""
    local = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(REGISTER_TZ)
    if language == "nl":
        return f"{local:%d-%m-%Y %H:%M}"
    return f"{local.day} {_MONTHS_EN[local.month - 1]} {local.year} {local:%H:%M}"


@contextmanager
def frozen(clock: Clock) -> Iterator[None]:
    """Read `clock` instead of the system clock for the duration (tests)."""
    global _clock
    previous, _clock = _clock, clock
    try:
        yield
    finally:
        _clock = previous
