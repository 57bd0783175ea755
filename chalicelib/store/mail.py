"""SES behind a small interface (the only place that talks to SES)."""

from __future__ import annotations

from chalicelib.normalise import mail_address
from chalicelib.store import aws
from chalicelib.store.errors import translated


class Mailer:
    def send(self, *, sender: str, recipient: str, subject: str, text: str) -> str:
        """Send a plain-text e-mail; returns SES's message id. A rejected message (e.g. an
        unverified sender identity) raises `StoreError`. An internationalised domain goes to SES
        in Punycode, as SES requires; an address SES cannot take at all goes as given, for SES
        to refuse."""
        with translated("send_email"):
            response = aws.client("ses").send_email(
                Source=sender,
                Destination={"ToAddresses": [mail_address(recipient) or recipient]},
                Message={
                    "Subject": {"Data": subject, "Charset": "UTF-8"},
                    "Body": {"Text": {"Data": text, "Charset": "UTF-8"}},
                },
            )
        return str(response["MessageId"])
