"""How the identity buckets of a save reach DynamoDB (moto): in conditional transactions, a few
in flight together, instead of a PutItem per bucket; a cancelled transaction means another
writer when DynamoDB says so, and anything else (throttling) is not taken for one."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from chalicelib.errors import ThrottledError
from chalicelib.rules.identity import Bucket, Trace
from chalicelib.store import aws as aws_clients
from chalicelib.store.identity import DynamoIdentities

pytestmark = pytest.mark.integration

EXPIRES_AT = 4_102_444_800


def bucket(n: int) -> Bucket:
    trace = Trace(
        client_id=f"c_{n}",
        legal=False,
        surname="Jansen",
        birth_date="1980-03-12",
        partner_id="demo-volmacht",
        expires_at=EXPIRES_AT,
    )
    return Bucket(f"KVK#{n:08d}", traces=[trace])


@pytest.fixture
def sent(aws: dict[str, str]) -> Any:
    """The DynamoDB operations the store's bulk client sends, in order."""
    client = aws_clients.bulk_client("dynamodb")
    operations: list[str] = []

    def note(model: Any, **_: Any) -> None:
        operations.append(model.name)

    client.meta.events.register("before-call.dynamodb", note)
    yield operations
    client.meta.events.unregister("before-call.dynamodb", note)


def test_the_buckets_of_a_save_go_in_a_few_transactions_and_are_all_written(sent):
    # when a batch's save writes 250 new buckets
    identities = DynamoIdentities()
    assert identities.save([bucket(n) for n in range(250)], []) is True

    # then they went in three transactions (100 items each at most), no PutItem
    assert sent == ["TransactWriteItems"] * 3
    # and every bucket reads back
    stored = identities.buckets([f"KVK#{n:08d}" for n in range(250)])
    assert sorted(b.traces[0].client_id for b in stored.values()) == sorted(
        f"c_{n}" for n in range(250)
    )


def _cancelled(reason: str) -> Any:
    """A before-call hook answering every TransactWriteItems as DynamoDB cancels one for
    `reason` on its last item (the others not in the way)."""

    def answer(params: dict[str, Any], **_: Any) -> Any:
        reasons = [{"Code": "None"} for _ in json.loads(params["body"])["TransactItems"]]
        reasons[-1] = {"Code": reason}
        parsed = {
            "Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
            "CancellationReasons": reasons,
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        return SimpleNamespace(status_code=400, headers={}), parsed

    return answer


@pytest.mark.parametrize("reason", ["ConditionalCheckFailed", "TransactionConflict"])
def test_a_transaction_cancelled_by_another_writer_makes_the_save_resolve_again(aws, reason):
    client = aws_clients.bulk_client("dynamodb")
    hook = _cancelled(reason)
    client.meta.events.register("before-call.dynamodb.TransactWriteItems", hook)
    try:
        saved = DynamoIdentities().save([bucket(1), bucket(2)], [])
    finally:
        client.meta.events.unregister("before-call.dynamodb.TransactWriteItems", hook)
    assert saved is False


def test_a_transaction_cancelled_for_throttling_is_throttling_not_another_writer(aws):
    # given DynamoDB cancels the bucket transaction for throttling
    client = aws_clients.bulk_client("dynamodb")
    hook = _cancelled("ThrottlingError")
    client.meta.events.register("before-call.dynamodb.TransactWriteItems", hook)
    try:
        # when a save is made, then it raises throttling (the message is retried later)
        # instead of resolving again at once as if another delivery had won
        with pytest.raises(ThrottledError):
            DynamoIdentities().save([bucket(1), bucket(2)], [])
    finally:
        client.meta.events.unregister("before-call.dynamodb.TransactWriteItems", hook)
    # and nothing of it was written
    assert DynamoIdentities().buckets(["KVK#00000001", "KVK#00000002"]) == {}


def test_a_transaction_cancelled_for_one_changed_bucket_is_sent_again_without_it(sent):
    # given a bucket another delivery changed since this save's resolution read it
    identities = DynamoIdentities()
    identities.save([bucket(0)], [])
    [stale] = identities.buckets(["KVK#00000000"]).values()
    identities.save([stale], [])  # the other delivery: version 1 -> 2
    sent.clear()

    # when a save sends it with 40 new buckets
    saved = identities.save([stale, *(bucket(n) for n in range(1, 41))], [])

    # then the save is refused (the caller resolves again), after a second transaction with
    # the 40 others, which are written: only the changed bucket goes round again
    assert saved is False
    assert sent == ["TransactWriteItems", "TransactWriteItems"]
    written = identities.buckets([f"KVK#{n:08d}" for n in range(1, 41)])
    assert len(written) == 40
