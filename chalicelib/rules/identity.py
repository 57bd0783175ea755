"""Who a party is: the evidence that makes two deliveries of a person (or a company) one client,
the rules that keep two people apart, and the pseudonymous client id.

A delivered party is compared with what the register already knows (docs/architecture.md,
"client_id"): first the parties the same partner delivered on the same policy before (the
strongest evidence: a mover, a corrected typo, a re-delivery), then every client in the party's
identity buckets (the birth date for persons; the KvK number and the address for companies),
each kept as a `Trace` per partner. When the evidence says "the same", the party takes that
client's id; when it finds nobody, a new id is minted from the party's identity (the formula of
the first version, so ids stored before identity resolution keep coming out the same); when
it says that two known ids are one person, they are joined and the one given out first survives.

Never the same person: another birth date (`Jansen` 1980 and `Jansen` 1981; a parent and a
child of one name at one address), another first name or incompatible initials (twins `Piet` and
`Jan`), a surname that is neither equal, phonetic, a typo nor a part of the other (`de Vries`
and `de Vos`), another KvK number; and, with no address, phone number or e-mail address in
common, initials that fit a first name (`K. Jansen` and `Kees Jansen`, born the same day in
other towns).
"""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from rapidfuzz.distance import OSA, JaroWinkler

from chalicelib.models.portfolio import PartyFields
from chalicelib.normalise import name_key
from chalicelib.rules.names import SpokenName
from chalicelib.rules.phonetic import phonetic_key
from chalicelib.rules.similarity import DIFFERENT, EXACT, PHONETIC, compare_surname

# --- the identity of the first version: what a new id is minted from ---------------------------


def client_identity(party: PartyFields) -> str:
    """What makes two deliveries of a person the same client when nothing else is known
    (before pseudonymisation)."""
    if party.is_legal_entity:
        if party.kvk:
            return f"R|{party.kvk}"
        return f"R|{party.surname_key}|{party.postcode or ''}|{party.house_number}"
    address = f"{party.postcode or ''}|{party.house_number}"
    return f"P|{party.surname_key}|{party.birth_date or ''}|{address}"


def policy_identities(parties: Sequence[PartyFields]) -> list[str] | None:
    """The identity of each party on one policy. Parties that share an identity but not a
    first name or initials are different people (twins Piet and Jan on one household policy)
    and are told apart by that given name; None when two parties cannot be told apart at all
    (a repeated row, or twins delivered with the same initials and no first names)."""
    identities = [client_identity(party) for party in parties]
    if len(set(identities)) == len(identities):  # the common case, without counting
        return identities
    counts = Counter(identities)
    told_apart = [
        f"{identity}|{_given_key(party)}" if counts[identity] > 1 else identity
        for identity, party in zip(identities, parties, strict=True)
    ]
    return told_apart if len(set(told_apart)) == len(told_apart) else None


def told_apart(parties: Sequence[PartyFields]) -> bool:
    """No two of a policy's parties are one client (`policy_identities` is not None). Natural
    persons of pairwise different surname keys or birth dates have different identities (both
    are free of the separator), so a household is decided without building its identities."""
    if len(parties) < 2:
        return True
    if not any(party.is_legal_entity for party in parties):
        names_and_births = {(party.surname_key, party.birth_date) for party in parties}
        if len(names_and_births) == len(parties):
            return True
    return policy_identities(parties) is not None


def _given_key(party: PartyFields) -> str:
    return name_key(party.first_name or "") or name_key(party.initials or "")


def client_id_for(party: PartyFields, key: str, identity: str | None = None) -> str:
    """The pseudonymous client id of a party: its identity (or the one `policy_identities`
    gave it on its policy) under the stage's HMAC key."""
    return pseudonym(identity or client_identity(party), key)


def pseudonym(identity: str, key: str) -> str:
    digest = hmac.new(key.encode(), identity.encode(), hashlib.sha256).hexdigest()
    return "c_" + digest[:24]


# --- traces: what is known of a client, as one partner delivered them --------------------------


@dataclass(frozen=True, slots=True)
class Trace:
    """One client as one partner delivered them: the evidence resolution compares. `since` is
    the delivery order (`seq`) in which the client id was first given out; `expires_at` when
    this trace may be forgotten (the retention of the delivery that last showed it)."""

    client_id: str
    legal: bool
    surname: str
    tussenvoegsels: str | None = None
    gender: str = ""  # M or V as delivered; "" unknown
    first_name: str = ""  # key: folded, only a-z0-9
    initials: str = ""  # key: "jp" for "J.P."
    birth_date: str | None = None
    postcode: str | None = None
    house_number: str = ""
    contacts: frozenset[str] = frozenset()  # phone numbers and e-mail addresses
    kvk: str | None = None
    partner_id: str = ""
    since: str = ""
    expires_at: int = 0

    def as_item(self) -> dict[str, Any]:
        """The stored form: short names, absent values left out (DynamoDB stores no empty
        sets)."""
        stored: dict[str, Any] = {"id": self.client_id, "le": self.legal, "sn": self.surname}
        optional = {
            "tv": self.tussenvoegsels,
            "g": self.gender,
            "fn": self.first_name,
            "in": self.initials,
            "bd": self.birth_date,
            "pc": self.postcode,
            "hn": self.house_number,
            "ct": sorted(self.contacts),
            "kvk": self.kvk,
            "pt": self.partner_id,
            "since": self.since,
            "exp": self.expires_at,
        }
        stored.update({name: value for name, value in optional.items() if value})
        return stored

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Trace:
        return cls(
            client_id=str(item["id"]),
            legal=bool(item.get("le")),
            surname=str(item.get("sn", "")),
            tussenvoegsels=item.get("tv"),
            gender=str(item.get("g", "")),
            first_name=str(item.get("fn", "")),
            initials=str(item.get("in", "")),
            birth_date=item.get("bd"),
            postcode=item.get("pc"),
            house_number=str(item.get("hn", "")),
            contacts=frozenset(str(c) for c in item.get("ct", ())),
            kvk=item.get("kvk"),
            partner_id=str(item.get("pt", "")),
            since=str(item.get("since", "")),
            expires_at=int(item.get("exp", 0)),
        )


def trace_of(
    party: PartyFields,
    client_id: str,
    *,
    partner_id: str = "",
    since: str = "",
    expires_at: int = 0,
) -> Trace:
    contacts = {value for value in (party.phone, party.mobile, party.email) if value}
    return Trace(
        client_id=client_id,
        legal=party.is_legal_entity,
        surname=party.surname,
        tussenvoegsels=party.tussenvoegsels,
        gender=_gender(party.gender),
        first_name=name_key(party.first_name or ""),
        initials=name_key(party.initials or ""),
        birth_date=party.birth_date,
        postcode=party.postcode,
        house_number=party.house_number,
        contacts=frozenset(contacts),
        kvk=party.kvk,
        partner_id=partner_id,
        since=since,
        expires_at=expires_at,
    )


def _gender(value: object) -> str:
    """M or V; anything else (unknown, a company) is no evidence either way."""
    return str(value) if value in ("M", "V") else ""


def _genders_differ(a: Trace, b: Trace) -> bool:
    return bool(a.gender and b.gender and a.gender != b.gender)


def trace_of_party_item(item: Mapping[str, Any], since: str = "") -> Trace:
    """The trace of a stored party item (one written before traces were kept)."""
    contacts = {str(item[name]) for name in ("phone", "mobile", "email") if item.get(name)}
    return Trace(
        client_id=str(item["client_id"]),
        legal=bool(item.get("is_legal_entity")),
        surname=str(item.get("surname", "")),
        tussenvoegsels=item.get("tussenvoegsels"),
        gender=_gender(item.get("gender")),
        first_name=name_key(str(item.get("first_name") or "")),
        initials=name_key(str(item.get("initials") or "")),
        birth_date=item.get("birth_date"),
        postcode=item.get("postcode"),
        house_number=str(item.get("house_number", "")),
        contacts=frozenset(contacts),
        kvk=item.get("kvk"),
        partner_id=str(item.get("partner_id", "")),
        since=since,
        expires_at=int(item.get("expires_at", 0)),
    )


# The letter a first name or initial is kept under: the letters that sound alike at the start
# of a Dutch first name share one (`Kees`/`Cees`, `Chris`/`C.`, `Zoë`/`Soë`, `Vera`/`Fera`),
# so no first names the evidence rules call the same (equal, phonetic, or an initial of the
# other) are ever kept under two letters.
_GIVEN_LETTER = {"c": "k", "q": "k", "z": "s", "v": "f", "y": "i"}
NO_GIVEN_NAME = "_"


def given_letters(trace: Trace) -> tuple[str, ...]:
    """The first letters of a person's initials and first name (as grouped above), the
    initials' first: `j` and `h` for Johannes Hendrikus (`J.H.`) called Hans, whom one partner
    delivers with initials only and another with the roepnaam. `_` without either."""
    letters: list[str] = []
    for given in (trace.initials, trace.first_name):
        if given:
            letter = _GIVEN_LETTER.get(given[0], given[0])
            if letter not in letters:
                letters.append(letter)
    return tuple(letters) or (NO_GIVEN_NAME,)


def given_letter(trace: Trace) -> str:
    """The letter a new id is minted with: the initials' first, else the first name's."""
    return given_letters(trace)[0]


def bucket_keys(trace: Trace) -> tuple[str, ...]:
    """The identity buckets (blocking keys) a client is kept in: values the noise between
    partners does not break. A person: the birth date and the first letter of the initials and
    of the first name (`DOB#1980-03-12#k`; two buckets when they differ, a roepnaam): every
    natural person has a birth date, and two given names the evidence rules call the same
    share a letter; the letter splits a birth date's clients over about fifteen items, so the
    item a new client is written into stays small however large the register grows. A
    company: its KvK number, and its address (so a company delivered without its KvK number
    meets the one with it)."""
    if not trace.legal:
        if not trace.birth_date:
            return ()
        return tuple(f"DOB#{trace.birth_date}#{letter}" for letter in given_letters(trace))
    keys = [f"KVK#{trace.kvk}"] if trace.kvk else []
    if trace.postcode and trace.house_number:
        keys.append(f"ORG#{trace.postcode}#{trace.house_number}")
    return tuple(keys)


# Every letter a given name can be kept under (a-z, the alike-sounding ones grouped).
_ALL_LETTERS = tuple(sorted({_GIVEN_LETTER.get(c, c) for c in "abcdefghijklmnopqrstuvwxyz"}))


def lookup_keys(trace: Trace) -> tuple[str, ...]:
    """The buckets a client is looked for in: their own, and for a person with a given name the
    birth date's bucket of persons delivered without one (who may be them, with an address,
    phone or e-mail in common); a person without a given name, rare, is looked for under every
    letter of the birth date."""
    keys = bucket_keys(trace)
    if trace.legal or not trace.birth_date:
        return keys
    if given_letters(trace) == (NO_GIVEN_NAME,):
        return (*keys, *(f"DOB#{trace.birth_date}#{letter}" for letter in _ALL_LETTERS))
    return (*keys, f"DOB#{trace.birth_date}#{NO_GIVEN_NAME}")


# --- comparing two traces -------------------------------------------------------------------

# Given names: the same (first names, or whole initials), compatible (an initial fits), or
# unknown (one side has none). Anything else is a contradiction: another person.
SAME_GIVEN = "same"
COMPATIBLE_GIVEN = "compatible"
UNKNOWN_GIVEN = "unknown"

# Company names: Jaro-Winkler at or above this is a typo of the same name.
COMPANY_SIMILAR_AT = 0.92
# Legal forms written after the name, which partners leave out or abbreviate: they say what
# kind of company it is, not which one. Words that name the company are kept: `Jansen Holding
# B.V.` and `Jansen B.V.` are two companies, so are `Stichting Jansen` and `Vereniging Jansen`.
_LEGAL_FORMS = frozenset({"bv", "nv", "vof", "cv", "ua", "ba"})


def _initials_of(trace: Trace) -> str:
    return trace.initials or trace.first_name[:1]


def given_agreement(a: Trace, b: Trace) -> str | None:
    """How the first names and initials of two traces agree; None when they say these are two
    people (twins `Piet` and `Jan`; `J.` and `K.`). First names must be equal or sound the same
    in Dutch: a first name one letter off is a twin's name as often as a typo (`Anna`/`Anne`)."""
    if a.first_name and b.first_name:
        if a.first_name == b.first_name or phonetic_key(a.first_name) == phonetic_key(b.first_name):
            return SAME_GIVEN
        return None
    initials_a, initials_b = _initials_of(a), _initials_of(b)
    if not initials_a or not initials_b:
        return UNKNOWN_GIVEN
    if initials_a == initials_b:
        return SAME_GIVEN if a.initials and b.initials else COMPATIBLE_GIVEN
    if initials_a.startswith(initials_b) or initials_b.startswith(initials_a):
        return COMPATIBLE_GIVEN
    return None


def _surname_match(a: Trace, b: Trace) -> str:
    """exact, phonetic, similar (a typo, one part of a double surname, other tussenvoegsels)
    or different."""
    return compare_surname(SpokenName(a.surname, a.tussenvoegsels), b.surname, b.tussenvoegsels).how


def _same_address(a: Trace, b: Trace) -> bool:
    return bool(a.house_number) and (a.postcode, a.house_number) == (b.postcode, b.house_number)


# Two partners who each mistyped one letter of a surname deliver names two edits apart
# (`Meijerr` and `Mnijer`): the same name only when everything else says so.
MAX_TYPOS_APART = 2


def _typos_apart(a: Trace, b: Trace) -> bool:
    """Surnames at most two typos apart (optimal string alignment on the folded names), with
    the same first letter and the same tussenvoegsels: what two partners' own typos of one
    name look like, never a name of another family that merely shares letters."""
    key_a, key_b = name_key(a.surname), name_key(b.surname)
    if not key_a or not key_b or key_a[0] != key_b[0]:
        return False
    if name_key(a.tussenvoegsels or "") != name_key(b.tussenvoegsels or ""):
        return False
    return OSA.distance(key_a, key_b) <= MAX_TYPOS_APART


def _named_alike(a: Trace, b: Trace) -> bool:
    """Both have a first name, and it is the same (or sounds the same)."""
    return bool(a.first_name and b.first_name) and given_agreement(a, b) == SAME_GIVEN


# A birth year that moves by a generation is another person (a son taking over his father's
# policy), however few digits change: 1950 and 1980 differ in one.
MAX_CORRECTED_YEARS = 9


def _birth_date_typo(a: str, b: str) -> bool:
    """One digit off, two digits swapped, or day and month swapped: what a partner corrects,
    as long as the year stays within the same generation."""
    if not (a[:4].isdigit() and b[:4].isdigit()):
        return False
    if abs(int(a[:4]) - int(b[:4])) > MAX_CORRECTED_YEARS:
        return False
    swapped = f"{a[:4]}-{a[8:10]}-{a[5:7]}"
    return OSA.distance(a, b) <= 1 or b == swapped


def company_key(name: str) -> str:
    """A company name without its legal form and punctuation: `Bakkerij Jansen B.V.` and
    `Bakkerij Jansen` are one name."""
    words = [name_key(word) for word in name.replace("-", " ").split()]
    kept = [word for word in words if word and word not in _LEGAL_FORMS]
    return "".join(kept) or "".join(words)


def _company_names_agree(a: Trace, b: Trace) -> bool:
    key_a, key_b = company_key(a.surname), company_key(b.surname)
    if not key_a or not key_b:
        return False
    if key_a == key_b or phonetic_key(key_a) == phonetic_key(key_b):
        return True
    return JaroWinkler.normalized_similarity(key_a, key_b) >= COMPANY_SIMILAR_AT


# Evidence weights: what a match on each kind of evidence adds to the score of a pairing.
SAME_POLICY_WEIGHT = 4.0
_SURNAME_CREDIT = {EXACT: 2.0, PHONETIC: 1.5}
_SIMILAR_SURNAME_CREDIT = 1.0
_TYPOS_APART_CREDIT = 0.5
_GIVEN_CREDIT = {SAME_GIVEN: 2.0, COMPATIBLE_GIVEN: 1.0, UNKNOWN_GIVEN: 0.0}
SUPPORT_WEIGHT = 1.5


def evidence(known: Trace, delivered: Trace, *, same_policy: bool) -> float | None:
    """The score of the evidence that `delivered` is the client `known`; None when it is
    another client or the evidence is too weak to say so. `same_policy`: `known` is a party the
    same partner delivered before on the same policy."""
    if known.legal != delivered.legal:
        return None
    if known.legal:
        return _company_evidence(known, delivered, same_policy=same_policy)
    return _person_evidence(known, delivered, same_policy=same_policy)


def _person_evidence(known: Trace, delivered: Trace, *, same_policy: bool) -> float | None:
    if not known.birth_date or not delivered.birth_date:
        return None
    same_birth_date = known.birth_date == delivered.birth_date
    if not same_birth_date and not (
        same_policy and _birth_date_typo(known.birth_date, delivered.birth_date)
    ):
        return None
    given = given_agreement(known, delivered)
    if given is None:
        return None
    # A man and a woman are two people (boy/girl twins `J. Jansen`, a married couple born the
    # same day); only the partner's own correction on the same policy, with the same first
    # name, may change what it delivered.
    if _genders_differ(known, delivered) and not (same_policy and given == SAME_GIVEN):
        return None
    surname = _surname_match(known, delivered)
    support = _same_address(known, delivered) or bool(known.contacts & delivered.contacts)
    score = _GIVEN_CREDIT[given] + (SUPPORT_WEIGHT if support else 0.0)
    score += _SURNAME_CREDIT.get(surname, 0.0 if surname == DIFFERENT else _SIMILAR_SURNAME_CREDIT)
    if same_policy:
        # The partner's own earlier delivery of this policy: a mover, a corrected typo, a
        # married name. A corrected birth date needs the same first name and surname.
        if not same_birth_date and (given != SAME_GIVEN or surname == DIFFERENT):
            return None
        if surname == DIFFERENT and given != SAME_GIVEN:
            return None
        return score + SAME_POLICY_WEIGHT
    if surname == DIFFERENT:
        # Two partners' typos of one surname: only with the given name agreeing and an
        # address, phone number or e-mail address in common.
        if not (support and given != UNKNOWN_GIVEN and _typos_apart(known, delivered)):
            return None
        score += _TYPOS_APART_CREDIT
    # Without an address, phone number or e-mail address in common, only the whole name says
    # "the same" (a mover whose old address one partner still has): the same first name on
    # both sides and the same surname. Initials alone fit namesakes born the same day
    # elsewhere (`K. Jansen` in Zwolle is not `Kees Jansen` in Utrecht).
    strong_name = surname in _SURNAME_CREDIT and _named_alike(known, delivered)
    if not (support or strong_name):
        return None
    return score


def _company_evidence(known: Trace, delivered: Trace, *, same_policy: bool) -> float | None:
    if known.kvk and delivered.kvk:
        if known.kvk != delivered.kvk:
            return None
        return 6.0 + (SAME_POLICY_WEIGHT if same_policy else 0.0)
    names = _company_names_agree(known, delivered)
    address = _same_address(known, delivered)
    if same_policy and (names or address):
        return SAME_POLICY_WEIGHT + 2.0 * names + SUPPORT_WEIGHT * address
    if names and address:
        return 2.0 + SUPPORT_WEIGHT
    return None


def conflicts(a: Trace, b: Trace) -> bool:
    """Two traces that cannot be one client whatever else agrees: a person and a company,
    other KvK numbers, other birth dates, first names or initials that contradict."""
    if a.legal != b.legal:
        return True
    if a.legal:
        return bool(a.kvk and b.kvk and a.kvk != b.kvk)
    return a.birth_date != b.birth_date or given_agreement(a, b) is None or _genders_differ(a, b)


def contradicts(a: Trace, b: Trace) -> bool:
    """Two known clients that cannot be one: a conflict, or persons' surnames that are not
    the same name. Used before joining two ids a delivered party matched both of."""
    if conflicts(a, b):
        return True
    return not a.legal and _surname_match(a, b) == DIFFERENT and not _typos_apart(a, b)


# --- resolving the parties of one policy ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Decision:
    """The client id a delivered party gets, and the ids that evidence showed to be the same
    client (joined into `client_id`: the one given out first)."""

    client_id: str
    since: str
    joined: tuple[str, ...] = ()
    reused: bool = False
    # The party of the same policy it was before (the partner's earlier delivery of it), when
    # it is this client: what the partner said of them on this policy until now.
    previous: Trace | None = None


@dataclass
class PolicyToResolve:
    """A delivered policy's parties, what the same partner delivered on it before, and what the
    identity buckets of its parties hold."""

    parties: Sequence[PartyFields]
    previous: Sequence[Trace] = ()
    known: Sequence[Trace] = ()
    minted_identities: Sequence[str] = field(default_factory=list)
    delivered: Sequence[Trace] = ()  # the parties' traces, when the caller has them already


def survivor(traces: Iterable[Trace]) -> Trace:
    """Of the traces of clients found to be one: the id given out first (its `since`), so the
    id that mandates, audit entries and the dossier have pointed at longest stays; then the
    smallest id, so the choice never depends on the order evidence arrived in."""
    return min(traces, key=lambda t: (t.since or "~", t.client_id))


def resolve_policy(
    policy: PolicyToResolve, *, partner_id: str, seq: str, key: str
) -> list[Decision]:
    """The client id of each party of one policy (pure).

    1. Each party is paired with at most one party the same partner delivered on this policy
       before, best evidence first (two twins never take one earlier party).
    2. Each party is compared with the clients of its identity buckets.
    3. The ids found are one client when none contradicts another: joined into the one given
       out first. When they contradict each other (`J. Jansen` fits both twins `Jan` and
       `Joost`), the earlier party on the policy decides, else the best evidence if it stands
       alone, else nobody.
    4. Nobody found: a new id from the party's identity (the first version's formula); if
       that id belongs to another client (a twin delivered alone before), the given name and
       then the policy are added to the identity until it is free.
    """
    delivered = policy.delivered or [trace_of(p, "", partner_id=partner_id) for p in policy.parties]
    previous_of = _pair_with_previous(delivered, policy.previous)
    decisions: list[Decision] = []
    taken: set[str] = set()
    for index, trace in enumerate(delivered):
        earlier = previous_of.get(index)
        # A client one of whose traces conflicts with the party is another client, however
        # well another partner's trace of them fits (a company with another KvK number met
        # through its trace without one).
        excluded = {known.client_id for known in policy.known if conflicts(known, trace)}
        scored = [
            (score, known)
            for known in policy.known
            if known.client_id not in taken | excluded
            and (score := evidence(known, trace, same_policy=False)) is not None
        ]
        decision = _decide(earlier, scored)
        if decision is None or decision.client_id in taken:
            identity = policy.minted_identities[index]
            decision = Decision(
                _free_id(identity, policy, trace, taken, partner_id, key), since=seq
            )
        elif earlier is not None and earlier.client_id in (decision.client_id, *decision.joined):
            decision = replace(decision, previous=earlier)
        taken.add(decision.client_id)
        taken.update(decision.joined)
        decisions.append(decision)
    return decisions


def _pair_with_previous(delivered: Sequence[Trace], previous: Sequence[Trace]) -> dict[int, Trace]:
    """Delivered party index -> the earlier party of the same policy it is, best evidence
    first, each earlier party at most once."""
    pairs = sorted(
        (
            (score, i, j)
            for i, trace in enumerate(delivered)
            for j, known in enumerate(previous)
            if (score := evidence(known, trace, same_policy=True)) is not None
        ),
        key=lambda pair: (-pair[0], pair[1], pair[2]),
    )
    chosen: dict[int, Trace] = {}
    used: set[int] = set()
    for _, i, j in pairs:
        if i not in chosen and j not in used:
            chosen[i] = previous[j]
            used.add(j)
    return chosen


def _decide(earlier: Trace | None, scored: list[tuple[float, Trace]]) -> Decision | None:
    # A client is kept as several traces (one per partner and variant): each client's traces
    # that fit, its best first.
    by_id: dict[str, list[Trace]] = {}
    best: dict[str, float] = {}
    for score, trace in sorted(scored, key=lambda pair: -pair[0]):
        by_id.setdefault(trace.client_id, []).append(trace)
        best.setdefault(trace.client_id, score)
    if earlier is not None:
        # The earlier party is this party before the partner's correction: only a hard
        # conflict with it (another birth date, given name, KvK) keeps a candidate apart.
        by_id = {
            client_id: traces
            for client_id, traces in by_id.items()
            if not any(conflicts(earlier, k) for k in traces)
        }
    others = [c for c in by_id if earlier is None or c != earlier.client_id]
    if any(
        _clients_contradict(by_id[a], by_id[b])
        for i, a in enumerate(others)
        for b in others[i + 1 :]
    ):
        if earlier is not None:
            return Decision(earlier.client_id, since=earlier.since, reused=True)
        # Two clients that cannot be one both fit: only evidence that clearly stands out
        # decides (an address or a phone number more), otherwise nobody is taken.
        top, runner_up = sorted(best.values(), reverse=True)[:2]
        if top < runner_up + SUPPORT_WEIGHT:
            return None
        others = [max(best, key=lambda client_id: best[client_id])]
    # Each client by its trace given out first (a variant kept before a join may name a later
    # `since` than the client's).
    representatives = [survivor(by_id[client_id]) for client_id in others]
    traces = [earlier, *representatives] if earlier is not None else representatives
    if not traces:
        return None
    first = survivor(traces)
    joined = tuple(sorted({t.client_id for t in traces} - {first.client_id}))
    return Decision(first.client_id, since=first.since, joined=joined, reused=True)


def _clients_contradict(a: Sequence[Trace], b: Sequence[Trace]) -> bool:
    """Two clients cannot be one when any trace of one contradicts any trace of the other."""
    return any(contradicts(x, y) for x in a for y in b)


def _free_id(
    identity: str,
    policy: PolicyToResolve,
    trace: Trace,
    taken: set[str],
    partner_id: str,
    key: str,
) -> str:
    """The minted id of `identity`, made unique against the ids of other known clients and the
    other parties of this policy. A person's identity gets the letter of their identity bucket
    (`given_letter`): the clients of the other letters are not read, so twins `Piet` and `Jan`
    delivered by two partners must not come out of the same formula."""
    if not trace.legal:
        identity = f"{identity}|{given_letter(trace)}"
    others = taken | {k.client_id for k in (*policy.known, *policy.previous)}
    given = trace.first_name or trace.initials
    for candidate in (identity, f"{identity}|{given}", f"{identity}|{given}|{partner_id}"):
        client_id = pseudonym(candidate, key)
        if client_id not in others:
            return client_id
    return pseudonym(f"{identity}|{given}|{partner_id}|{len(taken)}", key)


def with_client(trace: Trace, client_id: str, since: str) -> Trace:
    return replace(trace, client_id=client_id, since=since)


# --- identity buckets --------------------------------------------------------------------------

# A stored trace is written again only when it changed, or when its expiry is this much older
# than the delivery's (the ingest passes the register's RETENTION_REFRESH_MONTHS, so a bucket is
# refreshed as seldom as an unchanged policy item); this default is a quarter.
TRACE_REFRESH_SECONDS = 90 * 24 * 3600


# A partner may deliver one client on several policies with other details (a first name on
# one, initials only on another; a mobile number here, a landline there; the address they
# left): a bucket keeps each such variant as its own trace, up to this many per client and
# partner (what the same client's other variants add is one more trace each, ~200 bytes).
MAX_VARIANTS = 4


def variant_of(trace: Trace) -> Trace:
    """What a trace says of the client, without when it was written (`since`, `expires_at`)."""
    return replace(trace, since="", expires_at=0)


def same_variant(a: Trace, b: Trace) -> bool:
    """The same client as the same partner delivered them, with the same details."""
    return variant_of(a) == variant_of(b)


@dataclass
class Bucket:
    """The clients kept under one blocking key: one trace per client, partner and variant of
    the details that partner delivers (at most `MAX_VARIANTS` per client and partner), and the
    joins recorded there (old id -> (surviving id, expires_at))."""

    key: str
    traces: list[Trace] = field(default_factory=list)
    joined: dict[str, tuple[str, int]] = field(default_factory=dict)
    changed: bool = False
    version: int = 0  # as read; 0 for a bucket never stored. Every write stores version + 1.

    def live(self, now: int) -> list[Trace]:
        return [t for t in self.traces if not t.expires_at or t.expires_at > now]

    def keep(self, trace: Trace, refresh_seconds: int = TRACE_REFRESH_SECONDS) -> None:
        """Remember `trace` as one of its partner's variants of that client. A variant already
        kept is written again only when its stored expiry lags more than `refresh_seconds` (or
        its `since` changed), so a re-delivery of unchanged details writes nothing, whichever
        of the client's policies comes last. A new variant beyond `MAX_VARIANTS` takes the
        place of the variant delivered longest ago, if that one is due for a refresh (not
        delivered for `refresh_seconds`); otherwise it is not kept: the client has that many
        current variants, and a variant must not push out another in every delivery."""
        own: list[int] = []
        for index, stored in enumerate(self.traces):
            if (stored.client_id, stored.partner_id) != (trace.client_id, trace.partner_id):
                continue
            if not same_variant(stored, trace):
                own.append(index)
                continue
            fresh = stored.expires_at + refresh_seconds >= trace.expires_at
            if stored.since == trace.since and fresh:
                return
            self.traces[index] = trace
            self.changed = True
            return
        if len(own) >= MAX_VARIANTS:
            oldest = min(own, key=lambda index: self.traces[index].expires_at)
            if self.traces[oldest].expires_at + refresh_seconds >= trace.expires_at:
                return
            del self.traces[oldest]
        self.traces.append(trace)
        self.changed = True

    def forget_variant(self, trace: Trace, client_ids: Iterable[str]) -> None:
        """Forget what a partner delivered of a client on a policy before it corrected it
        there (`trace`, stored under one of `client_ids`): the old gender or surname the
        partner no longer delivers must not keep the client apart from other partners'
        deliveries of them. A variant another policy still delivers is kept again by it."""
        ids = set(client_ids)
        kept = [
            t
            for t in self.traces
            if not (
                t.client_id in ids and same_variant(replace(t, client_id=trace.client_id), trace)
            )
        ]
        if len(kept) != len(self.traces):
            self.traces, self.changed = kept, True

    def join(self, old: str, into: str, expires_at: int) -> None:
        """Record that `old` is `into`, and let every trace and earlier join of `old` name
        `into` (joins stay one step deep)."""
        self.joined[old] = (into, expires_at)
        for former, (target, until) in list(self.joined.items()):
            if target == old:
                self.joined[former] = (into, max(until, expires_at))
        renamed = [replace(t, client_id=into) if t.client_id == old else t for t in self.traces]
        # Both ids' traces of one partner's same variant: the later-expiring one is kept.
        latest: dict[Trace, Trace] = {}
        for trace in renamed:
            variant = variant_of(trace)
            if variant not in latest or trace.expires_at > latest[variant].expires_at:
                latest[variant] = trace
        self.traces = [t for t in renamed if latest[variant_of(t)] is t]
        self.changed = True

    def forget_expired(self, now: int) -> None:
        live = self.live(now)
        joined = {old: entry for old, entry in self.joined.items() if entry[1] > now}
        if len(live) != len(self.traces) or len(joined) != len(self.joined):
            self.traces, self.joined, self.changed = live, joined, True


def surviving_id(client_id: str, joins: Mapping[str, tuple[str, int]]) -> str:
    entry = joins.get(client_id)
    return entry[0] if entry else client_id
