"""Mandates through the API on moto: submit under the rules table, the guarded life cycle,
activation tokens (once, not expired, not superseded) and the contracts an active mandate sees."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from chalicelib.config import get_settings
from chalicelib.models.portfolio import PartyFields, PolicyFields, ValidRow
from chalicelib.rules.identity import client_id_for
from chalicelib.services import mandates as mandate_service
from chalicelib.store import keys
from chalicelib.store.register_items import policy_items
from chalicelib.store.table import Table
from tests.conftest import bearer
from tests.unit.test_mandate_rules import person

pytestmark = pytest.mark.integration

PARTNER = "demo-volmacht"
today = mandate_service.register_today
OTHER_PARTNER = "demo-verzekeraar"


# --- helpers (also used by test_activation_worker.py) ----------------------------------------


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


def seed_policy(
    partner_id: str,
    policy_number: str,
    parties: Sequence[PartyFields],
    *,
    seq: str = "20250101T000000.000000#0001",
    status: str = "active",
    ended_on: str | None = None,
) -> None:
    """Write one policy with its parties into the register, as the ingest would."""
    policy = PolicyFields(
        policy_number=policy_number, branch="092", start_date="2024-01-01", modules=("RP", "WC")
    )
    rows = [ValidRow(line=i + 2, policy=policy, party=p) for i, p in enumerate(parties)]
    now = datetime.now(UTC)
    items = policy_items(
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
    with Table().writer() as writer:
        for item in items:
            writer.put(item)


def mandate_body(
    client_id: str,
    grantee_kind: str = "policyholder",
    *,
    contracts: Sequence[tuple[str, str]] = (),
    language: str = "nl",
    email: str = "anna@example.nl",
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "client_id": client_id,
        "grantee_kind": grantee_kind,
        "requester": person(),
        "request_date": today().isoformat(),
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
            "signed_on": today().isoformat(),
            "form_reference": "FORM-42",
        }
    return body


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


# --- submit ----------------------------------------------------------------------------------


def test_a_policyholder_requests_access_to_all_contracts_and_sees_the_form_as_submitted(
    api: Any, holder: str
) -> None:
    body = mandate_body(holder)

    response = call(api, "POST", "/v1/mandates", "portal", body)

    assert response.status_code == 201
    mandate = response.json_body
    assert mandate["state"] == "submitted"
    assert (mandate["scope"], mandate["form_required"], mandate["contracts"]) == ("all", False, [])
    shown = call(api, "GET", f"/v1/mandates/{mandate['mandate_id']}", "admin").json_body
    assert shown["request"]["grantee"] == {
        **body["grantee"],
        "address": {**body["grantee"]["address"], "country": "NL"},
    }
    assert shown["request"]["request_date"] == body["request_date"]


def test_a_request_that_breaks_a_rule_is_refused_with_the_rule_it_broke(
    api: Any, holder: str
) -> None:
    body = mandate_body(holder, "someone_else", contracts=[(PARTNER, "RB-1001")])
    del body["grantee"]["email"]
    del body["signature"]

    response = call(api, "POST", "/v1/mandates", "portal", body)

    assert response.status_code == 422
    error = response.json_body["error"]
    assert error["code"] == "grantee_email_required"
    assert {d["rule"] for d in error["details"]} == {"grantee_email_required", "signature_required"}


def test_a_listed_contract_of_someone_else_is_refused(api: Any, holder: str) -> None:
    seed_policy(OTHER_PARTNER, "X-1", [holder_party(surname="Smit", surname_key="smit")])
    body = mandate_body(holder, "someone_else", contracts=[(OTHER_PARTNER, "X-1")])

    response = call(api, "POST", "/v1/mandates", "portal", body)

    assert response.status_code == 422
    assert response.json_body["error"]["code"] == "contract_not_of_holder"


def test_a_client_who_is_only_insured_cannot_be_a_mandates_holder(api: Any, holder: str) -> None:
    insured = client_of(holder_party("SP", first_name="Bram", birth_date="1979-05-06"))

    response = call(api, "POST", "/v1/mandates", "portal", mandate_body(insured))

    assert response.status_code == 422
    assert response.json_body["error"]["code"] == "holder_not_policyholder"


def test_a_mandate_for_a_client_the_register_does_not_know_is_refused(api: Any, aws: Any) -> None:
    response = call(api, "POST", "/v1/mandates", "portal", mandate_body("c_" + "1" * 24))

    assert response.status_code == 422
    assert response.json_body["error"]["code"] == "holder_unknown"


def test_a_partner_submits_only_for_its_own_clients(api: Any, holder: str) -> None:
    own = call(api, "POST", "/v1/mandates", "partner", mandate_body(holder), partner_id=PARTNER)
    foreign = call(
        api, "POST", "/v1/mandates", "partner", mandate_body(holder), partner_id=OTHER_PARTNER
    )

    assert own.status_code == 201
    assert foreign.status_code == 403
    assert foreign.json_body["error"]["code"] == "not_partners_client"


def test_call_centre_staff_cannot_submit_or_approve_and_the_portal_cannot_approve(
    api: Any, holder: str
) -> None:
    mandate_id = submitted(api, mandate_body(holder))

    by_jsc = call(api, "POST", "/v1/mandates", "jsc", mandate_body(holder))
    by_portal = call(api, "POST", f"/v1/mandates/{mandate_id}/approve", "portal")

    assert by_jsc.status_code == 403
    assert by_portal.status_code == 403


# --- life cycle ------------------------------------------------------------------------------


def test_only_the_holders_partner_or_an_admin_approves(
    api: Any, aws: dict[str, str], holder: str
) -> None:
    mandate_id = submitted(api, mandate_body(holder))

    foreign = call(
        api, "POST", f"/v1/mandates/{mandate_id}/approve", "partner", partner_id=OTHER_PARTNER
    )
    by_admin = call(api, "POST", f"/v1/mandates/{mandate_id}/approve", "admin")

    assert foreign.status_code == 403
    assert foreign.json_body["error"]["code"] == "not_partners_client"
    assert by_admin.status_code == 200
    assert by_admin.json_body["state"] == "approved"
    assert [m["mandate_id"] for m in take_activation_messages(aws)] == [mandate_id]


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


def test_a_mandate_is_approved_once_and_a_decided_one_cannot_be_rejected(
    api: Any, aws: dict[str, str], holder: str
) -> None:
    mandate_id = submitted(api, mandate_body(holder))
    approved(api, aws, mandate_id)

    again = call(api, "POST", f"/v1/mandates/{mandate_id}/approve", "admin")
    reject = call(api, "POST", f"/v1/mandates/{mandate_id}/reject", "admin", {"reason": "no"})

    assert again.status_code == 409
    assert again.json_body["error"]["code"] == "invalid_state"
    assert reject.status_code == 409
    assert reject.json_body["error"]["message"] == "a mandate that is approved cannot be rejected"
    assert take_activation_messages(aws) == []


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


def test_a_rejected_mandate_keeps_its_history_and_reason(api: Any, holder: str) -> None:
    mandate_id = submitted(api, mandate_body(holder))

    response = call(
        api,
        "POST",
        f"/v1/mandates/{mandate_id}/reject",
        "partner",
        {"reason": "unsigned"},
        partner_id=PARTNER,
    )

    assert response.status_code == 200
    history = response.json_body["history"]
    assert [h["state"] for h in history] == ["submitted", "rejected"]
    assert history[-1]["reason"] == "unsigned"
    assert history[-1]["by"]["partner_id"] == PARTNER


def test_mandates_are_listed_per_client_and_a_partner_sees_only_its_own_clients(
    api: Any, holder: str
) -> None:
    first = submitted(api, mandate_body(holder))
    second = submitted(api, mandate_body(holder, "someone_else", contracts=[(PARTNER, "RB-1001")]))

    own = call(api, "GET", f"/v1/mandates?client_id={holder}", "partner", partner_id=PARTNER)
    foreign = call(
        api, "GET", f"/v1/mandates?client_id={holder}", "partner", partner_id=OTHER_PARTNER
    )
    single = call(api, "GET", f"/v1/mandates/{first}", "partner", partner_id=OTHER_PARTNER)

    assert own.status_code == 200
    assert {m["mandate_id"] for m in own.json_body["mandates"]} == {first, second}
    assert foreign.status_code == 403
    assert single.status_code == 403


def test_an_unknown_mandate_is_not_found(api: Any, aws: Any) -> None:
    response = call(api, "GET", "/v1/mandates/m_" + "0" * 24, "admin")
    malformed = call(api, "GET", "/v1/mandates/anything", "admin")

    assert response.status_code == 404
    assert malformed.status_code == 404
    assert response.json_body["error"]["code"] == "mandate_not_found"


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


# --- activation --------------------------------------------------------------------------------


def test_a_token_activates_its_mandate_once(api: Any, aws: dict[str, str], holder: str) -> None:
    mandate_id = submitted(api, mandate_body(holder))
    token = approved(api, aws, mandate_id)

    first = call(api, "POST", "/v1/activations", "portal", {"token": token})
    second = call(api, "POST", "/v1/activations", "portal", {"token": token})

    assert first.status_code == 200
    assert first.json_body["mandate_id"] == mandate_id
    assert first.json_body["state"] == "active"
    assert second.status_code == 409
    assert second.json_body["error"]["code"] == "token_used"


def test_a_resend_supersedes_the_earlier_token(api: Any, aws: dict[str, str], holder: str) -> None:
    mandate_id = submitted(api, mandate_body(holder))
    earlier = approved(api, aws, mandate_id)

    resend = call(api, "POST", f"/v1/mandates/{mandate_id}/resend", "partner", partner_id=PARTNER)
    (message,) = take_activation_messages(aws)
    refused = call(api, "POST", "/v1/activations", "portal", {"token": earlier})
    accepted = call(api, "POST", "/v1/activations", "portal", {"token": message["token"]})

    assert resend.status_code == 200
    assert message["token"] != earlier
    assert refused.status_code == 409
    assert refused.json_body["error"]["code"] == "token_superseded"
    assert accepted.status_code == 200


def test_an_expired_token_is_refused(api: Any, aws: dict[str, str], holder: str) -> None:
    mandate_id = submitted(api, mandate_body(holder))
    token = approved(api, aws, mandate_id)
    # the token's validity passes (ACTIVATION_TOKEN_TTL_HOURS later)
    Table().update(
        keys.token_pk(mandate_service.hash_token(token)),
        "TOKEN",
        UpdateExpression="SET token_expires_at = :past",
        ExpressionAttributeValues={":past": int(datetime.now(UTC).timestamp()) - 1},
    )

    response = call(api, "POST", "/v1/activations", "portal", {"token": token})

    assert response.status_code == 409
    assert response.json_body["error"]["code"] == "token_expired"
    still = call(api, "GET", f"/v1/mandates/{mandate_id}", "admin").json_body
    assert still["state"] == "approved"


def test_an_unknown_token_is_refused(api: Any, aws: Any) -> None:
    response = call(api, "POST", "/v1/activations", "portal", {"token": "x" * 43})

    assert response.status_code == 404
    assert response.json_body["error"]["code"] == "token_unknown"


def test_a_mandate_revoked_before_activation_cannot_be_activated(
    api: Any, aws: dict[str, str], holder: str
) -> None:
    mandate_id = submitted(api, mandate_body(holder))
    token = approved(api, aws, mandate_id)
    call(api, "POST", f"/v1/mandates/{mandate_id}/revoke", "admin")

    response = call(api, "POST", "/v1/activations", "portal", {"token": token})

    assert response.status_code == 409
    assert response.json_body["error"]["code"] == "invalid_state"


# --- contracts ---------------------------------------------------------------------------------


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


def test_a_mandate_that_is_not_active_sees_no_contracts(
    api: Any, aws: dict[str, str], holder: str
) -> None:
    mandate_id = submitted(api, mandate_body(holder))

    response = _contracts(api, mandate_id)

    assert response.status_code == 403
    assert response.json_body["error"]["code"] == "mandate_not_active"


def test_a_revoked_mandate_sees_nothing(api: Any, aws: dict[str, str], holder: str) -> None:
    mandate_id = submitted(api, mandate_body(holder))
    activated(api, aws, mandate_id)

    revoke = call(api, "POST", f"/v1/mandates/{mandate_id}/revoke", "partner", partner_id=PARTNER)
    response = _contracts(api, mandate_id)

    assert revoke.status_code == 200
    assert response.status_code == 403
    assert response.json_body["error"]["code"] == "mandate_revoked"


def test_an_expired_mandate_sees_nothing(api: Any, aws: dict[str, str], holder: str) -> None:
    body = mandate_body(holder) | {"valid_until": today().isoformat()}
    mandate_id = submitted(api, body)
    activated(api, aws, mandate_id)
    assert _numbers(_contracts(api, mandate_id)) == ["RB-1001"]
    # its end date passes
    Table().update(
        keys.mandate_pk(mandate_id),
        "MANDATE",
        UpdateExpression="SET valid_until = :yesterday",
        ExpressionAttributeValues={":yesterday": (today() - timedelta(days=1)).isoformat()},
    )

    response = _contracts(api, mandate_id)

    assert response.status_code == 403
    assert response.json_body["error"]["code"] == "mandate_expired"
    shown = call(api, "GET", f"/v1/mandates/{mandate_id}", "admin").json_body
    assert shown["state"] == "expired"


# --- contracts that ended ---------------------------------------------------------------------


def test_a_policy_removed_from_the_portfolio_no_longer_makes_its_client_a_holder(
    api: Any, aws: Any
) -> None:
    # given a client whose only policy the partner removed from its portfolio last month
    anna = holder_party()
    last_month = (today() - timedelta(days=30)).isoformat()
    seed_policy(PARTNER, "RB-OLD", [anna], status="removed_from_portfolio", ended_on=last_month)

    # when the portal requests a mandate for them
    response = call(api, "POST", "/v1/mandates", "portal", mandate_body(client_of(anna)))

    # then there is no current contract to hold
    assert response.status_code == 422
    assert response.json_body["error"]["code"] == "holder_not_policyholder"


def test_a_partner_that_lost_the_client_may_not_act_on_their_mandates(api: Any, aws: Any) -> None:
    # given a client who moved from OTHER_PARTNER (removed) to PARTNER (current)
    anna = holder_party()
    last_month = (today() - timedelta(days=30)).isoformat()
    seed_policy(
        OTHER_PARTNER, "OLD-1", [anna], status="removed_from_portfolio", ended_on=last_month
    )
    seed_policy(PARTNER, "NEW-1", [anna])
    mandate_id = submitted(api, mandate_body(client_of(anna)))

    # when each partner tries to read and approve the mandate
    former = call(api, "GET", f"/v1/mandates/{mandate_id}", "partner", partner_id=OTHER_PARTNER)
    current = call(api, "GET", f"/v1/mandates/{mandate_id}", "partner", partner_id=PARTNER)

    # then only the current partner may
    assert former.status_code == 403
    assert former.json_body["error"]["code"] == "not_partners_client"
    assert current.status_code == 200


def test_an_all_mandate_stops_showing_a_contract_once_it_ended(
    api: Any, aws: dict[str, str]
) -> None:
    # given an active "all" mandate over two policies
    anna = holder_party()
    seed_policy(PARTNER, "RB-A", [anna])
    seed_policy(PARTNER, "RB-B", [anna])
    mandate_id = submitted(api, mandate_body(client_of(anna)))
    activated(api, aws, mandate_id)

    # when one of them is cancelled with cover that ended yesterday
    yesterday = (today() - timedelta(days=1)).isoformat()
    seed_policy(
        PARTNER,
        "RB-B",
        [anna],
        seq="20250201T000000.000000#0001",
        status="cancelled",
        ended_on=yesterday,
    )

    # then the mandate shows only the one still running
    shown = call(api, "GET", f"/v1/mandates/{mandate_id}/contracts", "portal").json_body
    assert [c["policy_number"] for c in shown["contracts"]] == ["RB-A"]
