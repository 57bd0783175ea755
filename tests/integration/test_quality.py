"""Field quality and check-only deliveries through the real upload path on moto."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from chalicelib.config import get_settings, reset_settings
from tests.conftest import bearer
from tests.support.ingest import all_items, csv_bytes, drain, portfolio, receive, report, upload
from tests.unit.test_quality_scenarios import clients_on_two_policies, rows_with_known_gaps

pytestmark = pytest.mark.integration

PARTNER = "demo-volmacht"


def deliver(aws: dict[str, str], kind: str, name: str, data: bytes) -> dict[str, Any]:
    upload(f"incoming/{PARTNER}/{kind}/{name}", data)
    drain(aws["ingest_queue_url"])
    return report(PARTNER)[-1]


def field(document: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in document["quality"]["fields"] if f["field"] == name)


def test_a_delivery_with_a_known_share_of_gaps_shows_exactly_that_completeness_and_validity(aws):
    # given 200 policies: a quarter without e-mail, a tenth with an invalid mobile number
    result = deliver(aws, "full", "gaps.csv", csv_bytes(rows_with_known_gaps(200)))

    # then the report, and the stored delivery record, show exactly those shares
    assert (field(result, "email")["completeness"], field(result, "email")["validity"]) == (
        0.75,
        1.0,
    )
    phone = field(result, "phone")
    assert (phone["completeness"], phone["validity"], phone["errors"]) == (
        1.0,
        0.9,
        {"invalid_phone": 20},
    )
    record = next(i for i in all_items() if i["type"] == "delivery")
    stored = record["progress"]["quality"]["fields"]
    assert (stored["email"]["filled"], stored["phone"]["valid"]) == (150, 180)


def test_a_check_only_delivery_leaves_the_portfolio_untouched_and_writes_a_report(aws):
    # given a stored portfolio
    deliver(aws, "full", "m1.csv", csv_bytes(portfolio(20)))
    before = sorted(
        (i["pk"], i["sk"], i.get("data_seq")) for i in all_items() if i["type"] != "delivery"
    )

    # when the partner checks another export of overlapping policies
    checked = deliver(aws, "check", "try.csv", csv_bytes(rows_with_known_gaps(30)))

    # then not one portfolio item changed, and the check has its report and CSV
    after = sorted(
        (i["pk"], i["sk"], i.get("data_seq")) for i in all_items() if i["type"] != "delivery"
    )
    assert after == before
    assert (checked["kind"], checked["rows_total"], checked["rows_rejected"]) == ("check", 30, 3)
    assert checked["policies_written"] == 0
    assert field(checked, "email")["filled"] == 22
    s3 = boto3.client("s3", region_name=get_settings().aws_region)
    csv_key = f"reports/{PARTNER}/{checked['delivery_id']}.csv"
    text = s3.get_object(Bucket=get_settings().bucket_name, Key=csv_key)["Body"].read().decode()
    assert text.count("invalid_phone") == 3


def get(api: Any, path: str, role: str, partner: str | None = None) -> tuple[int, Any]:
    response = api.http.get(path, headers=bearer(role, partner))
    return response.status_code, json.loads(response.body)


def test_a_partner_reads_its_own_scorecard_and_an_admin_any_and_the_ranking(api, aws):
    # given two full deliveries of one partner, the second with more e-mail addresses
    rows = rows_with_known_gaps(40)
    deliver(aws, "full", "m1.csv", csv_bytes([dict(r, EMAIL="") for r in rows]))
    deliver(aws, "full", "m2.csv", csv_bytes(rows))
    deliver(aws, "check", "try.csv", csv_bytes(portfolio(3)))

    # when the partner reads its scorecard
    status, card = get(api, f"/v1/partners/{PARTNER}/quality", "partner", PARTNER)

    # then it shows the latest full delivery (not the check), and the trend of both
    assert status == 200
    latest = report(PARTNER)[1]
    assert card["delivery_id"] == latest["delivery_id"]
    email = next(f for f in card["fields"] if f["field"] == "email")
    assert email["completeness"] == 0.75
    first, second = card["trend"]
    assert first["completeness"] < second["completeness"]
    assert card["top_errors"][0]["code"] == "invalid_phone"
    assert card["top_errors"][0]["message_en"] == "Phone number in … is invalid."

    # and an administrator reads it too, and the ranking lists every partner, worst first
    assert get(api, f"/v1/partners/{PARTNER}/quality", "admin")[1] == card
    status, ranking = get(api, "/v1/partners/quality", "admin")
    assert status == 200
    order = [c["partner_id"] for c in ranking["partners"]]
    assert order[-1] == PARTNER  # the only partner with a scored delivery
    assert set(order) == set(get_settings().partners)


def test_the_scorecard_counts_each_client_once_by_the_registers_client_id(api, aws):
    # given a full delivery of 100 clients on 150 policies, 50 of them with an e-mail address
    # on their second policy only (and a refused row of someone else)
    result = deliver(aws, "full", "twice.csv", csv_bytes(clients_on_two_policies()))

    # then the report counts 100 clients (one client id each in the register), half of them
    # findable by e-mail, where a third of the rows have one
    assert (result["quality"]["clients"], result["quality"]["valid_rows"]) == (100, 150)
    email = next(f for f in result["quality"]["recognisable"] if f["form"] == "email")
    assert (email["clients"], email["client_share"], email["rows"], email["share"]) == (
        50,
        0.5,
        50,
        0.3333,
    )
    assert len({i["client_id"] for i in all_items() if i["type"] == "party"}) == 100

    # and the partner's scorecard shows the same, by clients and by rows
    answer = api.http.get(f"/v1/partners/{PARTNER}/quality", headers=bearer("partner", PARTNER))
    card = json.loads(answer.body)
    shares = {r["form"]: (r["clients"], r["client_share"], r["rows"]) for r in card["recognisable"]}
    assert shares["email"] == (50, 0.5, 50)
    assert shares["phone"] == (100, 1.0, 150)
    # and its work parts are beside the delivery only (no personal data: numbers)
    settings = get_settings()
    s3 = boto3.client("s3", region_name=settings.aws_region)
    parts = s3.list_objects_v2(
        Bucket=settings.bucket_name, Prefix=f"work/{result['delivery_id']}/clients/"
    )
    assert [o["Size"] % 8 for o in parts["Contents"]] == [0] * len(parts["Contents"])


def test_a_partner_may_not_read_another_partners_scorecard_and_an_unknown_partner_is_404(api):
    status, body = get(api, "/v1/partners/demo-verzekeraar/quality", "partner", PARTNER)
    assert (status, body["error"]["code"]) == (403, "other_partner")
    status, body = get(api, "/v1/partners/no-such-partner/quality", "admin")
    assert (status, body["error"]["code"]) == (404, "partner_not_found")
    status, body = get(api, "/v1/partners/quality", "partner", PARTNER)
    assert status == 403


CONTACT = "data@volmacht.example"


@pytest.fixture
def contacts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTNER_CONTACTS", f"{PARTNER}={CONTACT}")
    reset_settings()


def sent_emails() -> list[Any]:
    return list(ses_backends[DEFAULT_ACCOUNT_ID]["eu-west-1"].sent_messages)


def test_a_rejected_and_a_held_delivery_each_send_one_email_and_a_redelivery_sends_none(
    aws, contacts
):
    # given a stored portfolio, then a file that is rejected and a full one that is held
    deliver(aws, "full", "m1.csv", csv_bytes(portfolio(10)))
    rejected = deliver(aws, "full", "bad.csv", csv_bytes([dict(portfolio(1)[0], PCODE="1")]))
    held = deliver(aws, "full", "half.csv", csv_bytes(portfolio(2)))
    assert (rejected["status"], held["status"]) == ("rejected", "held_for_review")

    # then each put one notice on the mail queue
    messages = receive(aws["activation_queue_url"], 10)
    notices = sorted((json.loads(m["Body"]) for m in messages), key=lambda n: n["status"])
    assert [(n["delivery_id"], n["status"]) for n in notices] == [
        (held["delivery_id"], "held_for_review"),
        (rejected["delivery_id"], "rejected"),
    ]

    # when the mail worker runs, and one of the messages is delivered a second time
    drain(aws["activation_queue_url"], function="send_activation")
    boto3.client("sqs", region_name="eu-west-1").send_message(
        QueueUrl=aws["activation_queue_url"], MessageBody=messages[0]["Body"]
    )
    drain(aws["activation_queue_url"], function="send_activation")

    # then SES sent exactly one e-mail per delivery, to the partner's contact, without values
    emails = sent_emails()
    assert len(emails) == 2
    assert {tuple(e.destinations["ToAddresses"]) for e in emails} == {(CONTACT,)}
    bodies = " ".join(e.body for e in emails)
    assert rejected["delivery_id"] in bodies
    assert held["delivery_id"] in bodies
    assert "Berg" not in bodies  # the rows' surname
    assert "bad.csv" not in bodies
