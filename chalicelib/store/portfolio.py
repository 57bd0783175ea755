"""A partner's policies as the ingest reads and writes them: the stored policy items, batch
writes of a policy's items, the "still in the portfolio" mark and the end of a policy that a
full delivery no longer contains."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol

from boto3.dynamodb.conditions import Attr

from chalicelib.config import get_settings
from chalicelib.errors import StoreRefused
from chalicelib.observability import logger
from chalicelib.rules.ingest import REMOVED_FROM_PORTFOLIO
from chalicelib.store import keys
from chalicelib.store.register_items import stored_policy
from chalicelib.store.table import TRANSACT_MAX, Item, Table


class PortfolioStore(Protocol):
    def policies(
        self, partner_id: str, numbers: Sequence[str], *, consistent: bool = False
    ) -> dict[str, Item]: ...
    def write_policies(self, policies: Sequence[Sequence[Item]]) -> list[bool]: ...
    def note_seen(
        self,
        delivery_id: str,
        part: int,
        unchanged: Sequence[str],
        *,
        refused: Sequence[str] = (),
        expires_at: int,
    ) -> None: ...
    def seen(self, delivery_id: str, *, refused: bool = True) -> Iterator[str]: ...
    def seen_until(self, delivery_id: str, line: int) -> Iterator[str]: ...
    def active_not_seen(self, partner_id: str, seq: str) -> Iterator[str]: ...
    def end(self, policies: Iterable[Item], *, day: str, seq: str) -> None: ...


class DynamoPortfolio:
    def __init__(self, table: Table | None = None, *, concurrency: int | None = None) -> None:
        self.table = table or Table()
        # Requests in flight at once within one invocation (batch writes, ordering reads).
        self.concurrency = concurrency or get_settings().ingest_write_concurrency

    def policies(
        self, partner_id: str, numbers: Sequence[str], *, consistent: bool = False
    ) -> dict[str, Item]:
        """The stored policy items of `numbers` (by policy number), in batch reads."""
        wanted = [(keys.policy_pk(partner_id, n), keys.POLICY_SK) for n in dict.fromkeys(numbers)]
        found = self.table.read_many(wanted, consistent=consistent, concurrency=self.concurrency)
        return {str(item["policy_number"]): stored_policy(item) for item in found}

    def write_policies(self, policies: Sequence[Sequence[Item]]) -> list[bool]:
        """Write every policy's items; which policies were stored. Batched across policies; if
        DynamoDB refuses a batch (a key or an item beyond its limits, which the row rules are
        meant to make impossible), each policy is written again on its own, all or nothing, and
        only the refused ones are left out: one bad policy never stalls a delivery."""
        try:
            with self.table.writer(concurrency=self.concurrency) as writer:
                for items in policies:
                    for item in items[1:]:
                        writer.put(item)
                # The policy items last, once everything they name is written: a stored policy
                # item (and its content hash) stands for a policy written whole.
                writer.flush()
                for items in policies:
                    writer.put(items[0])
            return [True] * len(policies)
        except StoreRefused:
            logger.warning("DynamoDB refused a batch; its policies are written one by one")
        return [self._write_policy(items) for items in policies]

    def _write_policy(self, items: Sequence[Item]) -> bool:
        try:
            if len(items) <= TRANSACT_MAX:
                self.table.put_all(list(items))
            else:  # a policy of many parties: in batches, the policy item last
                with self.table.writer() as writer:
                    for item in (*items[1:], items[0]):
                        writer.put(item)
        except StoreRefused:
            return False
        return True

    def note_seen(
        self,
        delivery_id: str,
        part: int,
        unchanged: Sequence[str],
        *,
        refused: Sequence[str] = (),
        expires_at: int,
    ) -> None:
        """The delivery contained these policies without writing them: `unchanged` (so an older
        delivery arriving late leaves them alone), `refused` for a row error (so a full
        delivery's reconciliation does not end them either). One item per batch (`part`: the
        batch's first line; a retried batch writes the same item again)."""
        if unchanged or refused:
            item = {
                "pk": keys.seen_pk(delivery_id),
                "sk": keys.seen_sk(part),
                "type": "seen",
                "numbers": list(dict.fromkeys(unchanged)),
                "expires_at": expires_at,
            }
            if refused:
                item["refused"] = list(dict.fromkeys(refused))
            self.table.put(item)

    def seen(self, delivery_id: str, *, refused: bool = True) -> Iterator[str]:
        """Every policy number `note_seen` kept for the delivery, the refused ones only if
        `refused` (consistent: written by the delivery moments before, or by the one just
        before it in the partner's lane)."""
        for item in self.table.query(keys.seen_pk(delivery_id), consistent=True):
            yield from (str(number) for number in item.get("numbers", []))
            if refused:
                yield from (str(number) for number in item.get("refused", []))

    def seen_until(self, delivery_id: str, line: int) -> Iterator[str]:
        """What `note_seen` kept, unchanged and refused, for the delivery's batches that start at
        or before `line` (a resumed delivery's batches up to its checkpoint, not the one a crash
        may repeat)."""
        for item in self.table.query(
            keys.seen_pk(delivery_id),
            sk_between=(keys.seen_sk(0), keys.seen_sk(line)),
            consistent=True,
        ):
            yield from (str(number) for number in item.get("numbers", []))
            yield from (str(number) for number in item.get("refused", []))

    def active_not_seen(self, partner_id: str, seq: str) -> Iterator[str]:
        """Policy numbers of the partner's active policies that the delivery `seq` did not mark
        seen, from the sparse ACTIVE index (a query, never a scan). The index is eventually
        consistent: callers confirm each one against `policies(..., consistent=True)`."""
        for item in self.table.query(
            keys.active_gsi2pk(partner_id),
            index="gsi2",
            # A policy item written whole by its last delivery leaves `seen_seq` out: it is
            # its `data_seq` (register_items.stored_policy).
            filter_condition=Attr("seen_seq").lt(seq)
            | (Attr("seen_seq").not_exists() & Attr("data_seq").lt(seq)),
            # Not the whole policy items (their parties and traces): a later month's full
            # delivery reads every active policy of the partner here.
            attributes=["policy_number"],
        ):
            yield str(item["policy_number"])

    def end(self, policies: Iterable[Item], *, day: str, seq: str) -> None:
        """Mark the policies removed from the portfolio by delivery `seq` (they leave the
        ACTIVE index)."""
        with self.table.writer(concurrency=self.concurrency) as writer:
            for policy in policies:
                ended = dict(policy)
                ended["status"] = REMOVED_FROM_PORTFOLIO
                ended["ended_on"] = day
                ended["status_seq"] = seq
                ended.pop("gsi2pk", None)
                ended.pop("gsi2sk", None)
                writer.put(ended)
