"""Turn validated rows into the register's items (docs/architecture.md, "Item attributes").

One function builds every item a policy consists of, so the ingest, the tests and the
benchmarks all write exactly the same shape.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import fields
from typing import Any

from chalicelib.models.portfolio import PartyFields, PolicyFields, ValidRow
from chalicelib.rules.identity import client_id_for, policy_identities
from chalicelib.rules.search_text import policy_lookup_key
from chalicelib.store import keys

Item = dict[str, Any]

# The policy item's attribute with the identity traces of its parties (rules/identity.py): the
# next delivery of the policy compares its parties with them first.
POLICY_TRACES = "party_traces"

# A policy item stays under 1 KB, so it costs 1 write unit and 1 more in the ACTIVE index
# (docs/architecture.md, "Item attributes"): it leaves out what it would only repeat, and
# `stored_policy` puts that back. Left out when equal to the policy item's `data_seq`:
_SEQ_DEFAULTS = ("seen_seq", "first_seen_seq")
# Of each stored trace, left out when equal to the policy item's attribute named beside it,
# and "le" (a legal entity) when false.
_TRACE_DEFAULTS = (("pt", "partner_id"), ("since", "data_seq"), ("exp", "expires_at"))
_TRACE_CONSTANTS: Item = {"le": False}

_PARTY_SUMMARY = (
    "surname",
    "surname_key",
    "tussenvoegsels",
    "initials",
    "first_name",
    "birth_date",
    "is_legal_entity",
    "kvk",
    "street",
    "house_number",
    "house_number_addition",
    "postcode",
    "city",
    "country",
)


# What says when and by which delivery an item was written, not what it holds.
_NOT_CONTENT = frozenset(
    {
        "data_seq",
        "seen_seq",
        "first_seen_seq",
        "delivery_id",
        "delivered_at",
        "expires_at",
        "source_line",
        "content_hash",
        # The identity evidence carries when each trace was last delivered; what it says of
        # the parties is in the party items already.
        POLICY_TRACES,
    }
)


def _by_key(item: Item) -> tuple[str, str]:
    return item["pk"], item["sk"]


def content_hash(items: Sequence[Item]) -> str:
    """A digest of everything a policy's items hold (keys, attributes, its parties and lookups)
    except when and by which delivery they were written: equal digests, equal register.

    The digest of `name=repr(value);` for each attribute by name, `|` after each item, the
    items by key: the order the items are built in is not content (a party's phone numbers
    come from a set, whose order differs between processes). Hashed as one text (one update,
    not one per attribute: the same bytes, about a tenth less CPU); stored digests stay
    valid, so a deployment does not rewrite every unchanged policy."""
    texts = [
        "".join([f"{name}={item[name]!r};" for name in sorted(item.keys() - _NOT_CONTENT)])
        for item in sorted(items, key=_by_key)
    ]
    texts.append("")
    return hashlib.blake2b("|".join(texts).encode(), digest_size=16).hexdigest()


_POLICY_FIELDS = tuple(f.name for f in fields(PolicyFields))
_PARTY_FIELDS = tuple(f.name for f in fields(PartyFields))


def _attributes(obj: PolicyFields | PartyFields, names: tuple[str, ...]) -> Item:
    """The fields that are not None or ""; tuples become lists (kept even when empty, as
    before). Not `asdict`: it deep-copies every value, a third of this module's time per row."""
    attributes: Item = {}
    for name in names:
        value = getattr(obj, name)
        if value.__class__ is tuple:
            attributes[name] = list(value)
        elif value is not None and value != "":
            attributes[name] = value
    return attributes


def _trace_defaults(policy_item: Item) -> Item:
    """What a trace stored on `policy_item` holds when it leaves the attribute out."""
    return {
        **_TRACE_CONSTANTS,
        **{short: policy_item[long] for short, long in _TRACE_DEFAULTS if long in policy_item},
    }


def _compact_traces(traces: Sequence[Item], policy_item: Item) -> list[Item]:
    defaults = _trace_defaults(policy_item)
    return [
        {
            name: value
            for name, value in trace.items()
            if name not in defaults or value != defaults[name]
        }
        for trace in traces
    ]


def stored_policy(item: Item) -> Item:
    """A policy item as read, with what its stored form leaves out put back (items written
    before it left anything out are returned as they are)."""
    restored = dict(item)
    for name in _SEQ_DEFAULTS:
        if name not in restored and "data_seq" in restored:
            restored[name] = restored["data_seq"]
    traces = restored.get(POLICY_TRACES)
    if traces:
        defaults = _trace_defaults(item)
        restored[POLICY_TRACES] = [{**defaults, **trace} for trace in traces]
    return restored


# A lookup item costs 1 write unit per started KB whatever it holds, so the parties of one policy
# that share a partition (a household's address, the policy number) are one item, which lists
# them in `parties`; `lookup_entries` reads it back as one item per party.
LOOKUP_PARTIES = "parties"


def _grouped(lookups: Sequence[Item]) -> list[Item]:
    """The lookup items of one policy, those of one partition as one item: what all its
    parties hold alike once (a household's street and city), the rest in `parties`."""
    by_partition: dict[str, list[Item]] = {}
    for item in lookups:
        by_partition.setdefault(item["pk"], []).append(item)
    written: list[Item] = []
    for same in by_partition.values():
        if len(same) == 1:
            written.append(same[0])
            continue
        first, rest = same[0], same[1:]
        alike = {
            name: value
            for name, value in first.items()
            if name != "sk" and all(name in item and item[name] == value for item in rest)
        }
        group = {
            **alike,
            "sk": keys.lookup_group_sk(first["partner_id"], first["policy_number"]),
            LOOKUP_PARTIES: [
                {name: value for name, value in item.items() if name not in alike and name != "sk"}
                for item in same
            ],
        }
        written.append(group)
    return written


def lookup_entries(items: Iterable[Item]) -> Iterator[Item]:
    """Lookup items as read from a partition, one per party: an item of several parties of
    one policy gives one for each, as a party's own item would read."""
    for item in items:
        parties = item.get(LOOKUP_PARTIES)
        if parties is None:
            yield item
            continue
        common = {name: value for name, value in item.items() if name != LOOKUP_PARTIES}
        for party in parties:
            entry = {**common, **party}
            entry["sk"] = keys.lookup_sk(
                str(party["client_id"]), str(item["partner_id"]), str(item["policy_number"])
            )
            yield entry


def _lookup_values(party: PartyFields, policy_number: str) -> Iterator[tuple[str, str]]:
    """The partitions a party is found in: keys the noise of a phone call does not break
    (chalicelib/rules/matching.py): the policy number's search key, the address without its
    addition, the birth date (not the name: names are misheard), phone, e-mail, KvK."""
    yield "POLICY", policy_lookup_key(policy_number)
    if party.postcode and party.house_number:
        yield "ADDR", f"{party.postcode}#{party.house_number}"
    if party.birth_date and not party.is_legal_entity:
        yield "DOB", party.birth_date
    for phone in {party.phone, party.mobile}:
        if phone:
            yield "PHONE", phone
    if party.email:
        yield "EMAIL", party.email
    if party.kvk:
        yield "KVK", party.kvk


def policy_items(
    partner_id: str,
    rows: Sequence[ValidRow],
    *,
    seq: str,
    delivery_id: str,
    delivered_at: str,
    expires_at: int,
    client_id_key: str,
    status: str = "active",
    ended_on: str | None = None,
    first_seen_seq: str | None = None,
    client_ids: Sequence[str] | None = None,
    party_traces: Sequence[Item] | None = None,
) -> list[Item]:
    """The policy item, one party item per row and the lookup items of every party.

    `rows` are the rows of one policy; the first row's policy fields are authoritative.
    `client_ids` are the parties' ids as identity resolution found them (without it, each
    party's id is minted from its identity); `party_traces` the evidence the policy item keeps
    for the next delivery's resolution.
    """
    policy = rows[0].policy
    number = policy.policy_number
    pk = keys.policy_pk(partner_id, number)
    common = {"expires_at": expires_at, "data_seq": seq}
    policy_item: Item = {
        "pk": pk,
        "sk": keys.POLICY_SK,
        "type": "policy",
        "partner_id": partner_id,
        **_attributes(policy, _POLICY_FIELDS),
        "status": status,
        "delivery_id": delivery_id,
        "delivered_at": delivered_at,
        **common,
    }
    if ended_on:
        policy_item["ended_on"] = ended_on
    if first_seen_seq and first_seen_seq != seq:
        policy_item["first_seen_seq"] = first_seen_seq
    if party_traces is not None:
        policy_item[POLICY_TRACES] = _compact_traces(party_traces, policy_item)
    if status == "active":
        policy_item["gsi2pk"] = keys.active_gsi2pk(partner_id)
        policy_item["gsi2sk"] = number
    items = [policy_item]
    lookups: list[Item] = []
    seen_clients: set[str] = set()
    parties = [row.party for row in rows]
    if client_ids is None:
        identities: Sequence[str | None] = policy_identities(parties) or [None] * len(parties)
        client_ids = [
            client_id_for(party, client_id_key, identity)
            for party, identity in zip(parties, identities, strict=True)
        ]
    for party, client_id in zip(parties, client_ids, strict=True):
        if client_id in seen_clients:
            continue
        seen_clients.add(client_id)
        party_attributes = _attributes(party, _PARTY_FIELDS)
        items.append(
            {
                "pk": pk,
                "sk": keys.party_sk(client_id),
                "type": "party",
                "partner_id": partner_id,
                "policy_number": number,
                "client_id": client_id,
                **party_attributes,
                "is_legal_entity": party.is_legal_entity,
                "gsi1pk": keys.client_gsi1pk(client_id),
                "gsi1sk": keys.policy_ref(partner_id, number),
                **common,
            }
        )
        summary = {k: party_attributes[k] for k in _PARTY_SUMMARY if k in party_attributes}
        summary["is_legal_entity"] = party.is_legal_entity
        for kind, value in dict.fromkeys(_lookup_values(party, number)):
            lookups.append(
                {
                    "pk": keys.lookup_pk(kind, value),
                    "sk": keys.lookup_sk(client_id, partner_id, number),
                    "type": "lookup",
                    "client_id": client_id,
                    "partner_id": partner_id,
                    "policy_number": number,
                    "role": party.role,
                    **summary,
                    **common,
                }
            )
    # Hashed one item per party, as they read (and as they were stored before being grouped).
    policy_item["content_hash"] = content_hash([*items, *lookups])
    return [*items, *_grouped(lookups)]
