"""End to end through the local run: a policyholder's portfolio arrives through the real upload
path, the portal requests a mandate, the partner approves, the pump runs `send_activation`, the
e-mail is read from the embedded SES (as `make mails` shows it), the link activates the mandate,
and the contracts follow the register until the mandate is revoked."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from datetime import date
from urllib.parse import parse_qs, urlparse

import pytest

from scripts.local_env import ROOT
from scripts.mails import SentMail, sent_mails
from tests.e2e.conftest import LocalRun, wait_for_delivery
from tests.support.ingest import csv_bytes, person

pytestmark = pytest.mark.e2e


def _deliver(run: LocalRun, partner_id: str, policy_number: str, holder: dict[str, str]) -> None:
    """One new policy of `holder`, uploaded as a partner does; waits for its report."""
    row = person(policy_number, PP_VRWRKCD="0", **holder)
    key = f"incoming/{partner_id}/mutation/e2e-{policy_number}.csv"
    run.s3().put_object(Bucket=run.info["bucket"], Key=key, Body=csv_bytes([row]))
    delivery = wait_for_delivery(run, partner_id, key)
    assert delivery["status"] == "accepted", delivery


def _wait_for_mail(run: LocalRun, recipient: str) -> SentMail:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for mail in sent_mails(run.info["aws_endpoint_url"]):
            if recipient in mail.recipients:
                return mail
        time.sleep(0.3)
    pytest.fail(f"no activation e-mail to {recipient}:\n{run.log_tail()}")


def test_request_approve_email_activate_and_see_the_contracts_until_revoked(
    local_run: LocalRun,
) -> None:
    # given a policyholder whose policy demo-volmacht delivered through the upload path
    tag = uuid.uuid4().hex[:8].upper()
    holder = {
        "ANAAM": "Mandaat",
        "VOORL": "E.",
        "GEBDAT": "19750505",
        "PCODE": "1234AB",
        "HUISNR": str(100 + int(tag[:4], 16) % 9000),
    }
    first_policy, later_policy = f"E2E-M{tag}", f"E2E-N{tag}"
    _deliver(local_run, "demo-volmacht", first_policy, holder)
    status, found = local_run.post(
        "/v1/clients/search",
        {"policy_number": first_policy, "partner_id": "demo-volmacht"},
        role="jsc",
    )
    assert status == 200, found
    client_id = found["candidates"][0]["client_id"]
    email = f"e2e-{tag.lower()}@example.nl"

    # when the portal requests a mandate for the policyholder and the partner approves it
    today = date.today().isoformat()
    someone = {
        "surname": "Mandaat",
        "first_name": "Eva",
        "birth_date": "1975-05-05",
        "address": {"house_number": holder["HUISNR"], "postcode": "1234AB"},
    }
    status, mandate = local_run.post(
        "/v1/mandates",
        {
            "client_id": client_id,
            "grantee_kind": "policyholder",
            "requester": someone,
            "request_date": today,
            "grantee": {**someone, "email": email},
            "language": "en",
        },
        role="portal",
    )
    assert status == 201, mandate
    mandate_id = mandate["mandate_id"]
    status, approved = local_run.post(
        f"/v1/mandates/{mandate_id}/approve",
        {},
        role="partner",
        partner_id="demo-volmacht",
    )
    assert status == 200, approved

    # then the pump's send_activation e-mails an English single-use link
    mail = _wait_for_mail(local_run, email)
    assert mail.subject == "Activate your access to the client portal"
    assert mail.link is not None
    token = parse_qs(urlparse(mail.link).query)["token"][0]
    shown = subprocess.run(
        [sys.executable, "-m", "scripts.mails"],
        cwd=ROOT,
        env={**os.environ, "RUN_DIR": str(local_run.log_path.parent)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert f"to: {email}" in shown
    assert mail.link in shown

    # and the link activates the mandate once
    status, activation = local_run.post("/v1/activations", {"token": token}, role="portal")
    assert status == 200, activation
    status, again = local_run.post("/v1/activations", {"token": token}, role="portal")
    assert (status, again["error"]["code"]) == (409, "token_used")

    # and the mandate shows the holder's contracts, including one delivered after activation
    contracts_path = f"/v1/mandates/{mandate_id}/contracts"
    status, contracts = local_run.get(contracts_path, role="portal")
    assert status == 200, contracts
    assert [c["policy_number"] for c in contracts["contracts"]] == [first_policy]
    _deliver(local_run, "demo-verzekeraar", later_policy, holder)
    status, contracts = local_run.get(contracts_path, role="portal")
    assert sorted(c["policy_number"] for c in contracts["contracts"]) == sorted(
        [first_policy, later_policy]
    )

    # and once revoked, it shows nothing
    status, revoked = local_run.post(f"/v1/mandates/{mandate_id}/revoke", {}, role="admin")
    assert status == 200, revoked
    status, refused = local_run.get(contracts_path, role="portal")
    assert (status, refused["error"]["code"]) == (403, "mandate_revoked")
