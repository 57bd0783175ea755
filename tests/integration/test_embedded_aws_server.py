"""The local run's embedded AWS lists the e-mails its SES sent (`make mails`) without
serialising everything it holds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.moto_api._internal.responses import MotoAPIResponse

from scripts.embedded_aws import EmbeddedAws
from scripts.local_run_process import free_port
from scripts.mails import sent_mails

pytestmark = pytest.mark.integration


@pytest.fixture
def embedded_aws() -> Iterator[str]:
    """The local run's embedded AWS, in this process; its endpoint."""
    port = free_port()
    server = EmbeddedAws(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def _client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,
        region_name="eu-west-1",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_make_mails_lists_what_the_embedded_ses_sent_without_moto_dumping_all_it_holds(
    embedded_aws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an e-mail sent through the embedded SES, and moto's dump of everything it holds
    # (which took longer than `make mails` waited once the demo was loaded) out of order
    def no_dump(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("moto-api/data.json was asked for")

    monkeypatch.setattr(MotoAPIResponse, "model_data", no_dump)
    ses = _client("ses", embedded_aws)
    ses.verify_email_identity(EmailAddress="noreply@polisregister.local")
    ses.send_email(
        Source="noreply@polisregister.local",
        Destination={"ToAddresses": ["sara@example.nl"]},
        Message={
            "Subject": {"Data": "Activate"},
            "Body": {"Text": {"Data": "Open https://portal.test/activate?token=abc"}},
        },
    )

    # when the sent e-mails are listed, then it is there with its link
    [mail] = [m for m in sent_mails(embedded_aws) if m.recipients == ["sara@example.nl"]]
    assert mail.subject == "Activate"
    assert mail.link == "https://portal.test/activate?token=abc"
