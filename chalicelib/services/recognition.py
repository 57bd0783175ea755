"""Client recognition (klantherkenning): `GET /v1/clients`.

At most two Queries on lookup partitions (`chalicelib/rules/matching.py` chooses them: the
query's most selective form, and a fallback or a second reading of free text), ranking in memory
with per-field explanations, then one BatchGetItem of the policies the best candidates hold,
which drops stale lookups (their `data_seq` differs from the policy's) and gives each policy's
status. A candidate with more policies than that read holds is shown with the ones that fit
(`truncated`), beside the candidates ranked behind it (`rules.matching.share_one_read`).

The policies shown with a candidate are those found through the partition reads: for `DOB`
every policy of the client (every partner delivers the birth date), for `ADDR` and `KVK` the
ones delivered with that address or number. A `POLICY`, `PHONE` or `EMAIL` search reaches only
the items under that value, so it also reads the best candidate's birth date (a company's KvK
number): that candidate is shown with all their policies and the same name as by a name +
birth date search. The dossier (`GET /v1/clients/{client_id}`) always has all of them. The same
BatchGetItem reads the candidates' joins, so the lookups of an id joined into another show as
that client (docs/architecture.md, "client_id").
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from pydantic import ValidationError

from chalicelib.auth import Principal
from chalicelib.clock import register_today
from chalicelib.config import get_settings
from chalicelib.errors import BadRequest
from chalicelib.models.clients import (
    MAX_CANDIDATES,
    Candidate,
    CandidateList,
    ClientQuery,
    FieldExplanation,
    Match,
    address_from_item,
    name_from_items,
)
from chalicelib.rules.matching import (
    QUERY_FORMS_HELP,
    FoundItem,
    LookupPlan,
    RankedClient,
    completing_plan,
    convincing,
    is_current,
    next_try,
    plan_lookups,
    rank,
    share_one_read,
)
from chalicelib.rules.search_text import read_search_text
from chalicelib.rules.similarity import NOT_GIVEN
from chalicelib.services.audit import record_audit
from chalicelib.services.dossier import (
    keys_of,
    newest,
    policies_with_roles,
    ref_of,
)
from chalicelib.store import keys
from chalicelib.store.identity import join_keys, joined_ids
from chalicelib.store.register_items import lookup_entries
from chalicelib.store.table import BATCH_GET_MAX, Table

# Lookup items read from one partition at most (one page: an item is well under 1 KB).
LOOKUP_READ_LIMIT = 400
# Fields every candidate explains, `not given` when the query did not have them.
SHOWN_FIELDS = ("name", "birth_date", "address")
# Partitions one lookup reads at most: the budget is two Queries and one BatchGetItem.
MAX_PARTITIONS = 2


def _candidate(
    ranked: RankedClient,
    current: list[Mapping[str, Any]],
    policies: Mapping[tuple[str, str], Mapping[str, Any]],
    today: date,
    *,
    truncated: bool,
) -> Candidate:
    summary = newest(current)
    return Candidate(
        client_id=ranked.client_id,
        match=Match(
            score=ranked.score,
            on=list(ranked.on),
            fields={
                **{field: FieldExplanation.of(NOT_GIVEN, 0.0) for field in SHOWN_FIELDS},
                **{
                    field: FieldExplanation.of(match.how, match.similarity)
                    for field, match in ranked.fields.items()
                },
            },
        ),
        is_legal_entity=bool(summary.get("is_legal_entity")),
        name=name_from_items(current),
        birth_date=summary.get("birth_date"),
        kvk=summary.get("kvk"),
        address=address_from_item(summary),
        policies=policies_with_roles(current, policies, today),
        truncated=truncated,
    )


def _readings(query: ClientQuery) -> list[ClientQuery]:
    """The structured queries to try: the query itself, or each reading of its free text
    (`q`) with the structured fields given beside it."""
    if not query.q:
        return [query]
    given = query.model_dump(exclude_none=True, exclude={"q"})
    readings: list[ClientQuery] = []
    for reading in read_search_text(query.q):
        try:
            readings.append(ClientQuery.model_validate(reading.as_query() | given))
        except ValidationError:
            continue  # a reading the structured rules refuse (a policy number of 31 characters)
    return readings


def _best_per_client(rankings: list[list[RankedClient]]) -> list[RankedClient]:
    """The union of several readings' rankings, each client with its best score."""
    best: dict[str, RankedClient] = {}
    for ranking in rankings:
        for client in ranking:
            if client.client_id not in best or client.score > best[client.client_id].score:
                best[client.client_id] = client
    return sorted(best.values(), key=lambda c: -c.score)  # stable: each ranking's order kept


def recognise(principal: Principal, route: str, query: ClientQuery) -> CandidateList:
    if query.partner_id and query.partner_id not in get_settings().partners:
        raise BadRequest("unknown partner_id", code="unknown_partner")
    readings = [(reading, plan_lookups(reading)) for reading in _readings(query)]
    readings = [(reading, plans) for reading, plans in readings if plans]
    if not readings:
        raise BadRequest(
            f"the query is too broad to recognise a client safely; {QUERY_FORMS_HELP}",
            code="query_too_broad",
        )
    table = Table()
    found: list[FoundItem] = []
    read: list[LookupPlan] = []
    truncated = False

    def read_partition(plan: LookupPlan) -> None:
        nonlocal truncated
        if plan in read or len(read) >= MAX_PARTITIONS:
            return
        read.append(plan)
        items = list(table.query(keys.lookup_pk(plan.kind, plan.value), limit=LOOKUP_READ_LIMIT))
        truncated = truncated or len(items) >= LOOKUP_READ_LIMIT
        found.extend(FoundItem(plan.kind, item) for item in lookup_entries(items))

    def ranked_union() -> list[RankedClient]:
        return _best_per_client([rank(reading, found) for reading, _ in readings])

    # Each reading's first form; then, when nobody convincing was found, the fallbacks.
    for _, plans in readings:
        read_partition(plans[0])
    ranked = ranked_union()
    if not convincing(ranked):
        for _, plans in readings:
            for plan in plans[1:]:
                read_partition(plan)
        ranked = ranked_union()
    # One client, one face: a policy number, phone or e-mail reaches some of the best client's
    # items; their birth date (KvK number) holds all of them, at every partner. Only the items
    # of clients already found are kept: the others there were not asked for.
    completing = completing_plan(read, ranked[0]) if ranked else None
    if completing is not None:
        known = {client.client_id for client in ranked}
        before = len(found)
        read_partition(completing)
        found[before:] = [one for one in found[before:] if one.item["client_id"] in known]
        ranked = ranked_union()

    # The best candidates' policies, and their joins, in one BatchGetItem: a client with more
    # policies than fit is read in part (its candidate says `truncated`).
    wanted = [[ref_of(i) for i in client.items] for client in ranked]
    shares = share_one_read(wanted, BATCH_GET_MAX, MAX_CANDIDATES)
    considered = [ranked[place] for place in shares]
    refs = {ref: None for kept in shares.values() for ref in kept}
    cut = {ranked[at].client_id for at, kept in shares.items() if len(kept) < len(wanted[at])}
    answer = (
        table.batch_get(keys_of(refs) + join_keys(c.client_id for c in considered)) if refs else []
    )
    policies = {ref_of(p): p for p in answer if p["sk"] == keys.POLICY_SK}
    # An id joined into another (docs/architecture.md, "client_id") is shown as that client,
    # until its partner delivers its lookups again under the surviving id.
    joined = joined_ids(answer)

    # Rank again on the current items only: a stale lookup neither scores nor shows.
    current_ids = {
        id(item)
        for client in considered
        for item in client.items
        if is_current(item, policies.get(ref_of(item)))
    }
    current = [
        FoundItem(one.kind, {**one.item, "client_id": joined[one.item["client_id"]]})
        if one.item["client_id"] in joined
        else one
        for one in found
        if id(one.item) in current_ids
    ]
    final = _best_per_client([rank(reading, current) for reading, _ in readings])
    today = register_today()
    cut |= {joined[old] for old in cut if old in joined}
    candidates = [
        _candidate(c, list(c.items), policies, today, truncated=c.client_id in cut)
        for c in final[:MAX_CANDIDATES]
    ]
    advice = None if candidates else next_try(readings[0][0], read)
    result = CandidateList(
        query_kind="+".join(plan.kind.lower() for plan in read),
        candidates=candidates,
        truncated=truncated or len(considered) < len(ranked) or len(final) > MAX_CANDIDATES,
        next_try=None if advice is None else advice[0],
        next_try_nl=None if advice is None else advice[1],
    )
    record_audit(
        principal,
        route,
        query.model_dump(exclude_none=True),
        [c.client_id for c in result.candidates],
    )
    return result
