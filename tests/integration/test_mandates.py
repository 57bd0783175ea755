"""Mandates through the API on moto: what the in-memory scenarios cannot show. The roles a route
admits, the items DynamoDB holds (only a token's hash), two approvals racing on the conditional
update, and the whole life cycle end to end with its audit entries. The service's scenarios (the
rules table, the life cycle's 409s, tokens, expiry, the contracts view) run on in-memory stores in
tests/unit/test_mandate_scenarios.py."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from chalicelib.models.portfolio import PartyFields
from chalicelib.services import mandates as mandate_service
from chalicelib.store import keys
from chalicelib.store.table import Table
from tests.conftest import bearer
from tests.support.mandates import (
    OTHER_PARTNER,
    PARTNER,
    client_of,
    holder_party,
    mandate_body,
    register_items,
)

pytestmark = pytest.mark.integration


def seed_policy(
    partner_id: str, policy_number: str, parties: Sequence[PartyFields], **kw: Any
) -> None:
    """Write one policy with its parties into the register, as the ingest would."""
    with Table().writer() as writer:
        for item in register_items(partner_id, policy_number, parties, **kw):
            writer.put(item)


def call(
    api: Any,
    method: str,
    path: str,
    role: str,
    body: dict[str, Any] | None = None,
    *,
    partner_id: str | None = None,
) -> Any:
    headers = {**bearer(role, partner_id), "Content-Type": "application/json"}
    request = getattr(api.http, method.lower())
    if method.upper() == "GET":
        return request(path, headers=headers)
    return request(path, headers=headers, body=json.dumps(body if body is not None else {}))


def take_activation_messages(aws: dict[str, str]) -> list[dict[str, Any]]:
    """Receive (and delete) what is on the activation queue."""
    sqs = boto3.client("sqs", region_name="eu-west-1")
    response = sqs.receive_message(
        QueueUrl=aws["activation_queue_url"], MaxNumberOfMessages=10, WaitTimeSeconds=0
    )
    found = []
    for message in response.get("Messages", []):
        found.append(json.loads(message["Body"]))
        sqs.delete_message(
            QueueUrl=aws["activation_queue_url"], ReceiptHandle=message["ReceiptHandle"]
        )
    return found


def submitted(api: Any, body: dict[str, Any]) -> str:
    response = call(api, "POST", "/v1/mandates", "portal", body)
    assert response.status_code == 201, response.json_body
    return str(response.json_body["mandate_id"])


def approved(api: Any, aws: dict[str, str], mandate_id: str) -> str:
    """Approve as the holder's partner; return the token the activation message carries."""
    response = call(
        api, "POST", f"/v1/mandates/{mandate_id}/approve", "partner", partner_id=PARTNER
    )
    assert response.status_code == 200, response.json_body
    (message,) = take_activation_messages(aws)
    return str(message["token"])


def activated(api: Any, aws: dict[str, str], mandate_id: str) -> None:
    token = approved(api, aws, mandate_id)
    response = call(api, "POST", "/v1/activations", "portal", {"token": token})
    assert response.status_code == 200, response.json_body


@pytest.fixture
def holder(aws: dict[str, str]) -> str:
    """A policyholder with one policy at PARTNER; returns their client id."""
    anna = holder_party()
    bram = holder_party("SP", first_name="Bram", birth_date="1979-05-06")
    seed_policy(PARTNER, "RB-1001", [anna, bram])
    return client_of(anna)


# --- routes and storage ------------------------------------------------------------------------


def test_call_centre_staff_cannot_submit_or_approve_and_the_portal_cannot_approve(
    api: Any, holder: str
) -> None:
    mandate_id = submitted(api, mandate_body(holder))

    by_jsc = call(api, "POST", "/v1/mandates", "jsc", mandate_body(holder))
    by_portal = call(api, "POST", f"/v1/mandates/{mandate_id}/approve", "portal")

    assert by_jsc.status_code == 403
    assert by_portal.status_code == 403


def test_approval_stores_only_the_tokens_hash_and_queues_the_token(
    api: Any, aws: dict[str, str], holder: str
) -> None:
    mandate_id = submitted(api, mandate_body(holder, language="en"))

    call(api, "POST", f"/v1/mandates/{mandate_id}/approve", "partner", partner_id=PARTNER)

    (message,) = take_activation_messages(aws)
    assert message["language"] == "en"
    token = message["token"]
    stored = Table().get(keys.mandate_pk(mandate_id), "MANDATE")
    assert stored is not None
    assert stored["token_hash"] == mandate_service.hash_token(token)
    assert token not in json.dumps(stored, default=str)
    token_item = Table().get(keys.token_pk(stored["token_hash"]), "TOKEN")
    assert token_item is not None
    assert token not in json.dumps(token_item, default=str)


def test_two_approvals_that_read_the_same_submitted_mandate_cannot_both_win(
    api: Any, aws: dict[str, str], holder: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given both approvals read the mandate while it was still submitted
    mandate_id = submitted(api, mandate_body(holder))
    stale = mandate_service.load_mandate(mandate_id)
    first = call(api, "POST", f"/v1/mandates/{mandate_id}/approve", "admin")
    reads = iter([stale])
    real_load = mandate_service.load_mandate
    monkeypatch.setattr(
        mandate_service,
        "load_mandate",
        lambda mid, store=None: next(reads, None) or real_load(mid, store),
    )

    # when the second one writes
    second = call(api, "POST", f"/v1/mandates/{mandate_id}/approve", "admin")

    # then the conditional update refuses it and only one activation is queued
    assert first.status_code == 200
    assert second.status_code == 409
    assert second.json_body["error"]["code"] == "invalid_state"
    assert len(take_activation_messages(aws)) == 1


def test_an_unknown_mandate_is_not_found(api: Any, aws: Any) -> None:
    response = call(api, "GET", "/v1/mandates/m_" + "0" * 24, "admin")
    malformed = call(api, "GET", "/v1/mandates/anything", "admin")

    assert response.status_code == 404
    assert malformed.status_code == 404
    assert response.json_body["error"]["code"] == "mandate_not_found"


def test_a_grantee_name_with_lines_of_its_own_is_refused_with_the_field_named(
    api: Any, holder: str
) -> None:
    # given a form whose grantee's first name carries lines and a link for the e-mail
    body = mandate_body(holder)
    body["grantee"]["first_name"] = "Anna\n\nLog opnieuw in: https://evil.example/login"

    # when the portal submits it
    response = call(api, "POST", "/v1/mandates", "portal", body)

    # then it is 422 naming the field, without repeating what was typed
    assert response.status_code == 422
    error = response.json_body["error"]
    assert error["code"] == "validation_failed"
    assert [detail["field"] for detail in error["details"]] == ["grantee.first_name"]
    assert "evil" not in json.dumps(response.json_body)


# --- end to end ---------------------------------------------------------------------------------


def test_every_mandate_change_is_audited(api: Any, aws: dict[str, str], holder: str) -> None:
    mandate_id = submitted(api, mandate_body(holder))
    activated(api, aws, mandate_id)
    call(api, "POST", f"/v1/mandates/{mandate_id}/revoke", "admin")

    entries = list(Table().query(f"AUDIT#{datetime.now(UTC).date().isoformat()}"))

    routes = [e["route"] for e in entries if mandate_id in e["result_ids"]]
    assert routes == [
        "POST /v1/mandates",
        "POST /v1/mandates/{mandate_id}/approve",
        "POST /v1/activations",
        "POST /v1/mandates/{mandate_id}/revoke",
    ]


def _contracts(api: Any, mandate_id: str) -> Any:
    return call(api, "GET", f"/v1/mandates/{mandate_id}/contracts", "portal")


def _numbers(response: Any) -> list[str]:
    assert response.status_code == 200, response.json_body
    return [c["policy_number"] for c in response.json_body["contracts"]]


def test_a_policy_delivered_after_activation_appears_for_all_but_not_for_listed(
    api: Any, aws: dict[str, str], holder: str
) -> None:
    # given an active "all" mandate and an active "listed" one
    for_all = submitted(api, mandate_body(holder))
    listed = submitted(api, mandate_body(holder, "someone_else", contracts=[(PARTNER, "RB-1001")]))
    activated(api, aws, for_all)
    activated(api, aws, listed)
    assert _numbers(_contracts(api, for_all)) == ["RB-1001"]

    # when a new policy of the holder is delivered (by another partner)
    seed_policy(OTHER_PARTNER, "NEW-7", [holder_party()])

    # then the "all" mandate sees it and the "listed" one does not
    assert sorted(_numbers(_contracts(api, for_all))) == ["NEW-7", "RB-1001"]
    assert _numbers(_contracts(api, listed)) == ["RB-1001"]
