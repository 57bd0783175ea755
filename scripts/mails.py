"""`make mails`: the e-mails the local run's embedded SES has sent: recipient, subject, link.

The embedded AWS (moto server) keeps what SES "sent" and shows it at `/_local/ses/sent`
(scripts/embedded_aws.py). Reads the endpoint from `$RUN_DIR/local.json` (written by `make
run`). `--json` prints the list as JSON (for scripts); `--last N` shows only the newest N.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.request
from dataclasses import asdict, dataclass

from scripts.local_env import SENT_MAIL_PATH, LocalRunNotFound, read_run_info

_LINK = re.compile(r"https?://\S+/activate\?token=\S+")


@dataclass(frozen=True)
class SentMail:
    recipients: list[str]
    subject: str
    link: str | None
    body: str


def link_of(body: str) -> str | None:
    """The activation link in an e-mail body, if it has one."""
    match = _LINK.search(body)
    return match.group(0) if match else None


def sent_mails(aws_endpoint_url: str, *, timeout: float = 10) -> list[SentMail]:
    """Every e-mail the embedded SES has sent, oldest first."""
    url = aws_endpoint_url.rstrip("/") + SENT_MAIL_PATH
    with urllib.request.urlopen(url, timeout=timeout) as response:
        messages = json.load(response)
    found = []
    for message in messages:
        destinations = message.get("destinations") or {}
        recipients = [
            a for key in ("ToAddresses", "CcAddresses") for a in destinations.get(key, [])
        ]
        body = str(message.get("body", ""))
        found.append(SentMail(recipients, str(message.get("subject", "")), link_of(body), body))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--last", type=int, default=0, help="only the newest N e-mails")
    args = parser.parse_args(argv)
    try:
        info = read_run_info()
    except LocalRunNotFound as exc:
        print(exc, file=sys.stderr)
        return 1
    try:
        mails = sent_mails(info["aws_endpoint_url"])
    except OSError as exc:
        print(
            f"the local run's AWS at {info['aws_endpoint_url']} does not answer: {exc}",
            file=sys.stderr,
        )
        return 1
    if args.last > 0:
        mails = mails[-args.last :]
    if args.json:
        print(json.dumps([asdict(m) for m in mails], indent=2, ensure_ascii=False))
        return 0
    if not mails:
        print("no e-mails sent yet (approve a mandate: POST /v1/mandates/<id>/approve)")
        return 0
    for number, mail in enumerate(mails, 1):
        print(f"{number}. to: {', '.join(mail.recipients)}")
        print(f"   subject: {mail.subject}")
        print(f"   link: {mail.link or '-'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
