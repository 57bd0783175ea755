"""The activation worker's decisions on in-memory stores, with the clock set instead of waited
for: which message sends, which is stale, which is a duplicate, and what a failing send leaves.
(tests/integration/test_activation_worker.py runs the worker on moto, SQS and SES.)"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib import clock
from chalicelib.errors import StoreError
from chalicelib.models.mandates import ActivationMessage
from chalicelib.rules.mandates import hash_token
from chalicelib.services.activation import SEND_LEASE_SECONDS, SendInProgress, deliver_activation
from tests.support.memory import FakeMailer, MemoryMandates, MemoryMarkers

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TOKEN = "token-of-the-link"


@pytest.fixture
def mandates() -> MemoryMandates:
    """One approved mandate whose current token is TOKEN, valid for 72 hours from NOW."""
    store = MemoryMandates()
    store.create(
        {
            "mandate_id": "m_" + "1" * 24,
            "client_id": "c_1",
            "state": "approved",
            "token_hash": hash_token(TOKEN),
            "request": json.dumps({"grantee": {"email": "g@example.nl", "first_name": "Gea"}}),
        }
    )
    expiry = NOW + timedelta(hours=72)
    store.put_token(
        hash_token(TOKEN),
        {"mandate_id": "m_" + "1" * 24, "token_expires_at": int(expiry.timestamp())},
    )
    return store


def message(token: str = TOKEN, idempotency_id: str = "i" * 32) -> ActivationMessage:
    return ActivationMessage(
        mandate_id="m_" + "1" * 24, token=token, language="nl", idempotency_id=idempotency_id
    )


def deliver(mandates: Any, markers: Any, mailer: Any, at: datetime = NOW, **kw: Any) -> str:
    with clock.frozen(lambda: at):
        return deliver_activation(message(**kw), mandates=mandates, markers=markers, mailer=mailer)


def test_an_approved_mandates_message_sends_one_email_and_marks_it_sent(mandates):
    markers, mailer = MemoryMarkers(), FakeMailer()
    assert deliver(mandates, markers, mailer) == "sent"
    assert [m["recipient"] for m in mailer.sent] == ["g@example.nl"]
    assert TOKEN in mailer.sent[0]["text"]
    assert markers.markers["i" * 32]["status"] == "sent"


def test_a_redelivered_message_sends_no_second_email(mandates):
    markers, mailer = MemoryMarkers(), FakeMailer()
    deliver(mandates, markers, mailer)
    assert deliver(mandates, markers, mailer) == "duplicate"
    assert len(mailer.sent) == 1


def test_a_message_whose_token_was_superseded_sends_nothing(mandates):
    markers, mailer = MemoryMarkers(), FakeMailer()
    assert deliver(mandates, markers, mailer, token="an-older-token") == "stale"
    assert mailer.sent == []


def test_a_message_read_after_its_token_expired_sends_nothing(mandates):
    markers, mailer = MemoryMarkers(), FakeMailer()
    later = NOW + timedelta(hours=72)
    assert deliver(mandates, markers, mailer, at=later) == "stale"
    assert mailer.sent == []


def test_a_failing_send_releases_its_claim_so_the_retry_sends(mandates):
    markers, mailer = MemoryMarkers(), FakeMailer(failures=1)
    with pytest.raises(StoreError):
        deliver(mandates, markers, mailer)
    assert markers.markers == {}
    assert deliver(mandates, markers, mailer) == "sent"
    assert len(mailer.sent) == 1


def test_a_message_being_sent_elsewhere_is_retried_until_its_lease_lapses(mandates):
    # given another delivery of the same message claimed it and then died before sending
    markers, mailer = MemoryMarkers(), FakeMailer()
    markers.claim(
        "i" * 32,
        about="m_" + "1" * 24,
        now=int(NOW.timestamp()),
        lease_until=int(NOW.timestamp()) + SEND_LEASE_SECONDS,
        expires_at=0,
    )

    # when it is delivered while the lease runs, it is left for a retry
    with pytest.raises(SendInProgress):
        deliver(mandates, markers, mailer, at=NOW + timedelta(seconds=10))

    # and once the lease has lapsed, it is sent
    lapsed = NOW + timedelta(seconds=SEND_LEASE_SECONDS + 1)
    assert deliver(mandates, markers, mailer, at=lapsed) == "sent"
    assert len(mailer.sent) == 1
