"""Identity resolution at ingest: the client id of every party of a batch of policies, from the
evidence the register holds (docs/architecture.md, "client_id"). The rules are pure
(`chalicelib/rules/identity.py`); this module reads the evidence for a whole batch at once and
writes back what the batch taught.

Per batch: the stored policy items (read by the ingest anyway) carry the traces of their
parties; a policy stored by the previous version, without them, is read once (one Query); the
identity buckets of every party are one BatchGetItem per 100 keys; the buckets that changed and
the joins found are written before the policies, in transactions of up to 100 items, each
bucket only over the version it was read at.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from chalicelib.errors import ThrottledError
from chalicelib.models.portfolio import PartyFields
from chalicelib.observability import logger
from chalicelib.rules.identity import (
    TRACE_REFRESH_SECONDS,
    Bucket,
    PolicyToResolve,
    Trace,
    bucket_keys,
    client_identity,
    lookup_keys,
    policy_identities,
    resolve_policy,
    same_variant,
    surviving_id,
    trace_of,
    trace_of_party_item,
    variant_of,
    with_client,
)
from chalicelib.store.identity import IdentityStore, Join
from chalicelib.store.register_items import POLICY_TRACES

# Resolutions of one batch before giving up to the message's retry: each further attempt means
# another delivery wrote one of the batch's buckets in the meantime.
SAVE_ATTEMPTS = 5


@dataclass(frozen=True)
class PolicyParties:
    """A policy of the batch: its number, its delivered parties, and the policy item as stored
    before this delivery (None for a new policy)."""

    number: str
    parties: Sequence[PartyFields]
    stored: Mapping[str, Any] | None


@dataclass
class Resolution:
    """Per policy of the batch (in order): the client id of each party, and the traces the
    policy item keeps; `buckets` and `joins` are what the resolution wrote."""

    client_ids: list[list[str]] = field(default_factory=list)
    traces: list[list[dict[str, Any]]] = field(default_factory=list)
    buckets: list[Bucket] = field(default_factory=list)
    joins: list[Join] = field(default_factory=list)


class IdentityResolver:
    def __init__(
        self, store: IdentityStore, *, key: str, refresh_seconds: int = TRACE_REFRESH_SECONDS
    ) -> None:
        self.store = store
        self.key = key
        # An unchanged trace, and a join into a delivered client, is written again only when
        # its stored expiry lags the delivery's by more than this.
        self.refresh_seconds = refresh_seconds

    def resolve(
        self,
        partner_id: str,
        policies: Sequence[PolicyParties],
        *,
        seq: str,
        expires_at: int,
        now: int,
    ) -> Resolution:
        """The client ids of the batch's parties, with the evidence they add written: the
        buckets are written before the policies, each only over the version it was read at,
        so two partners' deliveries resolving one new person at the same moment do not both
        mint an id (the later one reads the earlier one's trace and resolves again)."""
        previous = self._previous(partner_id, policies)
        delivered = [
            [trace_of(p, "", partner_id=partner_id, expires_at=expires_at) for p in policy.parties]
            for policy in policies
        ]
        for _ in range(SAVE_ATTEMPTS):
            resolution = self._resolve_once(
                partner_id, policies, previous, delivered, seq=seq, expires_at=expires_at, now=now
            )
            if not (resolution.buckets or resolution.joins) or self.store.save(
                resolution.buckets, resolution.joins
            ):
                return resolution
            logger.info("identity buckets changed meanwhile; resolving again")
        raise ThrottledError("identity buckets kept changing; the batch is retried")

    def _resolve_once(
        self,
        partner_id: str,
        policies: Sequence[PolicyParties],
        previous: list[list[Trace]],
        delivered: list[list[Trace]],
        *,
        seq: str,
        expires_at: int,
        now: int,
    ) -> Resolution:
        wanted = {
            key
            for traces in (*delivered, *previous)
            for trace in traces
            for key in lookup_keys(trace)
        }
        buckets = self.store.buckets(sorted(wanted))
        for key in wanted - buckets.keys():
            buckets[key] = Bucket(key)
        joins: dict[str, tuple[str, int]] = {}
        for bucket in buckets.values():
            bucket.forget_expired(now)
            joins.update(bucket.joined)
        resolution = Resolution()
        # What the partner delivered on a policy before and now says otherwise there, and
        # what the batch delivers: a corrected variant is forgotten unless another policy of
        # the batch still delivers it.
        corrected: list[tuple[Trace, tuple[str, ...]]] = []
        kept_variants: set[Trace] = set()
        for policy, earlier, traces in zip(policies, previous, delivered, strict=True):
            known = dict.fromkeys(
                t
                for trace in traces
                for key in lookup_keys(trace)
                for t in _surviving(buckets[key].live(now), joins)
            )
            decisions = resolve_policy(
                PolicyToResolve(
                    parties=policy.parties,
                    previous=_surviving(earlier, joins),
                    known=list(known),
                    minted_identities=policy_identities(policy.parties)
                    or [client_identity(p) for p in policy.parties],
                    delivered=traces,
                ),
                partner_id=partner_id,
                seq=seq,
                key=self.key,
            )
            kept: list[dict[str, Any]] = []
            for delivered_trace, decision in zip(traces, decisions, strict=True):
                trace = with_client(delivered_trace, decision.client_id, decision.since)
                for old in decision.joined:
                    joins[old] = (decision.client_id, expires_at)
                    resolution.joins.append(Join(old, decision.client_id, expires_at))
                    for bucket in buckets.values():
                        if bucket.key in bucket_keys(trace) or any(
                            t.client_id == old for t in bucket.traces
                        ):
                            bucket.join(old, decision.client_id, expires_at)
                self._refresh_joins(trace, joins, buckets, resolution, expires_at)
                for key in bucket_keys(trace):
                    buckets[key].keep(trace, self.refresh_seconds)
                kept_variants.add(variant_of(trace))
                if decision.previous is not None:
                    before = with_client(decision.previous, trace.client_id, trace.since)
                    if not same_variant(before, trace):
                        corrected.append((before, (decision.previous.client_id, trace.client_id)))
                kept.append(trace.as_item())
            resolution.client_ids.append([d.client_id for d in decisions])
            resolution.traces.append(kept)
        for before, ids in corrected:
            if variant_of(before) not in kept_variants:
                for key in bucket_keys(before):
                    if key in buckets:
                        buckets[key].forget_variant(before, ids)
        resolution.buckets = [b for b in buckets.values() if b.changed]
        return resolution

    def _refresh_joins(
        self,
        trace: Trace,
        joins: dict[str, tuple[str, int]],
        buckets: Mapping[str, Bucket],
        resolution: Resolution,
        expires_at: int,
    ) -> None:
        """The joins into a delivered client live as long as the client's traces: a join whose
        expiry is more than `refresh_seconds` older than this delivery's is written again
        with it (as a trace is), so an old id keeps resolving, and the mandates held under it
        keep their holder, for as long as the client is delivered."""
        for old, (into, until) in list(joins.items()):
            if into != trace.client_id or until + self.refresh_seconds >= expires_at:
                continue
            joins[old] = (into, expires_at)
            resolution.joins.append(Join(old, into, expires_at))
            for bucket in buckets.values():
                if old in bucket.joined:
                    bucket.join(old, into, expires_at)

    def _previous(self, partner_id: str, policies: Sequence[PolicyParties]) -> list[list[Trace]]:
        """The parties each policy had before this delivery: from the traces on the stored
        policy item, or, for a policy the previous version stored, from its party items."""
        legacy = [
            p.number for p in policies if p.stored is not None and POLICY_TRACES not in p.stored
        ]
        legacy_parties = self.store.parties_of(partner_id, legacy) if legacy else {}
        previous: list[list[Trace]] = []
        for policy in policies:
            stored = policy.stored
            if stored is None:
                previous.append([])
            elif POLICY_TRACES in stored:
                previous.append([Trace.from_item(t) for t in stored[POLICY_TRACES]])
            else:
                since = str(stored.get("first_seen_seq", ""))
                previous.append(
                    [trace_of_party_item(p, since) for p in legacy_parties.get(policy.number, [])]
                )
        return previous


def _surviving(traces: Sequence[Trace], joins: Mapping[str, tuple[str, int]]) -> list[Trace]:
    return [
        replace(t, client_id=surviving_id(t.client_id, joins)) if t.client_id in joins else t
        for t in traces
    ]
