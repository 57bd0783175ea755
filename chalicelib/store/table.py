"""The DynamoDB table behind a small interface. Every read drops items whose expiry has passed:
DynamoDB deletes expired items lazily (up to days later), so no caller may ever see one."""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from boto3.dynamodb.conditions import Attr, ConditionBase, Key
from boto3.dynamodb.types import DYNAMODB_CONTEXT, Binary, TypeSerializer

from chalicelib import clock
from chalicelib.config import get_settings
from chalicelib.errors import ThrottledError
from chalicelib.store import aws
from chalicelib.store.errors import translated

Item = dict[str, Any]
BATCH_GET_MAX = 100
TRANSACT_MAX = 100
# A condition of a transactional put: the expression and the values it names.
Condition = tuple[str, Mapping[str, Any]]


_type_serialise = TypeSerializer().serialize


def wire_value(value: Any) -> dict[str, Any]:
    """A value as DynamoDB's JSON protocol sends it ({"S": ...}, {"N": ...}, ...): the types
    register items hold, by hand (boto3's TypeSerializer takes several times as long); anything
    else (Decimal, sets, bytes) as TypeSerializer makes it, with its errors (a float)."""
    kind = value.__class__
    if kind is str:
        return {"S": value}
    if kind is bool:
        return {"BOOL": value}
    if kind is int:
        return {"N": str(value)}
    if kind is list or kind is tuple:
        return {"L": [wire_value(v) for v in value]}
    if kind is dict:
        return {"M": {str(k): wire_value(v) for k, v in value.items()}}
    if value is None:
        return {"NULL": True}
    return dict(_type_serialise(value))


def wire_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: wire_value(value) for name, value in item.items()}


_number = DYNAMODB_CONTEXT.create_decimal


def value_from_wire(wire: Mapping[str, Any]) -> Any:
    """A value of a DynamoDB answer as boto3's TypeDeserializer gives it (numbers as Decimal in
    DynamoDB's context, sets as sets, binaries as Binary), by hand: several times faster."""
    for kind, value in wire.items():
        if kind == "S":
            return value
        if kind == "N":
            return _number(value)
        if kind == "M":
            return {name: value_from_wire(inner) for name, inner in value.items()}
        if kind == "L":
            return [value_from_wire(inner) for inner in value]
        if kind == "BOOL":
            return value
        if kind == "NULL":
            return None
        if kind == "SS":
            return set(value)
        if kind == "NS":
            return {_number(inner) for inner in value}
        if kind == "B":
            return Binary(value)
        if kind == "BS":
            return {Binary(inner) for inner in value}
    raise TypeError(f"not a DynamoDB value: {wire!r}")


def item_from_wire(wire: Mapping[str, Any]) -> Item:
    return {name: value_from_wire(value) for name, value in wire.items()}


def _live(item: Mapping[str, Any], now: float) -> bool:
    expires_at = item.get("expires_at")
    return expires_at is None or float(expires_at) > now


class Table:
    """One DynamoDB table. `calls` counts requests, so benchmarks and tests can see them."""

    def __init__(self, name: str | None = None) -> None:
        self._name = name or get_settings().table_name
        self._table: Any = None

    @property
    def table(self) -> Any:
        if self._table is None:
            self._table = aws.resource("dynamodb").Table(self._name)
        return self._table

    @property
    def name(self) -> str:
        return self._name

    def get(self, pk: str, sk: str, *, consistent: bool = False) -> Item | None:
        with translated("get_item"):
            response = self.table.get_item(Key={"pk": pk, "sk": sk}, ConsistentRead=consistent)
        item = response.get("Item")
        if item is None or not _live(item, clock.epoch()):
            return None
        return dict(item)

    def put(
        self, item: Item, *, condition: ConditionBase | str | None = None, **kwargs: Any
    ) -> None:
        params: dict[str, Any] = {"Item": item}
        if condition is not None:
            params["ConditionExpression"] = condition
        params.update(kwargs)
        with translated("put_item"):
            self.table.put_item(**params)

    def update(self, pk: str, sk: str, **kwargs: Any) -> Item:
        """Raw UpdateItem (UpdateExpression & co. as keyword arguments); returns ALL_NEW."""
        with translated("update_item"):
            response = self.table.update_item(
                Key={"pk": pk, "sk": sk}, ReturnValues="ALL_NEW", **kwargs
            )
        return dict(response.get("Attributes", {}))

    def delete(self, pk: str, sk: str) -> None:
        with translated("delete_item"):
            self.table.delete_item(Key={"pk": pk, "sk": sk})

    def query(
        self,
        pk: str,
        *,
        index: str | None = None,
        sk_prefix: str | None = None,
        sk_between: tuple[str, str] | None = None,
        sk_before: str | None = None,
        forward: bool = True,
        limit: int | None = None,
        filter_condition: ConditionBase | None = None,
        consistent: bool = False,
        attributes: Sequence[str] | None = None,
    ) -> Iterator[Item]:
        """Yield live items of one partition (of the table or an index), following pages;
        with `attributes`, only those attributes of each item (and its expiry). `sk_before`:
        only sort keys below it (within `sk_prefix`, when given too): where the previous page
        of a newest-first listing ended."""
        pk_name, sk_name = ("pk", "sk") if index is None else (f"{index}pk", f"{index}sk")
        condition: ConditionBase = Key(pk_name).eq(pk)
        if sk_before is not None and sk_prefix is not None:
            # One condition per sort key: the range up to the cursor, the cursor itself dropped
            # below.
            condition = condition & Key(sk_name).between(sk_prefix, sk_before)
        elif sk_before is not None:
            condition = condition & Key(sk_name).lt(sk_before)
        elif sk_prefix is not None:
            condition = condition & Key(sk_name).begins_with(sk_prefix)
        elif sk_between is not None:
            condition = condition & Key(sk_name).between(*sk_between)
        now = clock.epoch()
        # Expired items are filtered server-side too, so a page is not wasted on them.
        not_expired = Attr("expires_at").not_exists() | Attr("expires_at").gt(int(now))
        params: dict[str, Any] = {
            "KeyConditionExpression": condition,
            "ScanIndexForward": forward,
            "FilterExpression": not_expired
            if filter_condition is None
            else not_expired & filter_condition,
        }
        if index is not None:
            params["IndexName"] = index
        if consistent:
            params["ConsistentRead"] = True
        if attributes is not None:
            # Own placeholders: boto3 adds the conditions' names (#n0, ...) to these.
            names = {
                f"#p{i}": name for i, name in enumerate(dict.fromkeys([*attributes, "expires_at"]))
            }
            params["ProjectionExpression"] = ", ".join(names)
            params["ExpressionAttributeNames"] = names
        returned = 0
        while True:
            if limit is not None:
                params["Limit"] = max(limit - returned, 1)
            with translated("query"):
                response = self.table.query(**params)
            for item in response.get("Items", []):
                if _live(item, now) and (sk_before is None or item.get(sk_name) != sk_before):
                    yield dict(item)
                    returned += 1
                    if limit is not None and returned >= limit:
                        return
            last = response.get("LastEvaluatedKey")
            if not last:
                return
            params["ExclusiveStartKey"] = last

    def scan_kind(self, pk_prefix: str, sk: str) -> Iterator[Item]:
        """Every live item whose pk starts with `pk_prefix` and whose sk is `sk`, following
        pages: a Scan of the whole table, for one-off maintenance only (never a request path)."""
        params: dict[str, Any] = {
            "FilterExpression": Attr("pk").begins_with(pk_prefix) & Attr("sk").eq(sk)
        }
        now = clock.epoch()
        while True:
            with translated("scan"):
                response = self.table.scan(**params)
            yield from (dict(item) for item in response.get("Items", []) if _live(item, now))
            last = response.get("LastEvaluatedKey")
            if not last:
                return
            params["ExclusiveStartKey"] = last

    def batch_get(self, keys: Iterable[tuple[str, str]], *, consistent: bool = False) -> list[Item]:
        """One BatchGetItem for up to 100 keys (plus retries of unprocessed keys only)."""
        unique = list(dict.fromkeys(keys))
        if len(unique) > BATCH_GET_MAX:
            raise ValueError(f"batch_get takes at most {BATCH_GET_MAX} keys")
        if not unique:
            return []
        return self._read_chunk(unique, consistent)

    def batch_get_many(self, keys: Iterable[tuple[str, str]]) -> list[Item]:
        """BatchGetItem in chunks of 100 (ingest and reconciliation, never a request path)."""
        unique = list(dict.fromkeys(keys))
        found: list[Item] = []
        for start in range(0, len(unique), BATCH_GET_MAX):
            found.extend(self.batch_get(unique[start : start + BATCH_GET_MAX]))
        return found

    def writer(self, *, concurrency: int = 1) -> BatchWriter:
        return BatchWriter(self, concurrency=concurrency)

    def read_many(
        self, keys: Sequence[tuple[str, str]], *, consistent: bool = False, concurrency: int = 1
    ) -> list[Item]:
        """BatchGetItem in chunks of 100, up to `concurrency` chunks in flight (the ingest's
        ordering reads; a request path uses `batch_get`)."""
        unique = list(dict.fromkeys(keys))
        chunks = [unique[i : i + BATCH_GET_MAX] for i in range(0, len(unique), BATCH_GET_MAX)]
        if len(chunks) <= 1 or concurrency <= 1:
            return [item for chunk in chunks for item in self._read_chunk(chunk, consistent)]
        workers = min(concurrency, len(chunks))
        with ThreadPoolExecutor(workers, thread_name_prefix="batch-read") as pool:
            found = pool.map(lambda chunk: self._read_chunk(chunk, consistent), chunks)
            return [item for items in found for item in items]

    def _read_chunk(self, keys: list[tuple[str, str]], consistent: bool) -> list[Item]:
        """One BatchGetItem (and its unprocessed keys) on the thread-safe bulk client, keys and
        items converted by hand (botocore neither validates the keys nor walks the answer;
        boto3's resource would do both, and deep-copy the request)."""
        call = aws.bulk_client("dynamodb").batch_get_item
        wanted = [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in keys]
        request: dict[str, Any] = {self._name: {"Keys": wanted, "ConsistentRead": consistent}}
        found: list[Item] = []
        now = clock.epoch()
        attempt = 0
        while request:
            with translated("batch_get_item"):
                response = call(RequestItems=request)
            for raw in response.get("Responses", {}).get(self._name, []):
                item = item_from_wire(raw)
                if _live(item, now):
                    found.append(item)
            request = response.get("UnprocessedKeys") or {}
            if request:
                time.sleep(backoff(attempt))
                attempt += 1
        return found

    def put_all(
        self, items: list[Item], *, conditions: Sequence[Condition | None] | None = None
    ) -> None:
        """Put up to `TRANSACT_MAX` items all or none (one TransactWriteItems). `conditions`,
        one per item (None: unconditional), are (expression, its values); ConditionFailed
        when one no longer holds or another transaction holds one of the items."""
        if len(items) > TRANSACT_MAX:
            raise ValueError(f"put_all takes at most {TRANSACT_MAX} items")
        requests = []
        for index, item in enumerate(items):
            put: dict[str, Any] = {"TableName": self._name, "Item": wire_item(item)}
            condition = conditions[index] if conditions else None
            if condition is not None:
                expression, values = condition
                put["ConditionExpression"] = expression
                if values:
                    put["ExpressionAttributeValues"] = wire_item(values)
            requests.append({"Put": put})
        with translated("transact_write_items"):
            aws.bulk_client("dynamodb").transact_write_items(TransactItems=requests)


class BatchWriter:
    """BatchWriteItem in groups of 25 on the low-level client, each item serialised once, with
    up to `concurrency` requests in flight (boto3's clients are thread-safe; its resources are
    not, so the requests go through the client).

    A later write of the same key within a group replaces the earlier one (DynamoDB refuses a
    batch with a key twice); a key that is still in flight in an earlier group is waited for
    before it is sent again, so the last write of a key wins across groups too. Items DynamoDB
    leaves unprocessed and throttled requests are sent again with backoff (full jitter) until
    none is left. `flush` and a clean exit return only when every request has been answered,
    so whatever follows (a checkpoint) covers only what is written; the first failure of any
    request is raised there."""

    GROUP = 25

    def __init__(self, table: Table, *, concurrency: int = 1) -> None:
        self._table = table
        self._pending: dict[tuple[str, str], dict[str, Any]] = {}
        self._concurrency = max(1, concurrency)
        self._pool: ThreadPoolExecutor | None = None
        self._in_flight: dict[Future[None], set[tuple[str, str]]] = {}

    def __enter__(self) -> BatchWriter:
        return self

    def put(self, item: Item) -> None:
        self._add((item["pk"], item["sk"]), {"PutRequest": {"Item": wire_item(item)}})

    def delete(self, pk: str, sk: str) -> None:
        self._add((pk, sk), {"DeleteRequest": {"Key": {"pk": {"S": pk}, "sk": {"S": sk}}}})

    def _add(self, key: tuple[str, str], request: dict[str, Any]) -> None:
        self._pending.pop(key, None)
        self._pending[key] = request
        if len(self._pending) >= self.GROUP:
            self._send()

    def _send(self) -> None:
        if not self._pending:
            return
        group_keys = set(self._pending)
        requests = list(self._pending.values())
        self._pending.clear()
        if self._concurrency == 1:
            write_batch(self._table.name, requests)
            return
        if any(group_keys & written for written in self._in_flight.values()):
            self._wait(until=0)
        self._wait(until=self._concurrency - 1)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._concurrency, thread_name_prefix="batch-write")
        self._in_flight[self._pool.submit(write_batch, self._table.name, requests)] = group_keys

    def _wait(self, *, until: int) -> None:
        """Wait until at most `until` requests are in flight; raise the first failure."""
        while len(self._in_flight) > until:
            done, _ = wait(self._in_flight, return_when=FIRST_COMPLETED)
            for future in done:
                del self._in_flight[future]
            for future in done:
                future.result()

    def flush(self) -> None:
        self._send()
        self._wait(until=0)

    def __exit__(self, exc_type: object, *rest: object) -> None:
        try:
            if exc_type is None:
                self.flush()
            else:
                wait(self._in_flight)  # nothing may still be writing once the caller goes on
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)


# Throttled requests in a row before the writer gives up (about a minute of backoff): the
# message then fails and is retried from the last checkpoint.
MAX_THROTTLED = 12


def backoff(attempt: int, *, base: float = 0.05, cap: float = 5.0) -> float:
    """Full-jitter exponential backoff: concurrent writers do not retry in step."""
    return random.uniform(0, min(cap, base * 2**attempt))


def write_batch(table_name: str, requests: list[dict[str, Any]]) -> None:
    """One BatchWriteItem, again and again with backoff until DynamoDB has taken every item."""
    attempt = 0
    throttled = 0
    while requests:
        try:
            with translated("batch_write_item"):
                response = aws.bulk_client("dynamodb").batch_write_item(
                    RequestItems={table_name: requests}
                )
        except ThrottledError:
            throttled += 1
            if throttled > MAX_THROTTLED:
                raise
            time.sleep(backoff(attempt))
            attempt += 1
            continue
        requests = response.get("UnprocessedItems", {}).get(table_name, [])
        if requests:
            time.sleep(backoff(attempt))
            attempt += 1
