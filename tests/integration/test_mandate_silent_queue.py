"""A partner approves a mandate while the activation queue does not answer: the approval
answers 503 `unavailable` and is taken back (DynamoDB's conditional undo), so approving again
works and queues the one activation e-mail that was missing (docs/mandates.md, "Activation")."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.config import reset_settings
from chalicelib.store.aws import reset_clients
from chalicelib.store.mandates import DynamoMandates
from tests.integration.test_mandates import (
    call,
    seed_policy,
    submitted,
    take_activation_messages,
)
from tests.support.mandates import PARTNER, client_of, holder_party, mandate_body
from tests.support.silent import SilentEndpoint

pytestmark = pytest.mark.integration

SILENT_BOUNDS = {
    "API_AWS_MAX_ATTEMPTS": "8",
    "API_AWS_CONNECT_TIMEOUT_SECONDS": "0.2",
    "API_AWS_READ_TIMEOUT_SECONDS": "0.2",
    "API_AWS_DEADLINE_SECONDS": "1",
}


@pytest.fixture
def holder(aws: dict[str, str]) -> str:
    anna = holder_party()
    seed_policy(PARTNER, "RB-1001", [anna])
    return client_of(anna)


def changed_while_the_queue_is_silent(api: Any, path: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    with SilentEndpoint() as silent_queue:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", silent_queue.url)
        for name, value in SILENT_BOUNDS.items():
            monkeypatch.setenv(name, value)
        reset_settings()
        reset_clients()
        response = call(api, "POST", path, "partner", partner_id=PARTNER)
    for name in ("AWS_ENDPOINT_URL_SQS", *SILENT_BOUNDS):
        monkeypatch.delenv(name)
    reset_settings()
    reset_clients()
    return response


def test_an_approval_while_the_queue_is_silent_is_taken_back_and_can_be_approved_again(
    api: Any, aws: dict[str, str], holder: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a submitted mandate
    mandate_id = submitted(api, mandate_body(holder))
    before = call(api, "GET", f"/v1/mandates/{mandate_id}", "admin").json_body

    # when its partner approves it while the activation queue never answers
    refused = changed_while_the_queue_is_silent(
        api, f"/v1/mandates/{mandate_id}/approve", monkeypatch
    )

    # then the approval is unavailable, and the mandate is submitted as before
    assert refused.status_code == 503
    assert refused.json_body["error"]["code"] == "unavailable"
    after = call(api, "GET", f"/v1/mandates/{mandate_id}", "admin").json_body
    assert (after["state"], after["history"]) == ("submitted", before["history"])
    assert after["activation_expires_at"] is None

    # and once the queue answers, approving again queues the one activation e-mail, whose
    # link activates the mandate
    again = call(api, "POST", f"/v1/mandates/{mandate_id}/approve", "partner", partner_id=PARTNER)
    assert again.status_code == 200, again.json_body
    (message,) = take_activation_messages(aws)
    assert message["mandate_id"] == mandate_id
    activated = call(api, "POST", "/v1/activations", "portal", {"token": message["token"]})
    assert activated.status_code == 200, activated.json_body
    states = [change["state"] for change in activated_history(api, mandate_id)]
    assert states == ["submitted", "approved", "active"]


def activated_history(api: Any, mandate_id: str) -> list[dict[str, Any]]:
    return list(call(api, "GET", f"/v1/mandates/{mandate_id}", "admin").json_body["history"])


def test_a_late_undo_of_an_approval_leaves_a_change_made_meanwhile(
    api: Any, aws: dict[str, str], holder: str
) -> None:
    # given a mandate approved, and then revoked by an administrator
    mandate_id = submitted(api, mandate_body(holder))
    store = DynamoMandates()
    before = store.get(mandate_id)
    call(api, "POST", f"/v1/mandates/{mandate_id}/approve", "partner", partner_id=PARTNER)
    approved = store.get(mandate_id)
    call(api, "POST", f"/v1/mandates/{mandate_id}/revoke", "admin")

    assert before is not None
    assert approved is not None

    # when the approval's undo comes after the revocation
    undone = store.undo(mandate_id, before=before, token_hash=approved["token_hash"])

    # then nothing is taken back: the revocation and its history stand
    assert undone is False
    after = call(api, "GET", f"/v1/mandates/{mandate_id}", "admin").json_body
    assert after["state"] == "revoked"
    assert [change["state"] for change in after["history"]] == ["submitted", "approved", "revoked"]
