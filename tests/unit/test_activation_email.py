"""The activation e-mail's text: the link's expiry in Dutch local time, written per language."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.services.activation import SUBJECTS, render_email

pytestmark = pytest.mark.unit

LINK = "https://portal.test/activate?token=abc"
WINTER = datetime(2026, 11, 25, 17, 28, tzinfo=UTC)  # CET, UTC+1
SUMMER_LATE = datetime(2026, 7, 1, 22, 30, tzinfo=UTC)  # CEST, UTC+2: already 2 July


def test_the_dutch_email_gives_the_expiry_in_dutch_local_time_and_format() -> None:
    # given a link expiring at 17:28 UTC in November
    # when the Dutch e-mail is rendered
    subject, body = render_email("nl", "Anna", LINK, WINTER)
    # then it shows 18:28 Amsterdam time, day first, without a UTC label
    assert subject == SUBJECTS["nl"]
    assert "verloopt op 25-11-2026 18:28. " in body
    assert "UTC" not in body


def test_the_english_email_gives_the_expiry_in_amsterdam_time_with_a_month_name() -> None:
    subject, body = render_email("en", "Anna", LINK, WINTER)
    assert subject == SUBJECTS["en"]
    assert "expires on 25 Nov 2026 18:28 (Amsterdam time). " in body
    assert "UTC" not in body


def test_summer_time_is_two_hours_ahead_and_can_move_the_expiry_to_the_next_day() -> None:
    _, dutch = render_email("nl", "Anna", LINK, SUMMER_LATE)
    _, english = render_email("en", "Anna", LINK, SUMMER_LATE)
    assert "verloopt op 02-07-2026 00:30. " in dutch
    assert "expires on 2 Jul 2026 00:30 (Amsterdam time). " in english


def test_the_email_greets_the_grantee_by_name_and_carries_the_link() -> None:
    _, body = render_email("nl", "Anna", LINK, WINTER)
    assert body.startswith("Beste Anna,")
    assert f"\n\n{LINK}\n\n" in body


def test_a_stored_name_holding_lines_and_a_link_is_not_put_in_the_greeting() -> None:
    # given a grantee's name stored before names were checked: lines and a link of its own
    name = "Anna\n\nUw link is verlopen. Log opnieuw in: https://evil.example/login"

    # when the activation e-mail is rendered, in either language
    _, dutch = render_email("nl", name, LINK, WINTER)
    _, english = render_email("en", name, LINK, WINTER)

    # then it greets without the name, and its only link is the activation link
    assert dutch.startswith("Beste heer/mevrouw,\n\n")
    assert english.startswith("Dear Sir or Madam,\n\n")
    for body in (dutch, english):
        assert "evil" not in body
        assert body.count("https://") == 1
