"""Faults and edge cases found in review: retries after the rows, removals in delivery order, a
lagging index, cancellations with a future end date, a confirm whose queue send fails, parties
that collide, and a policy whose rows are split."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import unquote_plus

import boto3
import pytest

from chalicelib.config import get_settings, reset_settings
from chalicelib.errors import StoreError
from chalicelib.services.ingest import IngestService
from chalicelib.store import keys
from chalicelib.store.blobs import Blobs
from chalicelib.store.queues import Queue
from tests.conftest import bearer
from tests.support.ingest import (
    FakeContext,
    all_items,
    csv_bytes,
    drain,
    invoke,
    person,
    portfolio,
    receive,
    report,
    upload,
)

pytestmark = pytest.mark.integration

PARTNER = "demo-volmacht"


class Interrupted(Exception):
    """Stands for the Lambda runtime killing the function."""


def policy(number: str) -> dict[str, Any]:
    table = boto3.resource("dynamodb", region_name="eu-west-1").Table(get_settings().table_name)
    return table.get_item(Key={"pk": keys.policy_pk(PARTNER, number), "sk": "POLICY"})["Item"]


def pending_by_key(aws: dict[str, str]) -> dict[str, dict[str, Any]]:
    messages = [
        m for m in receive(aws["ingest_queue_url"], 10) if "Records" in json.loads(m["Body"])
    ]
    return {
        unquote_plus(json.loads(m["Body"])["Records"][0]["s3"]["object"]["key"]): m
        for m in messages
    }


def test_a_retry_after_every_row_was_read_finishes_the_delivery_instead_of_rejecting_it(
    aws, monkeypatch
):
    # given writing the report fails once, after all rows are stored
    real_put_json = Blobs.put_json
    failures = []

    def fails_once(self: Blobs, key: str, document: Any) -> None:
        if not failures:
            failures.append(key)
            raise StoreError("put_object: SlowDown")
        real_put_json(self, key, document)

    monkeypatch.setattr(Blobs, "put_json", fails_once)

    # when the delivery is processed and SQS retries it
    upload(f"incoming/{PARTNER}/mutation/m.csv", csv_bytes([person("M1", PP_VRWRKCD="0")]))
    drain(aws["ingest_queue_url"])

    # then the retry finishes it as accepted, with the row counted once
    assert failures
    result = report(PARTNER)[-1]
    assert result["status"] == "accepted"
    assert result["rows_accepted"] == 1
    assert result["error_counts"] == {}


def test_a_kill_while_ending_policies_is_retried_and_counts_every_ended_policy_once(
    aws, monkeypatch
):
    # given 100 policies, and a full delivery of 40 (ending 60 is allowed here)
    monkeypatch.setenv("INGEST_BATCH_ROWS", "25")
    monkeypatch.setenv("FULL_DELIVERY_MAX_REMOVAL_PCT", "100")
    reset_settings()
    upload(f"incoming/{PARTNER}/full/m1.csv", csv_bytes(portfolio(100)))
    drain(aws["ingest_queue_url"])
    time.sleep(0.01)
    upload(f"incoming/{PARTNER}/full/m2.csv", csv_bytes(portfolio(40)))

    # when the function is killed once while it ends the missing policies
    looks = []

    def remaining() -> int:
        looks.append(1)
        if len(looks) == 4:
            raise Interrupted
        return 900_000

    drain(aws["ingest_queue_url"], context=FakeContext(remaining))

    # then the retry ended all 60, and the report says so
    assert len(looks) > 4
    removed = [
        i for i in all_items() if i["type"] == "policy" and i["status"] == "removed_from_portfolio"
    ]
    assert len(removed) == 60
    result = report(PARTNER)[-1]
    assert result["status"] == "accepted"
    assert result["policies_ended"] == 60


def test_an_older_mutation_processed_after_a_newer_full_delivery_does_not_revive_a_removed_policy(
    aws,
):
    # given ten policies; then the partner sends a mutation of one, then a full file without it
    upload(f"incoming/{PARTNER}/full/m1.csv", csv_bytes(portfolio(10)))
    drain(aws["ingest_queue_url"])
    time.sleep(0.01)
    changed = portfolio(10)[9] | {"PP_VRWRKCD": "1"}
    upload(f"incoming/{PARTNER}/mutation/older.csv", csv_bytes([changed]))
    time.sleep(0.01)
    upload(f"incoming/{PARTNER}/full/newer.csv", csv_bytes(portfolio(9)))
    pending = pending_by_key(aws)

    # when the newer full delivery is processed first and the older mutation after it
    invoke("ingest", [pending[f"incoming/{PARTNER}/full/newer.csv"]])
    assert policy("P00009")["status"] == "removed_from_portfolio"
    invoke("ingest", [pending[f"incoming/{PARTNER}/mutation/older.csv"]])

    # then the removal stands and the older row is reported as superseded
    assert policy("P00009")["status"] == "removed_from_portfolio"
    assert "gsi2pk" not in policy("P00009")
    older = next(r for r in report(PARTNER) if r["object_key"].endswith("older.csv"))
    assert older["rows_superseded"] == 1
    assert older["rows_accepted"] == 0


def test_a_lagging_index_does_not_end_a_policy_the_delivery_just_wrote(aws, monkeypatch):
    # given ten policies, and an ACTIVE index that still shows one of them as it was before
    upload(f"incoming/{PARTNER}/full/m1.csv", csv_bytes(portfolio(10)))
    drain(aws["ingest_queue_url"])
    stale = dict(policy("P00000"))
    real_candidates = IngestService._removal_candidates

    def lagging(self: IngestService, record: dict[str, Any]) -> Any:
        yield from real_candidates(self, record)
        if record["object_key"].endswith("m2.csv"):
            yield dict(stale)

    monkeypatch.setattr(IngestService, "_removal_candidates", lagging)

    # when a full delivery re-delivers that policy with other modules
    time.sleep(0.01)
    rows = portfolio(10)
    rows[0]["PP_DEKKING"] = "RP|VK|WC|IN|FV"
    upload(f"incoming/{PARTNER}/full/m2.csv", csv_bytes(rows))
    drain(aws["ingest_queue_url"])

    # then it stays active with its new data, and nothing was ended
    fresh = policy("P00000")
    assert fresh["status"] == "active"
    assert fresh["modules"] == ["RP", "VK", "WC", "IN", "FV"]
    assert report(PARTNER)[-1]["policies_ended"] == 0


def test_a_cancellation_with_a_future_end_date_ends_on_that_date(aws):
    upload(f"incoming/{PARTNER}/full/base.csv", csv_bytes([person("C1")]))
    drain(aws["ingest_queue_url"])
    cancel = person("C1", PP_VRWRKCD="2", PP_EXPDAT="20990331")
    upload(f"incoming/{PARTNER}/mutation/cancel.csv", csv_bytes([cancel]))
    drain(aws["ingest_queue_url"])
    assert policy("C1")["status"] == "cancelled"
    assert policy("C1")["ended_on"] == "2099-03-31"
    assert policy("C1")["end_date"] == "2099-03-31"


def test_a_confirm_whose_queue_send_fails_can_be_confirmed_again(aws, api, monkeypatch):
    # given a held full delivery
    upload(f"incoming/{PARTNER}/full/m1.csv", csv_bytes(portfolio(10)))
    drain(aws["ingest_queue_url"])
    time.sleep(0.01)
    upload(f"incoming/{PARTNER}/full/m2.csv", csv_bytes(portfolio(5)))
    drain(aws["ingest_queue_url"])
    held = report(PARTNER)[-1]
    path = f"/v1/deliveries/{held['delivery_id']}/confirm"

    # when the first confirm cannot reach the queue
    def queue_down(self: Queue, message: dict[str, Any], **kwargs: Any) -> str:
        raise StoreError("send_message: unavailable")

    monkeypatch.setattr(Queue, "send", queue_down)
    first = api.http.post(path, headers=bearer("admin"))
    monkeypatch.undo()

    # then it says so, the delivery is still held, and a second confirm goes through
    assert first.status_code == 503
    still = api.http.get(f"/v1/deliveries/{held['delivery_id']}", headers=bearer("admin"))
    assert still.json_body["status"] == "held_for_review"
    second = api.http.post(path, headers=bearer("admin"))
    assert second.status_code == 202
    drain(aws["ingest_queue_url"])
    assert report(PARTNER)[-1]["policies_ended"] == 5


def test_two_parties_that_would_be_one_client_on_one_policy_reject_the_policy(aws):
    # given twins with the same initials on one household policy
    rows = [
        person("T1", PP_GEZIN="H"),
        person("T1", PP_GEZIN="H", ENTITEIT="KN", VOORL="J.", GEBDAT="20150303"),
        person("T1", PP_GEZIN="H", ENTITEIT="KN", VOORL="J.", GEBDAT="20150303"),
    ]
    upload(f"incoming/{PARTNER}/full/twins.csv", csv_bytes(rows))
    drain(aws["ingest_queue_url"])

    # then the policy is rejected with a reason instead of silently losing a party
    result = report(PARTNER)[-1]
    assert result["error_counts"].get("duplicate_party") == 1
    assert result["rows_accepted"] == 0
    assert not [i for i in all_items() if i["type"] == "policy"]


def test_rows_of_one_policy_split_over_the_file_are_rejected_the_second_time(aws, monkeypatch):
    # given a file where policy S1's rows are not adjacent, in separate write batches
    monkeypatch.setenv("INGEST_BATCH_ROWS", "25")
    reset_settings()
    household = [
        person("S1", VOORL="C."),
        person("S1", ENTITEIT="SP", VOORL="B.", GEBDAT="19820202"),
    ]
    rows = [person("S1"), *portfolio(30), *household]
    upload(f"incoming/{PARTNER}/full/split.csv", csv_bytes(rows))
    drain(aws["ingest_queue_url"])

    # then the first group is stored, the later one is rejected with a clear code
    result = report(PARTNER)[-1]
    assert result["error_counts"] == {"policy_rows_not_adjacent": 1}
    assert result["rows_rejected"] == 2
    assert result["policies_written"] == 31
    parties = [i for i in all_items() if i["type"] == "party" and i["policy_number"] == "S1"]
    assert [p["role"] for p in parties] == ["VP"]


def test_split_rows_within_one_batch_are_rejected_too(aws):
    rows = [
        person("S2"),
        person("X1", HUISNR="9"),
        person("S2", VOORL="C."),
        person("S2", ENTITEIT="SP", VOORL="B.", GEBDAT="19820202"),
    ]
    upload(f"incoming/{PARTNER}/full/split-small.csv", csv_bytes(rows))
    drain(aws["ingest_queue_url"])
    result = report(PARTNER)[-1]
    assert result["error_counts"] == {"policy_rows_not_adjacent": 1}
    assert result["policies_written"] == 2
