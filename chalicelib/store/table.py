"""The DynamoDB table behind a small interface. Every read drops items whose expiry has passed:
DynamoDB deletes expired items lazily (up to days later), so no caller may ever see one."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from boto3.dynamodb.conditions import Attr, ConditionBase, Key
from boto3.dynamodb.types import TypeSerializer

from chalicelib import clock
from chalicelib.config import get_settings
from chalicelib.store import aws
from chalicelib.store.errors import translated

Item = dict[str, Any]
BATCH_GET_MAX = 100
TRANSACT_MAX = 100


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
        forward: bool = True,
        limit: int | None = None,
        filter_condition: ConditionBase | None = None,
    ) -> Iterator[Item]:
        """Yield live items of one partition (of the table or an index), following pages."""
        pk_name, sk_name = ("pk", "sk") if index is None else (f"{index}pk", f"{index}sk")
        condition: ConditionBase = Key(pk_name).eq(pk)
        if sk_prefix is not None:
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
        returned = 0
        while True:
            if limit is not None:
                params["Limit"] = max(limit - returned, 1)
            with translated("query"):
                response = self.table.query(**params)
            for item in response.get("Items", []):
                if _live(item, now):
                    yield dict(item)
                    returned += 1
                    if limit is not None and returned >= limit:
                        return
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
        request: dict[str, Any] = {
            self._name: {
                "Keys": [{"pk": pk, "sk": sk} for pk, sk in unique],
                "ConsistentRead": consistent,
            }
        }
        found: list[Item] = []
        now = clock.epoch()
        delay = 0.05
        while request:
            with translated("batch_get_item"):
                response = aws.resource("dynamodb").batch_get_item(RequestItems=request)
            found.extend(
                dict(i) for i in response.get("Responses", {}).get(self._name, []) if _live(i, now)
            )
            request = response.get("UnprocessedKeys") or {}
            if request:
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
        return found

    def batch_get_many(self, keys: Iterable[tuple[str, str]]) -> list[Item]:
        """BatchGetItem in chunks of 100 (ingest and reconciliation, never a request path)."""
        unique = list(dict.fromkeys(keys))
        found: list[Item] = []
        for start in range(0, len(unique), BATCH_GET_MAX):
            found.extend(self.batch_get(unique[start : start + BATCH_GET_MAX]))
        return found

    def writer(self) -> BatchWriter:
        return BatchWriter(self)

    def put_all(self, items: list[Item]) -> None:
        """Put up to `TRANSACT_MAX` items all or none (one TransactWriteItems)."""
        if len(items) > TRANSACT_MAX:
            raise ValueError(f"put_all takes at most {TRANSACT_MAX} items")
        serialise = TypeSerializer().serialize
        requests = [
            {"Put": {"TableName": self._name, "Item": {k: serialise(v) for k, v in i.items()}}}
            for i in items
        ]
        with translated("transact_write_items"):
            aws.bulk_client("dynamodb").transact_write_items(TransactItems=requests)


class BatchWriter:
    """BatchWriteItem in groups of 25 on the low-level client, each item serialised once.

    A later write of the same key within a group replaces the earlier one (DynamoDB refuses a
    batch with a key twice). Items DynamoDB leaves unprocessed (throttling, partial capacity)
    are sent again with backoff until none is left."""

    GROUP = 25

    def __init__(self, table: Table) -> None:
        self._table = table
        self._pending: dict[tuple[str, str], dict[str, Any]] = {}
        self._serialise = TypeSerializer().serialize

    def __enter__(self) -> BatchWriter:
        return self

    def put(self, item: Item) -> None:
        body = {name: self._serialise(value) for name, value in item.items()}
        self._add((item["pk"], item["sk"]), {"PutRequest": {"Item": body}})

    def delete(self, pk: str, sk: str) -> None:
        self._add((pk, sk), {"DeleteRequest": {"Key": {"pk": {"S": pk}, "sk": {"S": sk}}}})

    def _add(self, key: tuple[str, str], request: dict[str, Any]) -> None:
        self._pending.pop(key, None)
        self._pending[key] = request
        if len(self._pending) >= self.GROUP:
            self.flush()

    def flush(self) -> None:
        requests = list(self._pending.values())
        self._pending.clear()
        delay = 0.05
        while requests:
            with translated("batch_write_item"):
                response = aws.bulk_client("dynamodb").batch_write_item(
                    RequestItems={self._table.name: requests}
                )
            requests = response.get("UnprocessedItems", {}).get(self._table.name, [])
            if requests:
                time.sleep(delay)
                delay = min(delay * 2, 2.0)

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.flush()
