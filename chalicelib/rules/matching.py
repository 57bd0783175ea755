"""Client recognition, the pure part: which lookup partition a query reads, how a free-text
name is understood, and how candidates are scored and ranked. No I/O.

A query reads exactly one lookup partition (docs/architecture.md): the most selective form the
query contains, in this order: `policy_number`, `kvk`, `email`, `phone`, `postcode` +
`house_number`, `name` + `birth_date`. The other fields given only rank the candidates found
(and `partner_id` and a conflicting `house_number_addition` narrow them). A query with none of
these forms (a name alone, a postcode alone, a birth date alone) is too broad.

Score: the weight of the fields the candidate matched divided by the weight of the fields the
query gave that can be checked against a candidate, so 1.0 means everything given matched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.models.clients import ClientQuery
from chalicelib.normalise import TUSSENVOEGSEL_WORDS, name_key, surname_key

QUERY_FORMS_HELP = (
    "search by policy_number (optionally with partner_id); postcode + house_number "
    "(optionally with house_number_addition, birth_date, name); name + birth_date; phone; "
    "email; or kvk"
)

WEIGHTS: dict[str, float] = {
    "policy_number": 1.0,
    "kvk": 1.0,
    "email": 0.8,
    "phone": 0.8,
    "address": 0.6,
    "house_number_addition": 0.1,
    "birth_date": 0.5,
    "name": 0.4,
    "given_name": 0.1,
    "partner_id": 0.1,
}

_INITIALS_RE = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]?\.?|[A-Za-z]")


@dataclass(frozen=True, slots=True)
class NameQuery:
    surname_key: str
    given_key: str | None = None


@dataclass(frozen=True, slots=True)
class LookupPlan:
    kind: str  # POLICY, KVK, EMAIL, PHONE, ADDR, NAMEDOB
    value: str


@dataclass(frozen=True, slots=True)
class RankedClient:
    client_id: str
    score: float
    on: tuple[str, ...]
    items: tuple[Mapping[str, Any], ...]  # the client's lookup items (one per policy)


def parse_name(text: str) -> NameQuery | None:
    """Understand a name as a caller gives it: a surname with its tussenvoegsels in any position
    (``Van der Berg``, ``Berg, van der``, ``vd Berg``), optionally with first name or initials:
    before a comma-separated surname (``Berg, Jan``, ``Berg, J.P. van der``), before the
    tussenvoegsels (``Jan van der Berg``) or as leading initials (``J.P. Berg``). Without a
    comma, tussenvoegsels or initials the whole text is the surname (``Jansen Smit``): write
    ``Berg, Jan`` to give a first name. None when no surname is left."""
    text = " ".join(text.split())
    if "," in text:
        core, _, rest = text.partition(",")
        tokens = rest.split()
        tussenvoegsels = [t for t in tokens if t.lower() in TUSSENVOEGSEL_WORDS]
        given = [t for t in tokens if t.lower() not in TUSSENVOEGSEL_WORDS]
        key = surname_key(core, " ".join(tussenvoegsels) or None)
    else:
        tokens = text.split()
        first_tussenvoegsel = next(
            (i for i, t in enumerate(tokens[:-1]) if t.lower() in TUSSENVOEGSEL_WORDS), None
        )
        if first_tussenvoegsel is not None:
            split = first_tussenvoegsel
        else:
            split = 0
            while split < len(tokens) - 1 and _INITIALS_RE.fullmatch(tokens[split]):
                split += 1
        given = tokens[:split]
        key = surname_key(" ".join(tokens[split:]))
    if not key:
        return None
    return NameQuery(surname_key=key, given_key=name_key("".join(given)) or None)


def plan_lookup(query: ClientQuery) -> LookupPlan | None:
    """The one lookup partition the query reads, or None when the query is too broad."""
    if query.policy_number:
        return LookupPlan("POLICY", query.policy_number)
    if query.kvk:
        return LookupPlan("KVK", query.kvk)
    if query.email:
        return LookupPlan("EMAIL", query.email)
    if query.phone:
        return LookupPlan("PHONE", query.phone)
    if query.postcode and query.house_number:
        return LookupPlan("ADDR", f"{query.postcode}#{query.house_number}")
    if query.name and query.birth_date:
        name = parse_name(query.name)
        if name is not None:
            return LookupPlan("NAMEDOB", f"{name.surname_key}#{query.birth_date}")
    return None


def _given_matches(given: str, item: Mapping[str, Any]) -> bool:
    first = name_key(str(item.get("first_name") or ""))
    initials = name_key(str(item.get("initials") or ""))
    if given in (first, initials):
        return True
    # "J" or "JP" given as initials against the delivered initials "J.P."
    return bool(initials) and len(given) <= 3 and initials.startswith(given)


def _client_match(
    query: ClientQuery, plan: LookupPlan, name: NameQuery | None, item: Mapping[str, Any]
) -> tuple[list[str], float]:
    """(fields matched, weight of the fields that could be checked) for one lookup item."""
    matched: list[str] = []
    checked: list[str] = []

    def check(field: str, ok: bool) -> None:
        checked.append(field)
        if ok:
            matched.append(field)

    if query.policy_number:
        check("policy_number", item.get("policy_number") == query.policy_number)
    if query.partner_id:
        check("partner_id", item.get("partner_id") == query.partner_id)
    if query.kvk:
        check("kvk", item.get("kvk") == query.kvk)
    # Phone and e-mail are not in the lookup summary: they are checked only by the partition.
    if plan.kind == "EMAIL":
        check("email", True)
    if plan.kind == "PHONE":
        check("phone", True)
    if query.postcode and query.house_number:
        same = (item.get("postcode"), item.get("house_number")) == (
            query.postcode,
            query.house_number,
        )
        check("address", same)
        if query.house_number_addition:
            check(
                "house_number_addition",
                same and item.get("house_number_addition") == query.house_number_addition,
            )
    elif query.postcode:
        check("address", item.get("postcode") == query.postcode)
    if query.birth_date:
        check("birth_date", item.get("birth_date") == query.birth_date)
    if name is not None:
        check("name", item.get("surname_key") == name.surname_key)
        if name.given_key:
            check("given_name", _given_matches(name.given_key, item))
    return matched, sum(WEIGHTS[f] for f in checked)


def _excluded(query: ClientQuery, item: Mapping[str, Any]) -> bool:
    """Items a query rules out instead of ranking lower: another partner than asked, another
    flat at the same house number (``12A`` asked, ``12B`` found)."""
    if query.partner_id and item.get("partner_id") != query.partner_id:
        return True
    addition = item.get("house_number_addition")
    return bool(
        query.house_number_addition and addition and addition != query.house_number_addition
    )


def rank(
    query: ClientQuery, plan: LookupPlan, items: Iterable[Mapping[str, Any]]
) -> list[RankedClient]:
    """Group lookup items by client, score each client by its best-matching item, and rank:
    score, then policyholders before co-insured, then number of policies found, then name and
    id (deterministic)."""
    name = parse_name(query.name) if query.name else None
    by_client: dict[str, list[Mapping[str, Any]]] = {}
    for item in items:
        if not _excluded(query, item):
            by_client.setdefault(str(item["client_id"]), []).append(item)
    ranked: list[RankedClient] = []
    for client_id, client_items in by_client.items():
        best_on: list[str] = []
        best_score = -1.0
        for item in client_items:
            on, weight = _client_match(query, plan, name, item)
            score = sum(WEIGHTS[f] for f in on) / weight if weight else 0.0
            if score > best_score:
                best_on, best_score = on, score
        ranked.append(
            RankedClient(
                client_id=client_id,
                score=round(best_score, 2),
                on=tuple(best_on),
                items=tuple(client_items),
            )
        )
    ranked.sort(
        key=lambda c: (
            -c.score,
            not any(i.get("role") == "VP" for i in c.items),
            -len(c.items),
            str(c.items[0].get("surname_key", "")),
            c.client_id,
        )
    )
    return ranked


def is_current(lookup: Mapping[str, Any], policy: Mapping[str, Any] | None) -> bool:
    """A lookup item is current when its policy still exists and was last written by the same
    delivery (`data_seq`); otherwise the party left the policy or changed and it is stale."""
    return policy is not None and policy.get("data_seq") == lookup.get("data_seq")
