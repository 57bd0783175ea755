"""An identity store (any: in memory or on DynamoDB) where another delivery's resolution runs
just before this one's first save: both read the buckets before either wrote."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from chalicelib.rules.identity import Bucket
from chalicelib.store.identity import IdentityStore, Join


class RacingStore:
    def __init__(self, store: IdentityStore, before_first_save: Callable[[], None]) -> None:
        self.store = store
        self.before_first_save: Callable[[], None] | None = before_first_save
        self.saves = 0

    def buckets(self, bucket_keys: Sequence[str]) -> dict[str, Bucket]:
        return self.store.buckets(bucket_keys)

    def parties_of(self, partner_id: str, numbers: Sequence[str]) -> dict[str, list[Any]]:
        return self.store.parties_of(partner_id, numbers)

    def save(self, buckets: Sequence[Bucket], joins: Sequence[Join]) -> bool:
        self.saves += 1
        if self.before_first_save is not None:
            racing, self.before_first_save = self.before_first_save, None
            racing()
        return self.store.save(buckets, joins)
