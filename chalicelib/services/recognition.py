"""Client recognition (klantherkenning): `GET /v1/clients`.

One Query on one lookup partition (`chalicelib/rules/matching.py` chooses it), ranking in
memory, then one BatchGetItem of the policies the best candidates hold, which drops stale
lookups (their `data_seq` differs from the policy's) and gives each policy's status.

The policies shown with a candidate are those found through the partition read. For the
identity partitions (`ADDR`, `NAMEDOB`, `KVK`) that is every policy of the client, since the
same identity gives the same `client_id`; for `POLICY`, `PHONE` and `EMAIL` it can be fewer:
the dossier (`GET /v1/clients/{client_id}`) always has all of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from chalicelib.auth import Principal
from chalicelib.clock import register_today
from chalicelib.config import get_settings
from chalicelib.errors import BadRequest
from chalicelib.models.clients import (
    MAX_CANDIDATES,
    Candidate,
    CandidateList,
    ClientQuery,
    Match,
    address_from_item,
    name_from_item,
)
from chalicelib.rules.matching import QUERY_FORMS_HELP, RankedClient, is_current, plan_lookup, rank
from chalicelib.services.audit import record_audit
from chalicelib.services.dossier import (
    keys_of,
    newest,
    policies_with_roles,
    ref_of,
)
from chalicelib.store import keys
from chalicelib.store.table import BATCH_GET_MAX, Table

# Lookup items read from one partition at most (one page: an item is well under 1 KB).
LOOKUP_READ_LIMIT = 400


def _candidate(
    ranked: RankedClient,
    current: list[Mapping[str, Any]],
    policies: Mapping[tuple[str, str], Mapping[str, Any]],
    today: date,
) -> Candidate:
    summary = newest(current)
    return Candidate(
        client_id=ranked.client_id,
        match=Match(score=ranked.score, on=list(ranked.on)),
        is_legal_entity=bool(summary.get("is_legal_entity")),
        name=name_from_item(summary),
        birth_date=summary.get("birth_date"),
        kvk=summary.get("kvk"),
        address=address_from_item(summary),
        policies=policies_with_roles(current, policies, today),
    )


def recognise(principal: Principal, route: str, query: ClientQuery) -> CandidateList:
    plan = plan_lookup(query)
    if plan is None:
        raise BadRequest(
            f"the query is too broad to recognise a client safely; {QUERY_FORMS_HELP}",
            code="query_too_broad",
        )
    if query.partner_id and query.partner_id not in get_settings().partners:
        raise BadRequest("unknown partner_id", code="unknown_partner")
    table = Table()
    items = list(table.query(keys.lookup_pk(plan.kind, plan.value), limit=LOOKUP_READ_LIMIT))
    ranked = rank(query, plan, items)

    # The best candidates whose policies fit in one BatchGetItem.
    refs: dict[tuple[str, str], None] = {}
    considered: list[RankedClient] = []
    for client in ranked:
        client_refs = {ref_of(i): None for i in client.items}
        if len(refs | client_refs) > BATCH_GET_MAX:
            break
        refs |= client_refs
        considered.append(client)
    policies = {ref_of(p): p for p in table.batch_get(keys_of(refs))}

    # Rank again on the current items only: a stale lookup neither scores nor shows.
    current = [
        item
        for client in considered
        for item in client.items
        if is_current(item, policies.get(ref_of(item)))
    ]
    final = rank(query, plan, current)
    today = register_today()
    candidates = [_candidate(c, list(c.items), policies, today) for c in final[:MAX_CANDIDATES]]
    truncated = (
        len(items) >= LOOKUP_READ_LIMIT
        or len(considered) < len(ranked)
        or len(final) > MAX_CANDIDATES
    )
    result = CandidateList(
        query_kind=plan.kind.lower(),
        candidates=candidates,
        truncated=truncated,
    )
    record_audit(
        principal,
        route,
        query.model_dump(exclude_none=True),
        [c.client_id for c in result.candidates],
    )
    return result
