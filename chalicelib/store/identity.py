"""Identity resolution's storage (docs/architecture.md, "client_id"): the identity buckets the
ingest compares a delivered party with, the parties an older version stored on a policy, and
the joins of client ids (old id -> surviving id) that the dossier and the mandates follow.

Reads are batched: the buckets of a batch of policies are one BatchGetItem per 100 keys; a
policy written before traces were kept on the policy item costs one Query, once."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from boto3.dynamodb.conditions import Attr

from chalicelib.clock import epoch
from chalicelib.errors import ConditionFailed
from chalicelib.rules.identity import Bucket, Trace
from chalicelib.rules.matching import is_current
from chalicelib.store import keys
from chalicelib.store.table import TRANSACT_MAX, Condition, Item, Table

# A bucket item stays far below DynamoDB's 400 KB: the newest traces are kept.
MAX_TRACES_PER_BUCKET = 1000
MANDATE_TYPE = "mandate"
# Bucket reads, and bucket transactions, of one batch in flight at once.
IN_FLIGHT = 4
# A transaction's items stay below DynamoDB's 4 MB per TransactWriteItems.
TRANSACTION_BYTES = 3_000_000


@dataclass(frozen=True, slots=True)
class Join:
    """Client id `old` is the same client as `into`, recorded until `expires_at`."""

    old: str
    into: str
    expires_at: int


@dataclass(frozen=True, slots=True)
class ClientIndex:
    """What the client index holds for one id: its party items, the ids joined into it, and
    the id it was joined into (None while it is a surviving id)."""

    parties: list[Item]
    aliases: list[str]
    joined_into: str | None


class IdentityStore(Protocol):
    def buckets(self, bucket_keys: Sequence[str]) -> dict[str, Bucket]: ...
    def parties_of(self, partner_id: str, numbers: Sequence[str]) -> dict[str, list[Item]]: ...
    def save(self, buckets: Sequence[Bucket], joins: Sequence[Join]) -> bool:
        """Write the buckets (each only if still at the version it was read at) and the joins;
        False when another writer changed one of them since: the other buckets are written all
        the same, the joins are not."""
        ...


def bucket_item(bucket: Bucket, now: int | None = None) -> Item:
    """The stored form of a bucket; a trace past its own expiry at `now` (default: the
    clock's) is left out, so no client's data outlives its retention inside a bucket another
    client keeps alive."""
    at = int(epoch()) if now is None else now
    live = [t for t in bucket.traces if not t.expires_at or t.expires_at > at]
    traces = sorted(live, key=lambda t: -t.expires_at)[:MAX_TRACES_PER_BUCKET]
    expiries = [t.expires_at for t in traces] + [until for _, until in bucket.joined.values()]
    return {
        "pk": keys.identity_pk(bucket.key),
        "sk": keys.IDENTITY_SK,
        "type": "identity",
        "traces": [t.as_item() for t in traces],
        "joined": {
            old: {"into": into, "exp": until} for old, (into, until) in bucket.joined.items()
        },
        "expires_at": max(expiries, default=0),
        "version": bucket.version + 1,
    }


def bucket_condition(bucket: Bucket, now: int) -> Condition:
    """A bucket is written only over the version it was read at, or where none was. Reads
    leave out an item past its expiry that DynamoDB's TTL has not deleted yet (that can take
    days): such an item counts as none, or no write could ever replace it."""
    if bucket.version == 0:
        return "attribute_not_exists(pk) OR expires_at < :now", {":now": now}
    return "version = :version", {":version": bucket.version}


def bucket_from_item(key: str, item: Item) -> Bucket:
    return Bucket(
        key=key,
        traces=[Trace.from_item(t) for t in item.get("traces", [])],
        joined={
            old: (str(entry["into"]), int(entry["exp"]))
            for old, entry in (item.get("joined") or {}).items()
        },
        version=int(item.get("version", 0)),
    )


def join_items(join: Join) -> list[Item]:
    """The two items of a join: found from the old id (where it went) and from the surviving
    id (which ids it holds)."""
    common = {"type": "alias", "old_client_id": join.old, "client_id": join.into}
    return [
        {
            "pk": keys.alias_pk(join.old),
            "sk": keys.ALIAS_SK,
            **common,
            "gsi1pk": keys.client_gsi1pk(join.old),
            "gsi1sk": keys.joined_into_gsi1sk(join.into),
            "expires_at": join.expires_at,
        },
        {
            "pk": keys.alias_pk(join.old),
            "sk": keys.ALIAS_SURVIVOR_SK,
            **common,
            "gsi1pk": keys.client_gsi1pk(join.into),
            "gsi1sk": keys.alias_gsi1sk(join.old),
            "expires_at": join.expires_at,
        },
    ]


def join_keys(client_ids: Iterable[str]) -> list[tuple[str, str]]:
    """Table keys of the joins of `client_ids` (an id that was never joined has none)."""
    return [(keys.alias_pk(client_id), keys.ALIAS_SK) for client_id in client_ids]


def joined_ids(items: Iterable[Item]) -> dict[str, str]:
    """Old id -> surviving id, from the join items among `items` (a batch read's answer)."""
    return {
        str(item["old_client_id"]): str(item["client_id"])
        for item in items
        if item.get("type") == "alias" and item.get("sk") == keys.ALIAS_SK
    }


def split_client_index(client_id: str, items: Iterable[Item]) -> ClientIndex:
    """Sort a client index partition's items (parties, joins; mandates are left out)."""
    parties: list[Item] = []
    aliases: list[str] = []
    joined_into: str | None = None
    for item in items:
        sk = str(item["gsi1sk"])
        if sk.startswith(keys.POLICY_REF_PREFIX):
            parties.append(item)
        elif sk.startswith(keys.ALIAS_REF_PREFIX):
            aliases.append(str(item["old_client_id"]))
        elif sk.startswith(keys.JOINED_INTO_PREFIX) and item.get("old_client_id") == client_id:
            joined_into = str(item["client_id"])
    return ClientIndex(parties, aliases, joined_into)


def _transactions(
    requests: list[tuple[Item, Condition | None]],
) -> Iterator[list[tuple[Item, Condition | None]]]:
    chunk: list[tuple[Item, Condition | None]] = []
    size = 0
    for request in requests:
        item_size = len(json.dumps(request[0], default=str))
        if chunk and (len(chunk) == TRANSACT_MAX or size + item_size > TRANSACTION_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(request)
        size += item_size
    if chunk:
        yield chunk


class DynamoIdentities:
    def __init__(self, table: Table | None = None) -> None:
        self.table = table or Table()

    def buckets(self, bucket_keys: Sequence[str]) -> dict[str, Bucket]:
        """The stored buckets of `bucket_keys` (consistent reads, so a batch sees the buckets
        the batch before it wrote); a key never stored gives no bucket. The ingest's cheap
        read: the bulk client, answers decoded by hand, chunks of 100 in flight together."""
        by_pk = {keys.identity_pk(key): key for key in dict.fromkeys(bucket_keys)}
        found: dict[str, Bucket] = {}
        for item in self.table.read_many(
            [(pk, keys.IDENTITY_SK) for pk in by_pk], consistent=True, concurrency=IN_FLIGHT
        ):
            key = by_pk[str(item["pk"])]
            found[key] = bucket_from_item(key, item)
        return found

    def parties_of(self, partner_id: str, numbers: Sequence[str]) -> dict[str, list[Item]]:
        """The current party items of policies written before traces were kept on the policy
        item: one Query per policy partition (policy item and its parties)."""
        found: dict[str, list[Item]] = {}
        for number in dict.fromkeys(numbers):
            policy: Item | None = None
            parties: list[Item] = []
            for item in self.table.query(keys.policy_pk(partner_id, number)):
                if item["sk"] == keys.POLICY_SK:
                    policy = item
                elif str(item["sk"]).startswith(keys.PARTY_SK_PREFIX):
                    parties.append(item)
            found[number] = [p for p in parties if is_current(p, policy)]
        return found

    def save(self, buckets: Sequence[Bucket], joins: Sequence[Join]) -> bool:
        """The buckets in conditional transactions of up to 100 items and ~3 MB, up to
        `IN_FLIGHT` at once (BatchWriteItem has no conditions; a PutItem per bucket
        cost a request, and its client CPU, per new row): a bucket two partners' deliveries
        change at the same moment is written by one of them; the other gets False, reads again
        and resolves again. Its other buckets are written all the same (`_put_if`), which its
        second resolution reads back as its own traces, so only the buckets another delivery
        changed go round again. The joins go last, and only when every bucket was written."""
        now = int(epoch())
        chunks = list(
            _transactions([(bucket_item(b, now), bucket_condition(b, now)) for b in buckets])
        )
        if len(chunks) == 1:
            written = [self._put_if(chunks[0])]
        elif chunks:
            workers = min(IN_FLIGHT, len(chunks))
            with ThreadPoolExecutor(workers, thread_name_prefix="identity-save") as pool:
                written = list(pool.map(self._put_if, chunks))
        else:
            written = []
        if not all(written):
            return False
        unconditional: list[tuple[Item, Condition | None]] = [
            (item, None) for join in joins for item in join_items(join)
        ]
        for chunk in _transactions(unconditional):
            self.table.put_all([i for i, _ in chunk])
        return True

    def _put_if(self, chunk: list[tuple[Item, Condition | None]]) -> bool:
        """One transaction of conditional puts; False when a condition no longer held or
        another transaction held one of the items. DynamoDB cancels a transaction whole and
        says which items were in the way: the others go again in a smaller transaction (one
        bucket another delivery changed must not send the other 99 round again, where each
        is exposed to other deliveries' writes once more)."""
        complete = True
        while chunk:
            try:
                self.table.put_all([i for i, _ in chunk], conditions=[c for _, c in chunk])
            except ConditionFailed as cancelled:
                clear = [chunk[i] for i in cancelled.clear if i < len(chunk)]
                if len(clear) >= len(chunk):
                    return False
                chunk, complete = clear, False
            else:
                return complete
        return False

    def client_index(self, client_id: str) -> ClientIndex:
        """A client's index partition in one Query: its party items, the ids joined into it
        and where it was joined into. The range spans ALIAS#, JOINED#, MANDATE# and POLICY#;
        mandates are read along (a client has few) and left out."""
        return split_client_index(
            client_id,
            self.table.query(
                keys.client_gsi1pk(client_id),
                index="gsi1",
                sk_between=(keys.ALIAS_REF_PREFIX, keys.POLICY_REF_PREFIX + "\uffff"),
            ),
        )

    def asker_index(self, client_id: str) -> ClientIndex:
        """What a coverage check needs of an asker, whatever the client holds: where the id
        was joined into and its first party item. One Query over the same range as
        `client_index`, mandates filtered out, stopping after two items (the join sorts first,
        then the parties), so a household or company with thousands of policies is not read
        page after page on the request path."""
        return split_client_index(
            client_id,
            self.table.query(
                keys.client_gsi1pk(client_id),
                index="gsi1",
                sk_between=(keys.JOINED_INTO_PREFIX, keys.POLICY_REF_PREFIX + "\uffff"),
                filter_condition=Attr("type").ne(MANDATE_TYPE),
                limit=2,
            ),
        )

    def parties_of_client(self, client_id: str) -> Iterator[Item]:
        """The party items under one client id (the ids joined into another are read so)."""
        return self.table.query(
            keys.client_gsi1pk(client_id), index="gsi1", sk_prefix=keys.POLICY_REF_PREFIX
        )


__all__ = [
    "ClientIndex",
    "DynamoIdentities",
    "IdentityStore",
    "Join",
    "bucket_condition",
    "bucket_from_item",
    "bucket_item",
    "join_items",
    "join_keys",
    "joined_ids",
    "split_client_index",
]
