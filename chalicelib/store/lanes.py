"""A partner's lane: the partner's deliveries take turns, oldest first, while other partners'
deliveries run beside them (docs/architecture.md, "Delivery order and idempotency").

One item per partner holds every delivery that has asked for a turn and not finished
(`waiting`: delivery id → seq), which one holds the turn (`holder`), the newest full delivery
that has replaced the portfolio (`full_seq`), the deliveries that finished since (`done`:
delivery id → seq) and a `version` that every new arrival raises. A delivery gets the turn
only if the lane is free and it is the oldest one waiting, in one conditional write on the
version it looked at: a delivery that arrives in between (an older one, its notification late)
makes that write fail, and the younger one looks again and waits.

The holder keeps the turn until it leaves, across hand-overs to follow-up invocations, retries
and lapsed leases: an older delivery whose notification arrives meanwhile waits for it, so two
deliveries of a partner never interleave. (A holder whose message ends in the dead-letter queue
keeps its partner waiting until it is redriven; the DLQ alarm says so.)

An older delivery that gets its turn after newer ones finished (its notification came late)
learns which (`Turn.newer`), so it leaves alone every policy they contained, written or not; one
older than the newest full delivery that replaced the portfolio is superseded as a whole.
`done` keeps the newest DONE_KEPT entries after `full_seq`; a delivery older than an entry let
go (`done_floor`) cannot know everything newer and is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib.errors import ConditionFailed, StoreRefused
from chalicelib.store import keys
from chalicelib.store.table import Item, Table

# Attempts to take a free lane while other deliveries keep arriving; then the delivery waits.
TAKE_ATTEMPTS = 3
# Finished deliveries the lane remembers after its newest portfolio replacement (~90 bytes each).
DONE_KEPT = 60


@dataclass(frozen=True)
class Turn:
    """The answer to "may this delivery run now?"."""

    granted: bool
    # The newest full delivery of the partner that already replaced the portfolio ("" if none).
    full_seq: str = ""
    # Deliveries of the partner newer than this one that already finished (a late notification).
    newer: tuple[str, ...] = ()
    # Newer deliveries finished that the lane no longer remembers: this one cannot be applied.
    too_late: bool = False


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
    def leave(
        self, partner_id: str, delivery_id: str, *, seq: str, replaced_portfolio: bool = False
    ) -> None: ...


def first_waiting(waiting: dict[str, Any]) -> str | None:
    """The delivery whose turn it is: the oldest seq (ties: the delivery id)."""
    if not waiting:
        return None
    return min(waiting, key=lambda delivery_id: (str(waiting[delivery_id]), delivery_id))


def may_take(item: Item, delivery_id: str) -> bool:
    """The holder keeps the turn until it leaves; a free lane goes to the oldest waiting."""
    holder = item.get("holder")
    if holder is not None:
        return bool(holder == delivery_id)
    return first_waiting(dict(item.get("waiting") or {})) == delivery_id


def turn_for(item: Item, seq: str) -> Turn:
    """The granted turn of the delivery `seq`: what finished after it, from the lane item."""
    done = dict(item.get("done") or {})
    newer = tuple(sorted(d for d, done_seq in done.items() if str(done_seq) > seq))
    return Turn(
        granted=True,
        full_seq=str(item.get("full_seq", "")),
        newer=newer,
        too_late=seq < str(item.get("done_floor", "")),
    )


def forgotten(item: Item) -> tuple[list[str], str]:
    """`done` entries the lane can let go: those a newer full delivery supersedes, and those
    beyond the newest DONE_KEPT; and the new `done_floor` (the newest let go of the latter)."""
    full_seq = str(item.get("full_seq", ""))
    done = {d: str(s) for d, s in dict(item.get("done") or {}).items()}
    superseded = [d for d, s in done.items() if s <= full_seq]
    kept = sorted((s, d) for d, s in done.items() if s > full_seq)
    dropped = kept[: max(len(kept) - DONE_KEPT, 0)]
    floor = max([str(item.get("done_floor", ""))] + [s for s, _ in dropped])
    return superseded + [d for _, d in dropped], floor


class DynamoLanes:
    def __init__(self, table: Table | None = None) -> None:
        self.table = table or Table()

    def enter(self, entry: Entry, *, now: int) -> Turn:
        """Join the partner's lane (once) and take the turn if it is this delivery's; the lane
        lets go of the finished deliveries it no longer needs in the same write."""
        partner_id, delivery_id = entry.partner_id, entry.delivery_id
        item = self._join(partner_id, delivery_id, entry.seq, entry.expires_at)
        for _ in range(TAKE_ATTEMPTS):
            if not may_take(item, delivery_id):
                return Turn(granted=False, full_seq=str(item.get("full_seq", "")))
            turn = turn_for(item, entry.seq)
            let_go, floor = forgotten(item)
            names = {f"#d{i}": done_id for i, done_id in enumerate(let_go)}
            values: dict[str, Any] = {
                ":me": delivery_id,
                ":lease": entry.lease_until,
                ":seen": item["version"],
            }
            sets = ["holder = :me", "lease_until = :lease"]
            if "done" not in item:
                sets.append("done = :nothing")
                values[":nothing"] = {}
            if floor:
                sets.append("done_floor = :floor")
                values[":floor"] = floor
            update = "SET " + ", ".join(sets)
            if names:
                update += " REMOVE " + ", ".join(f"done.{name}" for name in names)
            try:
                self.table.update(
                    keys.lane_pk(partner_id),
                    keys.LANE_SK,
                    UpdateExpression=update,
                    ConditionExpression="version = :seen AND (attribute_not_exists(holder) "
                    "OR holder = :me)",
                    ExpressionAttributeValues=values,
                    **({"ExpressionAttributeNames": names} if names else {}),
                )
                return turn
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

    def leave(
        self, partner_id: str, delivery_id: str, *, seq: str, replaced_portfolio: bool = False
    ) -> None:
        """The delivery is final (or held for review): the next one of the partner may run, and
        the lane remembers it finished (`seq`). `replaced_portfolio`: a full delivery that
        replaced the partner's portfolio, so an older delivery arriving after it is superseded
        as a whole (unless a newer one replaced it already). Leaving twice changes nothing."""
        pk, sk = keys.lane_pk(partner_id), keys.LANE_SK
        names = {"#me": delivery_id}
        values: dict[str, Any] = {":me": delivery_id, ":seq": seq}
        free = " REMOVE waiting.#me, holder, lease_until"
        attempts = [("SET done.#me = :seq" + free, "holder = :me")]
        if replaced_portfolio:
            attempts.insert(
                0,
                (
                    "SET done.#me = :seq, full_seq = :seq" + free,
                    "holder = :me AND (attribute_not_exists(full_seq) OR full_seq < :seq)",
                ),
            )
        for update, condition in attempts:
            try:
                self._update_done(pk, sk, update, condition, names, values)
                return
            except ConditionFailed:
                continue
        try:
            # Not the holder (refused at once, or left before): only its place in the queue goes.
            self.table.update(
                pk,
                sk,
                UpdateExpression="REMOVE waiting.#me",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames=names,
            )
        except ConditionFailed:
            return

    def _update_done(
        self,
        pk: str,
        sk: str,
        update: str,
        condition: str,
        names: dict[str, str],
        values: dict[str, Any],
    ) -> None:
        """The holder's leaving update; on a lane item from before `done` (its holder entered
        before the upgrade: no map to add to, DynamoDB refuses the path) it starts the map."""
        fresh = (
            update.replace("done.#me = :seq", "done = :mine"),
            f"({condition}) AND attribute_not_exists(done)",
        )
        for attempt, (expression, guard) in enumerate(((update, condition), fresh)):
            named = {**values, ":mine": {values[":me"]: values[":seq"]}}
            try:
                self.table.update(
                    pk,
                    sk,
                    UpdateExpression=expression,
                    ConditionExpression=guard,
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues={
                        k: v for k, v in named.items() if k in expression or k in guard
                    },
                )
                return
            except StoreRefused:
                if attempt:
                    raise
