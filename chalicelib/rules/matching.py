"""Client recognition, the pure part: which lookup partitions a query reads, how each given
field matched each candidate, and how candidates are scored and ranked. No I/O.

Partitions (blocking keys) are chosen so the noise of a phone call does not break them: the
policy number's search key (separators, leading zeros and the partner prefix do not count),
the KvK number, the e-mail address, the phone number, the address without its addition
(postcode + house number), and the birth date (names are misheard, birth dates rarely). A query
reads the most selective form it contains; when that finds nobody convincing and the query also
has a name and a birth date, it falls back to the birth-date partition (a mover gives the new
address, the partner still has the old one). At most two partitions, so at most two Queries.

Every given field is explained per candidate (`chalicelib/rules/similarity.py`): ``exact``,
``phonetic``, ``similar`` (with a similarity), ``other address``, ``different`` or
``not given``. Score: the weighted mean of the fields' credit over the fields given; 1.0 only
when every given field matched exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from chalicelib.models.clients import ClientQuery
from chalicelib.rules.names import SpokenName, read_name
from chalicelib.rules.search_text import addition_key, policy_lookup_key, policy_search_key
from chalicelib.rules.similarity import (
    DIFFERENT,
    EXACT,
    NOT_GIVEN_MATCH,
    OTHER_ADDRESS,
    PHONETIC,
    SIMILAR,
    FieldMatch,
    compare_birth_date,
    compare_given,
    compare_surname,
    swapped_day_and_month,
)

Ref = TypeVar("Ref")

QUERY_FORMS_HELP = (
    "search by policy_number (optionally with partner_id); postcode + house_number "
    "(optionally with house_number_addition, birth_date, name); name + birth_date; phone; "
    "email; kvk; or q (free text: any of these as a caller says them)"
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
    "given_name": 0.2,
    "partner_id": 0.1,
}
# What a field earns besides an exact match: a phonetic match is nearly as good as exact, a
# similar one earns its similarity, discounted so that it never reaches an exact match.
PHONETIC_CREDIT = 0.9
SIMILAR_DISCOUNT = 0.9
# Below this best score the first partition found nobody convincing: read the fallback.
CONVINCING_SCORE = 0.75
# A score that is not all-exact stays below 1.0 after rounding.
BEST_INEXACT_SCORE = 0.99


@dataclass(frozen=True, slots=True)
class LookupPlan:
    kind: str  # POLICY, KVK, EMAIL, PHONE, ADDR, DOB
    value: str


@dataclass(frozen=True, slots=True)
class FoundItem:
    """A lookup item and the partition it was read from."""

    kind: str
    item: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class RankedClient:
    client_id: str
    score: float
    on: tuple[str, ...]  # the fields that matched, exactly or not
    fields: Mapping[str, FieldMatch]  # how each given field matched the best item
    items: tuple[Mapping[str, Any], ...]  # the client's lookup items (one per policy)


def plan_lookups(query: ClientQuery) -> list[LookupPlan]:
    """The partitions the query reads, the most selective first, the fallback second; empty
    when the query is too broad to recognise anyone safely."""
    plans: list[LookupPlan] = []
    if query.policy_number:
        key = policy_lookup_key(query.policy_number)
        plans.append(LookupPlan("POLICY", key))
        if key != query.policy_number and not policy_search_key(query.policy_number):
            # A zero number with separators (VK-00000): the release before stored it as written,
            # and an unchanged policy's lookups are not written again soon.
            plans.append(LookupPlan("POLICY", query.policy_number))
    if query.kvk:
        plans.append(LookupPlan("KVK", query.kvk))
    if query.email:
        plans.append(LookupPlan("EMAIL", query.email))
    if query.phone:
        plans.append(LookupPlan("PHONE", query.phone))
    if query.postcode and query.house_number:
        plans.append(LookupPlan("ADDR", f"{query.postcode}#{query.house_number}"))
    if query.name and query.birth_date and read_name(query.name):
        plans.append(LookupPlan("DOB", query.birth_date))
        swapped = swapped_day_and_month(query.birth_date)
        if swapped:  # "03-12" heard for the 12th of March
            plans.append(LookupPlan("DOB", swapped))
    return plans[:2]


def _credit(match: FieldMatch) -> float:
    if match.how == EXACT:
        return 1.0
    if match.how == PHONETIC:
        return PHONETIC_CREDIT
    if match.how == SIMILAR:
        return match.similarity * SIMILAR_DISCOUNT
    return 0.0


def _equal(asked: str | None, delivered: Any) -> FieldMatch:
    if not asked:
        return NOT_GIVEN_MATCH
    return FieldMatch(EXACT, 1.0) if asked == delivered else FieldMatch(DIFFERENT, 0.0)


def _policy_number(asked: str | None, delivered: Any) -> FieldMatch:
    if not asked or asked == delivered:
        return _equal(asked, delivered)
    if policy_lookup_key(asked) == policy_lookup_key(str(delivered or "")):
        return FieldMatch(SIMILAR, 0.95)
    return FieldMatch(DIFFERENT, 0.0)


def _addition(asked: str | None, delivered: Any) -> FieldMatch:
    if not asked:
        return NOT_GIVEN_MATCH
    if asked == delivered:
        return FieldMatch(EXACT, 1.0)
    if addition_key(asked) == addition_key(delivered):
        return FieldMatch(SIMILAR, 0.95)  # the same addition, written otherwise (HS/H, II/2)
    return FieldMatch(DIFFERENT, 0.0)


def _name(
    readings: tuple[SpokenName, ...], item: Mapping[str, Any]
) -> tuple[FieldMatch, FieldMatch]:
    """(surname, given name) of the reading that fits the item best."""
    best = (FieldMatch(DIFFERENT, 0.0), NOT_GIVEN_MATCH)
    best_credit = -1.0
    for reading in readings:
        surname = compare_surname(
            reading, str(item.get("surname") or ""), item.get("tussenvoegsels")
        )
        given = compare_given(reading.given, item.get("first_name"), item.get("initials"))
        credit = WEIGHTS["name"] * _credit(surname) + WEIGHTS["given_name"] * _credit(given)
        if credit > best_credit:
            best, best_credit = (surname, given), credit
    return best


def explain(
    query: ClientQuery, readings: tuple[SpokenName, ...], found: FoundItem
) -> dict[str, FieldMatch]:
    """How every field the query gives matched one lookup item."""
    item = found.item
    fields: dict[str, FieldMatch] = {}
    if query.policy_number:
        fields["policy_number"] = _policy_number(query.policy_number, item.get("policy_number"))
    if query.partner_id:
        fields["partner_id"] = _equal(query.partner_id, item.get("partner_id"))
    if query.kvk:
        fields["kvk"] = _equal(query.kvk, item.get("kvk"))
    # Phone and e-mail are not in the lookup summary: the partition that found the item tells.
    if query.email:
        fields["email"] = _equal("found", "found" if found.kind == "EMAIL" else None)
    if query.phone:
        fields["phone"] = _equal("found", "found" if found.kind == "PHONE" else None)
    if query.postcode:
        same = item.get("postcode") == query.postcode and (
            not query.house_number or item.get("house_number") == query.house_number
        )
        fields["address"] = FieldMatch(EXACT, 1.0) if same else FieldMatch(OTHER_ADDRESS, 0.0)
        if query.house_number_addition:
            fields["house_number_addition"] = (
                _addition(query.house_number_addition, item.get("house_number_addition"))
                if same
                else FieldMatch(OTHER_ADDRESS, 0.0)
            )
    if query.birth_date:
        fields["birth_date"] = compare_birth_date(query.birth_date, item.get("birth_date"))
    if readings:
        surname, given = _name(readings, item)
        fields["name"] = surname
        if given.how != NOT_GIVEN_MATCH.how:
            fields["given_name"] = given
    return fields


def score(fields: Mapping[str, FieldMatch]) -> float:
    """Weighted mean credit over the given fields; 1.0 only when all matched exactly."""
    total = sum(WEIGHTS[f] for f in fields)
    if not total:
        return 0.0
    value = sum(WEIGHTS[f] * _credit(m) for f, m in fields.items()) / total
    if all(m.how == EXACT for m in fields.values()):
        return 1.0
    return min(round(value, 2), BEST_INEXACT_SCORE)


def _only_born_the_same_day(found: FoundItem, fields: Mapping[str, FieldMatch]) -> bool:
    """A person found through the birth-date partition whose name is another name is a
    stranger born the same day: not shown (privacy), not ranked."""
    name = fields.get("name")
    return found.kind == "DOB" and name is not None and not name.matched


def _excluded(query: ClientQuery, item: Mapping[str, Any]) -> bool:
    """Another partner than asked is ruled out, not ranked lower."""
    return bool(query.partner_id) and item.get("partner_id") != query.partner_id


def rank(query: ClientQuery, found: Iterable[FoundItem]) -> list[RankedClient]:
    """Group lookup items by client, score each client by its best-matching item, and rank:
    score, then policyholders before co-insured, then number of policies found, then name and
    id (deterministic)."""
    readings = read_name(query.name) if query.name else ()
    by_client: dict[str, dict[tuple[Any, Any], FoundItem]] = {}
    for one in found:
        if not _excluded(query, one.item):
            item = one.item
            policies = by_client.setdefault(str(item["client_id"]), {})
            ref = (item.get("partner_id"), item.get("policy_number"))
            # One item per policy; the one found through a partition that proves more wins.
            if ref not in policies or one.kind in ("EMAIL", "PHONE"):
                policies[ref] = one
    ranked: list[RankedClient] = []
    for client_id, policies in by_client.items():
        best_fields: dict[str, FieldMatch] = {}
        best_score = -1.0
        for one in policies.values():
            fields = explain(query, readings, one)
            if _only_born_the_same_day(one, fields):
                continue
            value = score(fields)
            if value > best_score:
                best_fields, best_score = fields, value
        if best_score < 0:
            continue
        ranked.append(
            RankedClient(
                client_id=client_id,
                score=best_score,
                on=tuple(f for f, m in best_fields.items() if m.matched),
                fields=best_fields,
                items=tuple(one.item for one in policies.values()),
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


def convincing(ranked: list[RankedClient]) -> bool:
    """Whether the best candidate is good enough not to read the fallback partition: a score
    of at least `CONVINCING_SCORE` and no given field it contradicts (a Renée Visser born on
    the day said is not the Yvonne Visser asked; the swapped date may hold her)."""
    if not ranked or ranked[0].score < CONVINCING_SCORE:
        return False
    return all(match.how != DIFFERENT for match in ranked[0].fields.values())


# Partitions that hold a client's items only where the searched value is (one policy, one
# phone number, one e-mail address); the identity partitions hold all of them.
_PARTIAL_KINDS = frozenset({"POLICY", "PHONE", "EMAIL"})


def completing_plan(read: Sequence[LookupPlan], best: RankedClient) -> LookupPlan | None:
    """The partition that holds all of the best client's items, when the one search read only
    reached some (a policy number, a phone, an e-mail): their birth date, or a company's KvK
    number. None when the search read an identity partition or already two partitions. So a
    client is shown with every policy and the same name whichever form found them."""
    if len(read) != 1 or read[0].kind not in _PARTIAL_KINDS:
        return None
    item = best.items[0]
    if item.get("is_legal_entity"):
        return LookupPlan("KVK", str(item["kvk"])) if item.get("kvk") else None
    return LookupPlan("DOB", str(item["birth_date"])) if item.get("birth_date") else None


def is_current(lookup: Mapping[str, Any], policy: Mapping[str, Any] | None) -> bool:
    """A lookup item is current when its policy still exists and was last written by the same
    delivery (`data_seq`); otherwise the party left the policy or changed and it is stale."""
    return policy is not None and policy.get("data_seq") == lookup.get("data_seq")


def share_one_read(
    wanted: Sequence[Sequence[Ref]], budget: int, shown: int
) -> dict[int, list[Ref]]:
    """Which of each ranked candidate's policies one read of `budget` keys holds, when every
    candidate read also costs one key of its own (its join): {rank: the refs read}, in rank
    order. A candidate's refs are in priority order (the ones found through the searched
    partition first); a ref two candidates share (a household's policy) is read once.

    The first `shown` candidates (those the answer can show) share the read: each gets all of
    its policies when they fit, the ones with more than an equal share of what is left get that
    share (the refs they lose are the last ones). So a company with a policy per vehicle is
    shown with as many of them as fit, and never hides the candidates ranked behind it. The
    candidates after those are read whole, in rank order, while they fit (a stale lookup may
    leave a shown candidate out); one that does not fit is skipped, not the rest with it."""
    first = min(shown, budget // 2, len(wanted))  # each needs one ref and one join key
    remaining = budget - first
    granted: dict[Ref, None] = {}
    for served, place in enumerate(sorted(range(first), key=lambda r: len(wanted[r]))):
        share = remaining // (first - served)
        new = [ref for ref in dict.fromkeys(wanted[place]) if ref not in granted][:share]
        granted |= dict.fromkeys(new)
        remaining -= len(new)
    read = {place: [ref for ref in wanted[place] if ref in granted] for place in range(first)}
    for place in range(first, len(wanted)):
        new = [ref for ref in dict.fromkeys(wanted[place]) if ref not in granted]
        if len(new) + 1 <= remaining:
            granted |= dict.fromkeys(new)
            remaining -= len(new) + 1
            read[place] = list(wanted[place])
    return read


# In the order a caller most often knows them: (English, Dutch).
_FORM_NAMES = {
    "ADDR": ("postcode + house number", "postcode + huisnummer"),
    "DOB": ("name + birth date", "naam + geboortedatum"),
    "POLICY": ("the policy number", "het polisnummer"),
    "PHONE": ("the phone number", "het telefoonnummer"),
    "EMAIL": ("the e-mail address", "het e-mailadres"),
    "KVK": ("the KvK number", "het KvK-nummer"),
}


def next_try(query: ClientQuery, read: Iterable[LookupPlan]) -> tuple[str, str]:
    """What an employee can try when nobody was found, in English and in Dutch: the forms not
    tried yet, and fewer fields when many were given (each given field that differs lowers the
    score)."""
    tried = list(dict.fromkeys(plan.kind for plan in read))  # two DOB reads are one form
    untried = [names for kind, names in _FORM_NAMES.items() if kind not in tried][:3]
    said = [_FORM_NAMES[kind] for kind in tried]
    english = (
        f"nobody found by {' or '.join(en for en, _ in said)}; "
        f"try {', '.join(en for en, _ in untried)}, "
        "or check the spelling with the caller and give fewer fields"
    )
    dutch = (
        f"niemand gevonden op {' of '.join(nl for _, nl in said)}; "
        f"probeer {', '.join(nl for _, nl in untried)}, "
        "of controleer de spelling met de beller en geef minder gegevens"
    )
    return english, dutch
