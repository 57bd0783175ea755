"""Mandates and their activation tokens in the table (docs/architecture.md, "Mandates").

A mandate changes state only by a conditional write on the state it starts from (and, for an
activation, on the token that is current), so of two racing changes exactly one wins."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from chalicelib.errors import ConditionFailed
from chalicelib.store import keys
from chalicelib.store.table import Item, Table

# Attributes a state change may set besides the state, history, update time and expiry.
TRANSITION_EXTRAS = frozenset({"token_hash", "activation_expires_at", "activated_at"})


class MandateStore(Protocol):
    def get(self, mandate_id: str) -> Item | None: ...
    def create(self, mandate: Item) -> None: ...
    def for_client(self, client_id: str) -> Iterator[Item]: ...
    def transition(
        self,
        mandate_id: str,
        *,
        from_state: str,
        to_state: str,
        history_entry: Mapping[str, Any],
        at: str,
        expires_at: int,
        extra: Mapping[str, Any] | None = None,
        current_token: str | None = None,
    ) -> Item: ...
    def extend(self, mandate_id: str, *, state: str, expires_at: int) -> bool: ...
    def undo(self, mandate_id: str, *, before: Mapping[str, Any], token_hash: str) -> bool: ...
    def put_token(self, token_hash: str, token: Item) -> None: ...
    def get_token(self, token_hash: str) -> Item | None: ...


class DynamoMandates:
    def __init__(self, table: Table | None = None) -> None:
        self.table = table or Table()

    def get(self, mandate_id: str) -> Item | None:
        return self.table.get(keys.mandate_pk(mandate_id), keys.MANDATE_SK, consistent=True)

    def create(self, mandate: Item) -> None:
        """Store a new mandate (`mandate_id` and `client_id` set); ConditionFailed if the id
        exists."""
        item = {
            "pk": keys.mandate_pk(mandate["mandate_id"]),
            "sk": keys.MANDATE_SK,
            "type": "mandate",
            **mandate,
            "gsi1pk": keys.client_gsi1pk(mandate["client_id"]),
            "gsi1sk": keys.mandate_gsi1sk(mandate["mandate_id"]),
        }
        self.table.put(item, condition="attribute_not_exists(pk)")

    def for_client(self, client_id: str) -> Iterator[Item]:
        """The mandates held by the client under any of its ids (docs/architecture.md,
        "client_id"): one index Query over the id's joins and mandates; for an id joined into
        another, the same Query on that one; then one Query per id joined into the client."""
        read = {client_id: self._joins_and_mandates(client_id)}
        survivor = next(
            (
                str(item["client_id"])
                for item in read[client_id]
                if str(item["gsi1sk"]).startswith(keys.JOINED_INTO_PREFIX)
                and item.get("old_client_id") == client_id
            ),
            client_id,
        )
        if survivor not in read:
            read[survivor] = self._joins_and_mandates(survivor)
        for item in read[survivor]:
            old = str(item.get("old_client_id", ""))
            if str(item["gsi1sk"]).startswith(keys.ALIAS_REF_PREFIX) and old not in read:
                read[old] = list(
                    self.table.query(
                        keys.client_gsi1pk(old), index="gsi1", sk_prefix=keys.MANDATE_REF_PREFIX
                    )
                )
        found = {
            str(item["mandate_id"]): item
            for items in read.values()
            for item in items
            if str(item["gsi1sk"]).startswith(keys.MANDATE_REF_PREFIX)
        }
        return iter(found.values())

    def _joins_and_mandates(self, client_id: str) -> list[Item]:
        return list(
            self.table.query(
                keys.client_gsi1pk(client_id),
                index="gsi1",
                sk_between=(keys.ALIAS_REF_PREFIX, keys.MANDATE_REF_PREFIX + "\uffff"),
            )
        )

    def transition(
        self,
        mandate_id: str,
        *,
        from_state: str,
        to_state: str,
        history_entry: Mapping[str, Any],
        at: str,
        expires_at: int,
        extra: Mapping[str, Any] | None = None,
        current_token: str | None = None,
    ) -> Item:
        """Move the mandate from `from_state` to `to_state`, appending `history_entry`;
        ConditionFailed when it is no longer in `from_state` (or `current_token` is no longer
        its token). Returns the updated mandate."""
        extra = dict(extra or {})
        unknown = set(extra) - TRANSITION_EXTRAS
        if unknown:
            raise ValueError(f"a state change cannot set {sorted(unknown)}")
        values: dict[str, Any] = {
            ":from": from_state,
            ":to": to_state,
            ":at": at,
            ":entry": [dict(history_entry)],
            ":expires": expires_at,
        }
        names = {"#state": "state"}
        sets = [
            "#state = :to",
            "updated_at = :at",
            "history = list_append(history, :entry)",
            "expires_at = :expires",
        ]
        for index, (name, value) in enumerate(sorted(extra.items())):
            names[f"#x{index}"] = name
            values[f":x{index}"] = value
            sets.append(f"#x{index} = :x{index}")
        condition = "#state = :from"
        if current_token is not None:
            condition += " AND token_hash = :token"
            values[":token"] = current_token
        return self.table.update(
            keys.mandate_pk(mandate_id),
            keys.MANDATE_SK,
            UpdateExpression="SET " + ", ".join(sets),
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def extend(self, mandate_id: str, *, state: str, expires_at: int) -> bool:
        """Move the mandate's expiry later, to `expires_at`, while it is still in `state`;
        False when it is not (changed meanwhile, or already expiring at least as late)."""
        try:
            self.table.update(
                keys.mandate_pk(mandate_id),
                keys.MANDATE_SK,
                UpdateExpression="SET expires_at = :expires",
                ConditionExpression="#state = :state AND expires_at < :expires",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={":state": state, ":expires": expires_at},
            )
        except ConditionFailed:
            return False
        return True

    def undo(self, mandate_id: str, *, before: Mapping[str, Any], token_hash: str) -> bool:
        """Take back the one state change that gave the mandate the token `token_hash`: its
        state, token, link expiry and update time as in `before` (the mandate as read before
        that change; what it lacked is removed) and that change's history entry gone. Only while
        nothing changed it since (that token, one entry more than `before`); False otherwise."""
        history_length = len(before.get("history", []))
        names = {"#state": "state"}
        values: dict[str, Any] = {
            ":state": before["state"],
            ":at": before["updated_at"],
            ":token": token_hash,
            ":length": history_length + 1,
        }
        sets = ["#state = :state", "updated_at = :at"]
        removes = [f"history[{history_length}]"]
        for name in ("token_hash", "activation_expires_at"):
            if before.get(name) is None:
                removes.append(name)
            else:
                values[f":{name}"] = before[name]
                sets.append(f"{name} = :{name}")
        try:
            self.table.update(
                keys.mandate_pk(mandate_id),
                keys.MANDATE_SK,
                UpdateExpression=f"SET {', '.join(sets)} REMOVE {', '.join(removes)}",
                ConditionExpression="token_hash = :token AND size(history) = :length",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ConditionFailed:
            return False
        return True

    def put_token(self, token_hash: str, token: Item) -> None:
        """Store an activation token's item under its hash (never the token itself)."""
        self.table.put(
            {"pk": keys.token_pk(token_hash), "sk": keys.TOKEN_SK, "type": "activation_token"}
            | dict(token)
        )

    def get_token(self, token_hash: str) -> Item | None:
        return self.table.get(keys.token_pk(token_hash), keys.TOKEN_SK, consistent=True)
