"""A mandate's holder and form as the mandate tests (unit and integration) build them: the
holder's party, their client id, the register items of a policy, and the request body."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.clock import register_today
from chalicelib.config import get_settings
from chalicelib.models.portfolio import PartyFields, PolicyFields, ValidRow
from chalicelib.rules.identity import client_id_for
from chalicelib.store.register_items import policy_items
from tests.unit.test_mandate_rules import person

PARTNER = "demo-volmacht"
OTHER_PARTNER = "demo-verzekeraar"
Item = dict[str, Any]


def holder_party(role: str = "VP", **changes: Any) -> PartyFields:
    values: dict[str, Any] = {
        "role": role,
        "is_legal_entity": False,
        "surname": "Berg",
        "surname_key": "berg",
        "tussenvoegsels": "van der",
        "first_name": "Anna",
        "birth_date": "1980-02-03",
        "house_number": "12",
        "postcode": "1234AB",
        "city": "Utrecht",
    }
    values.update(changes)
    return PartyFields(**values)


def client_of(party: PartyFields) -> str:
    return client_id_for(party, get_settings().client_id_key)


def register_items(
    partner_id: str,
    policy_number: str,
    parties: Sequence[PartyFields],
    *,
    seq: str = "20250101T000000.000000#0001",
    status: str = "active",
    ended_on: str | None = None,
) -> list[Item]:
    """One policy with its parties as the ingest writes them into the register."""
    policy = PolicyFields(
        policy_number=policy_number, branch="092", start_date="2024-01-01", modules=("RP", "WC")
    )
    rows = [ValidRow(line=i + 2, policy=policy, party=p) for i, p in enumerate(parties)]
    now = datetime.now(UTC)
    return policy_items(
        partner_id,
        rows,
        seq=seq,
        delivery_id=f"delivery-{policy_number}",
        delivered_at=now.isoformat(),
        expires_at=int((now + timedelta(days=365)).timestamp()),
        client_id_key=get_settings().client_id_key,
        status=status,
        ended_on=ended_on,
    )


def mandate_body(
    client_id: str,
    grantee_kind: str = "policyholder",
    *,
    contracts: Sequence[tuple[str, str]] = (),
    language: str = "nl",
    email: str = "anna@example.nl",
) -> dict[str, Any]:
    """A complete request for the grantee kind, dated today in the register."""
    today = register_today().isoformat()
    body: dict[str, Any] = {
        "client_id": client_id,
        "grantee_kind": grantee_kind,
        "requester": person(),
        "request_date": today,
        "grantee": person(email=email)
        if grantee_kind == "policyholder"
        else person(first_name="Bram", birth_date="1979-05-06", email=email),
        "language": language,
    }
    if contracts:
        body["contracts"] = [{"partner_id": p, "policy_number": n} for p, n in contracts]
    if grantee_kind != "policyholder":
        body["signature"] = {
            "method": "qualified_esign",
            "signed_on": today,
            "form_reference": "FORM-42",
        }
    return body
