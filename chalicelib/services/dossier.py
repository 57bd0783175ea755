"""The client's dossier and the policy view, read from the register.

Dossier: `read_client`, one Query on gsi1 ``CLIENT#<id>`` (the client's party items and joins)
and one BatchGetItem of their policies; parties whose `data_seq` differs from their policy's are
stale and left out; a joined id reads the id it was joined into. Mandates read a holder the same
way.
Policy view: one Query on the policy's partition (policy item + party items) and one
BatchGetItem of the parties' joins (a joined id shows the id it was joined into).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from chalicelib.auth import Principal
from chalicelib.clock import register_today
from chalicelib.errors import BadRequest, Forbidden, NotFound
from chalicelib.models.clients import (
    CLIENT_ID_RE,
    Dossier,
    PolicyDetail,
    PolicyView,
    PolicyWithRole,
    address_from_item,
    name_from_items,
    party_from_item,
    policy_detail_fields,
)
from chalicelib.normalise import normalise_policy_number
from chalicelib.rules.coverage import policy_ref_id, shown_status
from chalicelib.rules.matching import is_current
from chalicelib.services.audit import record_audit
from chalicelib.store import keys
from chalicelib.store.identity import DynamoIdentities, join_keys, joined_ids
from chalicelib.store.table import BATCH_GET_MAX, Item, Table


def newest(items: Iterable[Mapping[str, Any]]) -> Mapping[str, Any]:
    """The item written by the newest delivery (its data is the most recent)."""
    return max(items, key=lambda i: str(i.get("data_seq", "")))


def split_policy_partition(items: Iterable[Item]) -> tuple[Item | None, list[Item]]:
    """(policy item, its current party items) of one policy partition."""
    policy: Item | None = None
    parties: list[Item] = []
    for item in items:
        if item["sk"] == keys.POLICY_SK:
            policy = item
        elif str(item["sk"]).startswith(keys.PARTY_SK_PREFIX):
            parties.append(item)
    if policy is None:
        return None, []
    return policy, [p for p in parties if is_current(p, policy)]


def read_policy(partner_id: str, policy_number: str) -> tuple[Item | None, list[Item]]:
    """One Query on the policy partition."""
    return split_policy_partition(Table().query(keys.policy_pk(partner_id, policy_number)))


def under_surviving_ids(parties: list[Item]) -> list[Item]:
    """The parties, each under the id it is known by now: a party whose id was joined into
    another carries the surviving id, as in the dossier (its item keeps the old one until its
    partner delivers it again). One BatchGetItem of their joins."""
    if not parties:
        return parties
    joined = joined_ids(Table().batch_get(join_keys({str(p["client_id"]) for p in parties})))
    return [{**p, "client_id": joined.get(p["client_id"], p["client_id"])} for p in parties]


def ref_of(item: Mapping[str, Any]) -> tuple[str, str]:
    """(partner_id, policy_number) of a policy, party or lookup item."""
    return str(item["partner_id"]), str(item["policy_number"])


@dataclass(frozen=True)
class ClientPolicies:
    """A client's current memberships: (party item, its policy item), in index order.
    `client_id` is the id they are kept under: the asked id, or the id it was joined into."""

    current: list[tuple[Item, Item]]
    truncated: bool  # more policies than `max_policies`; the others were not read
    client_id: str = ""


def read_client(
    client_id: str, *, table: Table | None = None, max_policies: int | None = None
) -> ClientPolicies:
    """The client's party items with their policies (one BatchGetItem per 100 policies),
    leaving out stale parties (`data_seq` differs from their policy's). With `max_policies`,
    only the first that many policies are read.

    One Query on the client index (gsi1 ``CLIENT#<id>``) gives the party items and the joins
    (docs/architecture.md, "client_id"): an id joined into another reads that one instead
    (one Query more), and the party items still kept under an id joined into this one (until
    its partner delivers them again) are read too (one Query per such id not read yet)."""
    table = table or Table()
    identities = DynamoIdentities(table)
    index = identities.client_index(client_id)
    read_already = {client_id: index.parties}
    if index.joined_into is not None:
        client_id = index.joined_into
        index = identities.client_index(client_id)
    parties = list(index.parties)
    for old in index.aliases:
        under_old = read_already.get(old)
        if under_old is None:
            under_old = list(identities.parties_of_client(old))
        parties.extend({**p, "client_id": client_id} for p in under_old)
    refs = list(dict.fromkeys(ref_of(p) for p in parties))
    truncated = max_policies is not None and len(refs) > max_policies
    if max_policies is not None:
        refs = refs[:max_policies]
    policies = {ref_of(p): p for p in table.batch_get_many(keys_of(refs))}
    current = [
        (party, policies[ref_of(party)])
        for party in parties
        if is_current(party, policies.get(ref_of(party)))
    ]
    return ClientPolicies(current, truncated, client_id)


def policies_with_roles(
    memberships: Iterable[Mapping[str, Any]],
    policies: Mapping[tuple[str, str], Mapping[str, Any]],
    today: date,
) -> list[PolicyWithRole]:
    """The policies a client's party or lookup items name, with the client's role on each,
    ordered by partner and number. Every membership's policy must be in `policies`."""
    return sorted(
        (
            PolicyWithRole(
                **policy_detail_fields(
                    policies[ref_of(m)], shown_status(policies[ref_of(m)], today)
                ),
                role=str(m.get("role", "VP")),
            )
            for m in memberships
        ),
        key=lambda p: (p.partner_id, p.policy_number),
    )


def get_dossier(principal: Principal, route: str, client_id: str) -> Dossier:
    if not CLIENT_ID_RE.fullmatch(client_id):
        raise NotFound("no client with this id", code="client_not_found")
    read = read_client(client_id, max_policies=BATCH_GET_MAX)
    current = [party for party, _ in read.current]
    policies = {ref_of(party): policy for party, policy in read.current}
    if not current:
        record_audit(principal, route, {"client_id": client_id}, [])
        raise NotFound("no client with this id", code="client_not_found")
    today = register_today()
    summary = newest(current)
    with_role = policies_with_roles(current, policies, today)
    dossier = Dossier(
        client_id=read.client_id,
        is_legal_entity=bool(summary.get("is_legal_entity")),
        name=name_from_items(current),
        birth_date=summary.get("birth_date"),
        kvk=summary.get("kvk"),
        address=address_from_item(summary),
        partners=sorted({p.partner_id for p in with_role}),
        policies=with_role,
        parties=[
            party_from_item(p)
            for p in sorted(current, key=lambda p: (p["partner_id"], p["policy_number"]))
        ],
        truncated=read.truncated,
    )
    record_audit(
        principal,
        route,
        {"client_id": client_id},
        [read.client_id, *(policy_ref_id(p.partner_id, p.policy_number) for p in with_role)],
    )
    return dossier


def keys_of(refs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Table keys of policy items named by (partner_id, policy_number)."""
    return [(keys.policy_pk(partner, number), keys.POLICY_SK) for partner, number in refs]


def get_policy(principal: Principal, route: str, partner_id: str, policy_number: str) -> PolicyView:
    """One policy with its current parties. A partner sees only its own partner's policies."""
    if not principal.has_any({"jsc", "admin"}) and principal.partner_id != partner_id:
        raise Forbidden("a partner may only see its own policies", code="not_your_partner")
    number = normalise_policy_number(policy_number)
    if number is None:
        raise BadRequest("not a valid policy number", code="invalid_policy_number")
    policy, parties = read_policy(partner_id, number)
    parties = under_surviving_ids(parties)
    ref = policy_ref_id(partner_id, number)
    if policy is None:
        record_audit(principal, route, {"partner_id": partner_id, "policy_number": number}, [])
        raise NotFound("no such policy", code="policy_not_found")
    view = PolicyView(
        policy=PolicyDetail(**policy_detail_fields(policy, shown_status(policy, register_today()))),
        parties=[party_from_item(p) for p in sorted(parties, key=lambda p: str(p["sk"]))],
    )
    record_audit(
        principal,
        route,
        {"partner_id": partner_id, "policy_number": number},
        [ref, *(p.client_id for p in view.parties)],
    )
    return view
