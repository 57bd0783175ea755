"""The `send_activation` worker on moto: real SQS receives (with the queue's redrive policy), the
worker invoked with the Lambda event built from them, e-mails read from moto's SES backend."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from chalicelib.config import reset_settings
from tests.integration.test_mandates import call, seed_policy, submitted
from tests.support import ingest as support
from tests.support.mandates import PARTNER, client_of, holder_party, mandate_body

pytestmark = pytest.mark.integration

REGION = "eu-west-1"
MAX_RECEIVES = 3  # the activation queue's maxReceiveCount (infra/template.yaml)


@pytest.fixture
def holder(aws: dict[str, str]) -> str:
    anna = holder_party()
    seed_policy(PARTNER, "RB-1001", [anna])
    return client_of(anna)


@pytest.fixture
def sqs(aws: dict[str, str]) -> Any:
    return boto3.client("sqs", region_name=REGION)


def sent_emails() -> list[Any]:
    return list(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)


def receive(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """One receive as Lambda's poller does it; visibility 0, so a failed message is visible
    again at once (the test need not wait out the queue's visibility timeout)."""
    return support.receive(queue_url, max_messages=10)


def invoke(messages: list[dict[str, Any]]) -> list[str]:
    """Run the worker on `messages`; return the ids it reported as failed."""
    payload = support.invoke("send_activation", messages)
    return [f["itemIdentifier"] for f in payload["batchItemFailures"]]


def pump(api: Any, sqs: Any, queue_url: str) -> Iterator[tuple[list[str], list[str]]]:
    """Deliver the queue to the worker until it is empty, deleting what succeeded (as the
    Lambda event source mapping does). Yields (received ids, failed ids) per invocation."""
    while messages := receive(sqs, queue_url):
        failed = invoke(messages)
        for message in messages:
            if message["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        yield [m["MessageId"] for m in messages], failed


def approve(api: Any, mandate_id: str, action: str = "approve") -> None:
    response = call(api, "POST", f"/v1/mandates/{mandate_id}/{action}", "admin")
    assert response.status_code == 200, response.json_body


def link_token(body: str) -> str:
    link = next(word for word in body.split() if word.startswith("https://portal.test/"))
    parsed = urlparse(link)
    assert parsed.path == "/activate"
    return parse_qs(parsed.query)["token"][0]


def test_the_grantee_receives_a_dutch_email_whose_link_activates_the_mandate_once(
    api: Any, aws: dict[str, str], sqs: Any, holder: str
) -> None:
    # given an approved mandate whose request asked for Dutch
    mandate_id = submitted(api, mandate_body(holder, language="nl", email="anna@example.nl"))
    approve(api, mandate_id)

    # when the worker takes the activation message
    rounds = list(pump(api, sqs, aws["activation_queue_url"]))

    # then one Dutch e-mail went to the grantee from the stage's sender, with a working link
    assert [failed for _, failed in rounds] == [[]]
    (email,) = sent_emails()
    assert email.destinations["ToAddresses"] == ["anna@example.nl"]
    assert email.source == "noreply@polisregister.test"
    assert email.subject == "Activeer uw toegang tot het klantportaal"
    assert "Beste Anna" in email.body
    assert re.search(r"verloopt op \d{2}-\d{2}-\d{4} \d{2}:\d{2}\. ", email.body)
    token = link_token(email.body)
    first = call(api, "POST", "/v1/activations", "portal", {"token": token})
    second = call(api, "POST", "/v1/activations", "portal", {"token": token})
    assert first.status_code == 200
    assert second.json_body["error"]["code"] == "token_used"


def test_a_grantee_at_an_internationalised_domain_is_mailed_at_its_punycode_form(
    api: Any, aws: dict[str, str], sqs: Any, holder: str
) -> None:
    # given an approved mandate whose grantee's domain has an accented letter
    mandate_id = submitted(api, mandate_body(holder, email="anna@bücher.nl"))
    approve(api, mandate_id)

    # when the worker takes the activation message
    rounds = list(pump(api, sqs, aws["activation_queue_url"]))

    # then SES is given the domain in Punycode, as it requires, and the e-mail is sent once
    assert [failed for _, failed in rounds] == [[]]
    (email,) = sent_emails()
    assert email.destinations["ToAddresses"] == ["anna@xn--bcher-kva.nl"]


def test_a_grantee_address_ses_cannot_send_to_is_refused_at_submit(
    api: Any, aws: dict[str, str], holder: str
) -> None:
    # when the portal submits a mandate whose grantee's local part is not 7-bit ASCII
    response = call(
        api, "POST", "/v1/mandates", "portal", mandate_body(holder, email="jöran@example.nl")
    )

    # then it is refused at once, not approved for an e-mail SES would never send
    assert response.status_code == 422, response.json_body
    assert response.json_body["error"]["code"] == "grantee_email_invalid"


def test_an_english_request_gets_an_english_email(
    api: Any, aws: dict[str, str], sqs: Any, holder: str
) -> None:
    mandate_id = submitted(api, mandate_body(holder, language="en"))
    approve(api, mandate_id)

    list(pump(api, sqs, aws["activation_queue_url"]))

    (email,) = sent_emails()
    assert email.subject == "Activate your access to the client portal"
    assert email.body.startswith("Dear Anna,")
    assert re.search(
        r"expires on \d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2} \(Amsterdam time\)", email.body
    )


def test_a_redelivered_message_sends_no_second_email(
    api: Any, aws: dict[str, str], sqs: Any, holder: str
) -> None:
    # given the activation message, delivered once and handled
    mandate_id = submitted(api, mandate_body(holder))
    approve(api, mandate_id)
    messages = receive(sqs, aws["activation_queue_url"])
    assert invoke(messages) == []

    # when SQS delivers the same message again (at-least-once)
    redelivered = receive(sqs, aws["activation_queue_url"])
    failed = invoke(redelivered)

    # then it is acknowledged without a second e-mail
    assert [m["MessageId"] for m in redelivered] == [m["MessageId"] for m in messages]
    assert failed == []
    assert len(sent_emails()) == 1


def test_a_message_superseded_by_a_resend_sends_nothing_and_the_resend_sends_the_new_link(
    api: Any, aws: dict[str, str], sqs: Any, holder: str
) -> None:
    # given an approval and a resend whose messages are both still queued
    mandate_id = submitted(api, mandate_body(holder))
    approve(api, mandate_id)
    approve(api, mandate_id, "resend")

    # when the worker takes both
    rounds = list(pump(api, sqs, aws["activation_queue_url"]))

    # then only the resend's (current) link is e-mailed
    assert all(failed == [] for _, failed in rounds)
    (email,) = sent_emails()
    token = link_token(email.body)
    assert call(api, "POST", "/v1/activations", "portal", {"token": token}).status_code == 200


def approved_with_a_refused_sender(api: Any, holder: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """An approved mandate (its activation message on the queue), on a stage whose sender is
    not a verified SES identity, so SES refuses the e-mail. Returns the mandate id."""
    mandate_id = submitted(api, mandate_body(holder))
    approve(api, mandate_id)
    monkeypatch.setenv("SES_SENDER", "unverified@elsewhere.test")
    reset_settings()
    return mandate_id


def test_a_failing_send_is_reported_retried_and_ends_in_the_dlq(
    api: Any, aws: dict[str, str], sqs: Any, holder: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the stage's sender is not a verified SES identity (SES rejects the message)
    mandate_id = approved_with_a_refused_sender(api, holder, monkeypatch)

    # when the queue is delivered until it is empty
    rounds = list(pump(api, sqs, aws["activation_queue_url"]))

    # then every delivery reported the message failed, it was received maxReceiveCount times,
    # and it is now in the dead-letter queue; no e-mail went out
    assert len(rounds) == MAX_RECEIVES
    assert all(received == failed and len(failed) == 1 for received, failed in rounds)
    assert sent_emails() == []
    (dead,) = receive(sqs, aws["activation_dlq_url"])
    assert json.loads(dead["Body"])["mandate_id"] == mandate_id

    # and once the sender is fixed, the redriven message sends its e-mail (no claim left behind)
    monkeypatch.setenv("SES_SENDER", "noreply@polisregister.test")
    reset_settings()
    sqs.send_message(QueueUrl=aws["activation_queue_url"], MessageBody=dead["Body"])
    assert [failed for _, failed in pump(api, sqs, aws["activation_queue_url"])] == [[]]
    assert len(sent_emails()) == 1


def test_only_the_failed_messages_of_a_batch_are_reported(
    api: Any, aws: dict[str, str], sqs: Any, holder: str
) -> None:
    # given a good activation message and an unreadable one in the same batch
    mandate_id = submitted(api, mandate_body(holder))
    approve(api, mandate_id)
    sqs.send_message(QueueUrl=aws["activation_queue_url"], MessageBody="not json")
    messages = receive(sqs, aws["activation_queue_url"])
    assert len(messages) == 2
    bad = next(m["MessageId"] for m in messages if m["Body"] == "not json")

    # when the worker handles the batch
    failed = invoke(messages)

    # then only the unreadable one is reported, and the good one's e-mail is sent
    assert failed == [bad]
    assert len(sent_emails()) == 1


def test_a_failed_mail_message_keeps_its_queues_visibility_timeout(
    api: Any, aws: dict[str, str], sqs: Any, holder: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an activation message that fails (SES refuses the sender), received as Lambda's
    # poller does with the queue's own visibility timeout, and a stage that would retry a
    # failed ingest message at once
    monkeypatch.setenv("FAILED_MESSAGE_RETRY_SECONDS", "0")
    approved_with_a_refused_sender(api, holder, monkeypatch)
    received = sqs.receive_message(QueueUrl=aws["activation_queue_url"], MaxNumberOfMessages=1)
    (message,) = received["Messages"]

    # when the worker reports it failed
    assert invoke([message]) == [message["MessageId"]]

    # then it is not offered again at once: the mail queue's receives stay spaced by its own
    # visibility timeout (minutes), so three receives do not reach the dead-letter queue in
    # seconds; only the ingest shortens a failed message's wait
    again = sqs.receive_message(QueueUrl=aws["activation_queue_url"], MaxNumberOfMessages=1)
    assert not again.get("Messages")
