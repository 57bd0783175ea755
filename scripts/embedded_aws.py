"""The local run's embedded AWS: moto's server, with DynamoDB calls served one at a time,
Queries that read only the partition they ask for, and a list of the e-mails it sent.

moto's DynamoDB is not thread-safe: a Query walks the whole table in Python while another thread
writes to it, and fails with "dictionary changed size during iteration" (HTTP 500, which the API
answers `503 unavailable`). Under load, with the ingest writing, lookups failed so. DynamoDB
calls are served one at a time; S3 and SQS (whose long polls wait up to seconds) are not held up.

moto answers every Query, on the table or on an index, by sorting all of the table's items and
then keeping the partition's: once the demo is loaded (about 17,000 items) each Query cost a
large part of a second of the embedded AWS's CPU, every lookup of the API makes a few, and the
ingest's calls waited behind them (and they behind the ingest's). Here a Query hands moto the
items of its partition only: a table partition is moto's own dictionary entry; an index
partition comes from a map of the index's partition key, built from the table when a write
changed it since the last Query. What moto does with those items (key conditions, order,
pagination, filters, projections, counts) is unchanged, so the answer is the same. The
benchmark's backend (bench/backend.py) installs the same.

`GET /_local/ses/sent` answers the e-mails the embedded SES has "sent" (`make mails` reads
them): moto's own `/moto-api/data.json` serialises every object of every service, every
DynamoDB item too, which took longer than its caller waited once the demo was loaded.

Only the local run: DynamoDB itself has no such limits.
"""

from __future__ import annotations

import copy
import json
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

from scripts.local_env import SENT_MAIL_PATH

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class OneDynamoDbCallAtATime:
    """WSGI middleware: requests whose `X-Amz-Target` is a DynamoDB operation run under one lock,
    their whole answer produced inside it."""

    def __init__(self, app: WsgiApp) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if not str(environ.get("HTTP_X_AMZ_TARGET", "")).startswith("DynamoDB"):
            return self._app(environ, start_response)
        with self._lock:
            return list(self._app(environ, start_response))


# Table.query's positional parameters before index_name (moto 5: hash_key, range_comparison,
# range_objs, limit, exclusive_start_key, scan_index_forward, projection_expressions).
_INDEX_NAME_POSITION = 7
# Kept on moto's Table objects: how often the table's items changed, and its items by the value
# of an attribute (an index's partition key) as of that count.
_GENERATION = "_local_generation"
_BY_ATTRIBUTE = "_local_by_attribute"


def _table_items(table: Table) -> Iterator[Item]:
    for partition in table.items.values():
        if isinstance(partition, Item):
            yield partition
        else:
            yield from partition.values()


def _changed(table: Table) -> None:
    setattr(table, _GENERATION, getattr(table, _GENERATION, 0) + 1)


def _items_by(table: Table, attribute: str, value: DynamoType) -> list[Item]:
    """The table's items whose `attribute` is `value`, from a map rebuilt after a change."""
    generation = getattr(table, _GENERATION, 0)
    maps: dict[str, tuple[int, dict[DynamoType, list[Item]]]] = table.__dict__.setdefault(
        _BY_ATTRIBUTE, {}
    )
    built = maps.get(attribute)
    if built is None or built[0] != generation:
        by_value: dict[DynamoType, list[Item]] = defaultdict(list)
        for item in _table_items(table):
            found = item.attrs.get(attribute)
            if found is not None:
                by_value[found].append(item)
        built = maps[attribute] = (generation, by_value)
    return built[1].get(value, [])


def _partition(table: Table, hash_key: Any, args: Sequence[Any], kw: Any) -> list[Item] | None:
    """The items a Query can answer from, or None when it is not clear (moto then reads all)."""
    position = _INDEX_NAME_POSITION - 1
    index_name = args[position] if len(args) > position else kw.get("index_name")
    if index_name is None:
        if hash_key is None:
            return None
        found = table.items.get(hash_key)
        if found is None:
            return []
        return [found] if isinstance(found, Item) else list(found.values())
    conditions = kw.get("hash_key_conditions")
    if not conditions:
        return None
    attribute, value = conditions[0]
    return _items_by(table, attribute, value)


def install_partition_queries() -> Callable[[], None]:
    """From now on moto's Query reads only the items of the partition it asks for (module
    docstring); returns what puts moto's own back. A Query's partition is kept per thread; like
    moto itself, the maps of index partitions are not safe against writes at the same moment
    (the embedded AWS serves DynamoDB one call at a time)."""
    moto_query = Table.query
    moto_all_items = Table.all_items
    moto_put = Table.put_item
    moto_delete = Table.delete_item
    moto_update = DynamoDBBackend.update_item
    # The partition the query running on this thread reads, instead of the whole table.
    narrowed = threading.local()

    def all_items(self: Table) -> list[Item]:
        if getattr(narrowed, "table", None) is self:
            return list(narrowed.items)
        return moto_all_items(self)

    def query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        candidates = _partition(self, hash_key, args, kwargs)
        if candidates is None:
            return moto_query(self, hash_key, *args, **kwargs)
        narrowed.table, narrowed.items = self, candidates
        try:
            return moto_query(self, hash_key, *args, **kwargs)
        finally:
            narrowed.table = narrowed.items = None

    def put_item(self: Table, *args: Any, **kwargs: Any) -> Any:
        try:
            return moto_put(self, *args, **kwargs)
        finally:
            _changed(self)

    def delete_item(self: Table, *args: Any, **kwargs: Any) -> Any:
        try:
            return moto_delete(self, *args, **kwargs)
        finally:
            _changed(self)

    def update_item(self: DynamoDBBackend, table_name: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return moto_update(self, table_name, *args, **kwargs)
        finally:
            if table_name in self.tables:
                _changed(self.get_table(table_name))

    Table.query = query  # type: ignore[method-assign]
    Table.all_items = all_items  # type: ignore[method-assign]
    Table.put_item = put_item  # type: ignore[method-assign]
    Table.delete_item = delete_item  # type: ignore[method-assign]
    DynamoDBBackend.update_item = update_item  # type: ignore[method-assign]

    def uninstall() -> None:
        Table.query = moto_query  # type: ignore[method-assign]
        Table.all_items = moto_all_items  # type: ignore[method-assign]
        Table.put_item = moto_put  # type: ignore[method-assign]
        Table.delete_item = moto_delete  # type: ignore[method-assign]
        DynamoDBBackend.update_item = moto_update  # type: ignore[method-assign]

    return uninstall


@contextmanager
def queries_read_only_their_partition() -> Iterator[None]:
    """`install_partition_queries` for the time inside."""
    uninstall = install_partition_queries()
    try:
        yield
    finally:
        uninstall()


_TRANSACTION_OPERATIONS = {"ConditionCheck", "Put", "Delete", "Update"}


def _key_of(backend: DynamoDBBackend, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    """The table key an operation of a transaction writes (moto's way of finding it)."""
    if op_type != "Put":
        key: dict[str, Any] = op["Key"]
        return key
    attrs = op["Item"]
    table = backend.get_table(op["TableName"])
    found = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        found[table.range_key_attr] = attrs[table.range_key_attr]
    return found


def _holds(condition: str, names: Any, values: Any, current: Item | None) -> bool:
    return bool(get_filter_expression(condition, names, values).expr(current))


class _Undo:
    """What a transaction changed, item by item, to put back if it is cancelled: the item as
    it was before (an Update changes moto's item in place, so that one is copied) and how many
    stream records the table had."""

    def __init__(self) -> None:
        self._entries: list[tuple[Table, DynamoType, DynamoType | None, Item | None, int]] = []

    def note(self, backend: DynamoDBBackend, op_type: str, table_name: str, key: Any) -> None:
        table = backend.get_table(table_name)
        hash_value, range_value = backend.get_keys_value(table, key)
        before = table.get_item(hash_value, range_value)
        if op_type == "Update" and before is not None:
            before = copy.deepcopy(before)
        shard = table.stream_shard
        records = len(shard.items) if shard is not None else 0
        self._entries.append((table, hash_value, range_value, before, records))

    def roll_back(self) -> None:
        for table, hash_value, range_value, before, records in reversed(self._entries):
            if range_value is not None:
                partition = table.items[hash_value]
                if before is None:
                    partition.pop(range_value, None)
                else:
                    partition[range_value] = before
            elif before is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = before  # type: ignore[assignment]
            if table.stream_shard is not None:
                del table.stream_shard.items[records:]
            _changed(table)
        self._entries.clear()


def _transact_write_items(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    """moto 5's `transact_write_items`, step for step, except that a cancelled transaction puts
    back the items it wrote instead of a copy of every table it touches, taken once per item
    before it starts (the whole table, for every item: seconds per bucket transaction once the
    demo is loaded). An item's condition sees the table as it was before the transaction: no two
    items of a transaction may have one key, and an item's condition reads only its own key."""
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    targets: set[tuple[str, str]] = set()
    undo = _Undo()
    errors: list[tuple[str | None, str | None, dict[str, Any] | None]] = []
    for entry in transact_items:
        original_item: dict[str, Any] | None = None
        if len(list(entry.keys())) > 1:
            raise TransactWriteSingleOpException  # moto keeps what earlier items wrote
        try:
            op_type, op = next(iter(entry.items()))
            if op_type not in _TRANSACTION_OPERATIONS:
                raise ValueError("Unsupported transaction operation")
            table_name = op["TableName"]
            condition = op.get("ConditionExpression")
            names = op.get("ExpressionAttributeNames")
            values = op.get("ExpressionAttributeValues")
            key = _key_of(backend, op_type, op)
            target = (str(table_name), str(dict(sorted(key.items()))))
            if target in targets:
                raise MultipleTransactionsException()
            targets.add(target)
            current = backend.get_item(table_name, key)
            if condition is not None and not _holds(condition, names, values, current):
                if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                    original_item = current.to_json()["Attributes"]
                raise ConditionalCheckFailed(item=original_item)
            if op_type != "ConditionCheck":
                undo.note(backend, op_type, table_name, key)
            if op_type == "Put":
                backend.put_item(
                    table_name,
                    op["Item"],
                    condition_expression=condition,
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
            elif op_type == "Delete":
                backend.delete_item(
                    table_name,
                    key,
                    condition_expression=condition,
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
            elif op_type == "Update":
                backend.update_item(
                    table_name,
                    key,
                    update_expression=op["UpdateExpression"],
                    condition_expression=condition,
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            undo.roll_back()
            raise
        except ConditionalCheckFailed as failed:
            errors.append(("ConditionalCheckFailed", str(failed.message), original_item))
        except Exception as failed:  # moto's way: any other error cancels the transaction
            errors.append((type(failed).__name__, str(failed), original_item))
    if any(code is not None for code, _, _ in errors):
        undo.roll_back()
        raise TransactionCanceledException(errors)


def install_copy_free_transactions() -> Callable[[], None]:
    """From now on moto's TransactWriteItems puts back what a cancelled transaction wrote
    instead of copying whole tables (`_transact_write_items`); returns what puts moto's own
    back. Like moto, not safe against other writes at the same moment."""
    moto_transact = DynamoDBBackend.transact_write_items
    DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign,assignment]

    def uninstall() -> None:
        DynamoDBBackend.transact_write_items = moto_transact  # type: ignore[method-assign]

    return uninstall


@contextmanager
def copy_free_transactions() -> Iterator[None]:
    """`install_copy_free_transactions` for the time inside."""
    uninstall = install_copy_free_transactions()
    try:
        yield
    finally:
        uninstall()


def sent_messages() -> list[dict[str, Any]]:
    """Every e-mail the embedded SES sent (`SendEmail`), oldest first per account and region."""
    from moto.ses.models import Message, ses_backends

    return [
        {"destinations": m.destinations, "subject": m.subject, "body": m.body}
        for _account, _region, backend in ses_backends.iter_backends()
        for m in getattr(backend, "sent_messages", [])
        if isinstance(m, Message)
    ]


class SentMailRoute:
    """WSGI middleware: `GET SENT_MAIL_PATH` answers `sent_messages()` as JSON; anything else
    goes on to moto."""

    def __init__(self, app: WsgiApp) -> None:
        self._app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO") != SENT_MAIL_PATH or environ.get("REQUEST_METHOD") != "GET":
            return self._app(environ, start_response)
        body = json.dumps(sent_messages()).encode()
        start_response(
            "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        )
        return [body]


class EmbeddedAws(ThreadedMotoServer):
    """`ThreadedMotoServer` serving `OneDynamoDbCallAtATime` around moto's application, with
    Queries that read only their partition, and the sent e-mails at `SENT_MAIL_PATH`."""

    def _server_entry(self) -> None:
        app = SentMailRoute(OneDynamoDbCallAtATime(DomainDispatcherApplication(create_backend_app)))
        self._server = make_server(
            self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        with queries_read_only_their_partition(), copy_free_transactions():
            self._server.serve_forever()
