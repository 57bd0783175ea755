"""A partner's lane: the partner's deliveries take turns, oldest first, while other partners'
deliveries run beside them (docs/architecture.md, "Delivery order and idempotency").

One item per partner holds every delivery that has asked for a turn and not finished
(`waiting`: delivery id → seq), which one holds the turn (`holder`, until `lease_until`), the
newest full delivery that has replaced the portfolio (`full_seq`) and a `version` that every
new arrival raises. A delivery gets the turn only if it is the oldest one waiting and the lane
is free (or its own), in one conditional write on the version it looked at: a delivery that
arrives in between (an older one, its notification late) makes that write fail, and the
younger one looks again and waits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib.errors import ConditionFailed
from chalicelib.store import keys
from chalicelib.store.table import Item, Table

# Attempts to take a free lane while other deliveries keep arriving; then the delivery waits.
TAKE_ATTEMPTS = 3


@dataclass(frozen=True)
class Turn:
    """The answer to "may this delivery run now?"."""

    granted: bool
    # The newest full delivery of the partner that already replaced the portfolio ("" if none).
    full_seq: str = ""


@dataclass(frozen=True)
class Entry:
    """A delivery asking its partner's lane for a turn."""

    partner_id: str
    delivery_id: str
    seq: str
    lease_until: int  # the turn lapses with the delivery's lease
    expires_at: int  # the lane item lives as long as the partner's newest delivery


class LaneStore(Protocol):
    def enter(self, entry: Entry, *, now: int) -> Turn: ...
    def leave(self, partner_id: str, delivery_id: str, *, replaced_portfolio: str = "") -> None: ...


def first_waiting(waiting: dict[str, Any]) -> str | None:
    """The delivery whose turn it is: the oldest seq (ties: the delivery id)."""
    if not waiting:
        return None
    return min(waiting, key=lambda delivery_id: (str(waiting[delivery_id]), delivery_id))


def may_take(item: Item, delivery_id: str, now: int) -> bool:
    """Oldest waiting, and nobody else holds a live lease on the lane."""
    if first_waiting(dict(item.get("waiting") or {})) != delivery_id:
        return False
    holder = item.get("holder")
    return holder in (None, delivery_id) or int(item.get("lease_until", 0)) < now


class DynamoLanes:
    def __init__(self, table: Table | None = None) -> None:
        self.table = table or Table()

    def enter(self, entry: Entry, *, now: int) -> Turn:
        """Join the partner's lane (once) and take the turn if it is this delivery's."""
        partner_id, delivery_id, lease_until = (
            entry.partner_id,
            entry.delivery_id,
            entry.lease_until,
        )
        item = self._join(partner_id, delivery_id, entry.seq, entry.expires_at)
        for _ in range(TAKE_ATTEMPTS):
            full_seq = str(item.get("full_seq", ""))
            if not may_take(item, delivery_id, now):
                return Turn(granted=False, full_seq=full_seq)
            try:
                self.table.update(
                    keys.lane_pk(partner_id),
                    keys.LANE_SK,
                    UpdateExpression="SET holder = :me, lease_until = :lease",
                    ConditionExpression="version = :seen AND (attribute_not_exists(holder) "
                    "OR holder = :me OR lease_until < :now)",
                    ExpressionAttributeValues={
                        ":me": delivery_id,
                        ":lease": lease_until,
                        ":seen": item["version"],
                        ":now": now,
                    },
                )
                return Turn(granted=True, full_seq=full_seq)
            except ConditionFailed:
                item = self._read(partner_id)
        return Turn(granted=False, full_seq=str(item.get("full_seq", "")))

    def _join(self, partner_id: str, delivery_id: str, seq: str, expires_at: int) -> Item:
        pk, sk = keys.lane_pk(partner_id), keys.LANE_SK
        try:
            item: Item = {
                "pk": pk,
                "sk": sk,
                "type": "lane",
                "partner_id": partner_id,
                "waiting": {delivery_id: seq},
                "version": 1,
                "expires_at": expires_at,
            }
            self.table.put(item, condition="attribute_not_exists(pk)")
            return item
        except ConditionFailed:
            pass
        try:
            return self.table.update(
                pk,
                sk,
                UpdateExpression="SET waiting.#me = :seq, expires_at = :expires ADD version :one",
                ConditionExpression="attribute_not_exists(waiting.#me)",
                ExpressionAttributeNames={"#me": delivery_id},
                ExpressionAttributeValues={":seq": seq, ":expires": expires_at, ":one": 1},
            )
        except ConditionFailed:
            return self._read(partner_id)  # joined before (a retry, a follow-up, a wait)

    def _read(self, partner_id: str) -> Item:
        item = self.table.get(keys.lane_pk(partner_id), keys.LANE_SK, consistent=True)
        return item or {"version": 0, "waiting": {}}

    def leave(self, partner_id: str, delivery_id: str, *, replaced_portfolio: str = "") -> None:
        """The delivery is final (or held for review): the next one of the partner may run.
        `replaced_portfolio`: the seq of a full delivery that replaced the partner's portfolio,
        so an older delivery arriving after it is superseded as a whole."""
        pk, sk = keys.lane_pk(partner_id), keys.LANE_SK
        names = {"#me": delivery_id}
        full = "SET full_seq = :full " if replaced_portfolio else ""
        values: dict[str, Any] = {":me": delivery_id}
        if replaced_portfolio:
            values[":full"] = replaced_portfolio
        try:
            self.table.update(
                pk,
                sk,
                UpdateExpression=f"{full}REMOVE waiting.#me, holder, lease_until",
                ConditionExpression="holder = :me",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
            return
        except ConditionFailed:
            pass
        try:
            # Never held the lane (refused at once): only its place in the queue goes.
            self.table.update(
                pk,
                sk,
                UpdateExpression="REMOVE waiting.#me",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames=names,
            )
        except ConditionFailed:
            return
