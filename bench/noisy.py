"""A deterministic noisy multi-partner portfolio and the phone-style queries asked about it: the
input of `make bench-recognition` (bench/recognition.py; docs/benchmarks.md, "Recognition").

Persons live in households (a holder, sometimes a partner, children; twins and a son named
after his father at the same address; flats at one house number with other additions). Each
household is delivered by one to three partners, each partner writing names, dates, postcodes,
phone numbers and policy numbers its own way, and some partners deliver a person with noise: a
typo in the surname, the other spelling of a name that sounds the same (`Jansen`/`Janssen`),
the old address of a person who moved, the birth name or one part of a double surname, a
company without its KvK number. The generator knows which person every delivered row is
(`Truth`), so client ids returned by the API can be judged.

The queries are what a call-centre employee types: the structured parameters of
`GET /v1/clients` or the search box `q`, each with one kind of noise (`NOISE_KINDS`) or none
(`exact`), and the persons who count as a right answer (a query by address alone accepts anyone
living there). The same seed and size give the same portfolio and queries, byte for byte.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from chalicelib.normalise import name_key

SEED = 11_000_011
REFERENCE_DATE = date(2025, 1, 1)

# Partners of the noisy portfolio and how each writes a policy number (`index` -> number).
PARTNERS: tuple[str, ...] = ("volmacht-noord", "verzekeraar-zuid", "intermediair-west")


def policy_number(partner_id: str, index: int) -> str:
    """`VM-2019-073607`, `0005631853`, `INT/2020/0042`: the notations the issue names."""
    year = 2005 + index % 19
    if partner_id == PARTNERS[0]:
        return f"VM-{year}-{index:06d}"
    if partner_id == PARTNERS[1]:
        return f"{5_000_000 + index:010d}"
    return f"INT/{year}/{index:04d}"


# --- names --------------------------------------------------------------------------------------

# Spellings a caller cannot tell apart on the phone: one person is delivered or asked in either.
VARIANT_FAMILIES: tuple[tuple[str, str], ...] = (
    ("Jansen", "Janssen"),
    ("Meijer", "Meyer"),
    ("Kuijpers", "Kuipers"),
    ("Müller", "Mueller"),
    ("Dijkstra", "Dykstra"),
    ("Hendriks", "Hendrikx"),
    ("Claassen", "Klaassen"),
    ("Smit", "Smid"),
    ("Huijbregts", "Huybregts"),
    ("Theunissen", "Teunissen"),
)
WITH_TUSSENVOEGSELS: tuple[tuple[str, str], ...] = (
    ("de", "Vries"),
    ("de", "Vos"),
    ("de", "Graaf"),
    ("van der", "Meer"),
    ("van den", "Berg"),
    ("van der", "Berg"),
    ("van", "Dijk"),
    ("van den", "Broek"),
    ("van der", "Linden"),
    ("van 't", "Hof"),
    ("ter", "Horst"),
    ("el", "Amrani"),
    ("de", "Jong"),
    ("van", "Leeuwen"),
)
PLAIN: tuple[str, ...] = (
    "Visser", "Bos", "Mulder", "Peters", "Dekker", "Aydin", "Öztürk", "Yilmaz", "Nguyen",
    "Postma", "Hoekstra", "Willems", "Prins", "Koster", "Maas", "Verhoeven", "Brouwer", "Kok",
    "Jacobs", "Vermeulen", "Huisman", "Blom", "Wouters", "Gerritsen", "Schafer", "Bakker",
    "Sanders", "Kramer", "Timmermans", "Lambrechts",
)  # fmt: skip
FIRST_M: tuple[str, ...] = (
    "Jan", "Piet", "Kees", "Daan", "Sem", "Lucas", "Thomas", "Willem", "Hendrik", "Bram",
    "Ruben", "Mohamed", "Stijn", "Jeroen", "Mark", "Gerrit", "Sander", "Tim", "Emre", "Youssef",
)  # fmt: skip
FIRST_V: tuple[str, ...] = (
    "Anna", "Emma", "Sophie", "Julia", "Maria", "Lotte", "Sanne", "Fleur", "Eva", "Yvonne",
    "Ingrid", "Marieke", "Anouk", "Femke", "Linda", "Esther", "Fatima", "Noor", "Zoë", "Hélène",
)  # fmt: skip
COMPANY_KINDS: tuple[str, ...] = ("Bakkerij", "Bouwbedrijf", "Adviesbureau", "Kapsalon")
MAIL_DOMAINS: tuple[str, ...] = ("gmail.com", "hotmail.com", "ziggo.nl", "kpnmail.nl")
CITIES: tuple[tuple[str, int, int], ...] = (
    ("Amsterdam", 1011, 1109),
    ("Rotterdam", 3011, 3089),
    ("Utrecht", 3511, 3585),
    ("Groningen", 9711, 9747),
    ("Eindhoven", 5611, 5658),
    ("Zwolle", 8011, 8043),
)
STREETS: tuple[str, ...] = ("Kerkstraat", "Dorpsstraat", "Molenweg", "Lindenlaan", "Julianastraat")
_POSTCODE_LETTERS = "ABCDEGHJKLMNPRTVWXZ"  # no S: SA, SD and SS are never issued
# Additions of flats at one house number, and how else the same addition is written.
# (One notation each: `I` and `1` are the same flat.)
FLAT_ADDITIONS: tuple[str, ...] = ("HS", "I", "II", "III", "A", "B")
OTHER_NOTATION: dict[str, str] = {
    "HS": "H",
    "H": "HS",
    "I": "1",
    "II": "2",
    "III": "3",
    "1": "I",
    "2": "II",
    "A": "a",
    "B": "b",
}
DUTCH_MONTHS = (
    "januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
    "oktober", "november", "december",
)  # fmt: skip


# --- the portfolio ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Address:
    street: str
    house_number: int
    addition: str  # "" or as a partner writes it ("HS", "II", "A")
    postcode: str  # 1234AB
    city: str


@dataclass(frozen=True, slots=True)
class Person:
    """One real person or company: the truth every delivery and query is made from."""

    person_id: str
    gender: str  # M, V, or R for a company
    first_name: str
    initials: str
    tussenvoegsels: str  # "" when none
    surname: str  # the core surname; a double surname with its hyphen; a company's name
    birth_date: date | None
    address: Address
    mobile: str  # 8 digits after 06
    email: str
    kvk: str = ""
    variant: str = ""  # the other spelling of the surname, when it has one
    birth_name: tuple[str, str] | None = None  # (tussenvoegsels, surname) of a double surname
    old_address: Address | None = None  # where partners may still have them (they moved)
    # twin, parent_child, namesake, namesake_same_day: someone else they must not be taken for
    confuser: str = ""

    @property
    def full_surname(self) -> str:
        return f"{self.tussenvoegsels} {self.surname}".strip()


@dataclass(frozen=True, slots=True)
class DeliveredParty:
    """One person on one partner's policy, as that partner delivers them (the noise it has)."""

    person: Person
    role: str  # VP, SP, KN
    noise: str  # "" or a delivery noise kind (DELIVERY_NOISE)
    surname: str
    tussenvoegsels: str
    address: Address
    kvk: str
    email: str  # "" when this partner has no e-mail address of them
    # A second policy of the same partner, delivered otherwise (`second_policy`): initials
    # only, a landline instead of the mobile number.
    landline: str = ""  # 7 digits after 070, or ""
    initials_only: bool = False


@dataclass(frozen=True, slots=True)
class DeliveredPolicy:
    partner_id: str
    policy_number: str
    parties: tuple[DeliveredParty, ...]


# How a partner's delivery of a person can differ from the truth.
DELIVERY_NOISE = (
    "typo",
    "variant",
    "old_address",
    "birth_name",
    "first_part",
    "no_kvk",
    "second_policy",
)


@dataclass(slots=True)
class Portfolio:
    persons: dict[str, Person] = field(default_factory=dict)
    policies: list[DeliveredPolicy] = field(default_factory=list)
    households: list[tuple[Person, ...]] = field(default_factory=list)

    def deliveries_of(self, person_id: str) -> list[tuple[DeliveredPolicy, DeliveredParty]]:
        return [
            (policy, party)
            for policy in self.policies
            for party in policy.parties
            if party.person.person_id == person_id
        ]


class _Rng(random.Random):
    def pick(self, seq: tuple[str, ...] | list[str] | str) -> str:
        return seq[int(self.random() * len(seq))]

    def between(self, low: int, high: int) -> int:
        return low + int(self.random() * (high - low + 1))


def typo(rng: _Rng, word: str) -> str:
    """One letter changed, dropped, doubled or two letters swapped (never the first letter:
    callers and typists rarely get that wrong)."""
    letters = list(word)
    at = rng.between(1, len(letters) - 1)
    how = rng.between(0, 3)
    if how == 0:
        choices = [c for c in "aeioulnrstdk" if c != letters[at].lower()]
        letters[at] = rng.pick(choices)
    elif how == 1 and len(letters) > 4:
        del letters[at]
    elif how == 2:
        letters.insert(at, letters[at])
    elif at < len(letters) - 1 and letters[at] != letters[at + 1]:
        letters[at], letters[at + 1] = letters[at + 1], letters[at]
    else:
        letters.insert(at, letters[at])
    return "".join(letters)


def _postcode(rng: _Rng, low: int, high: int) -> str:
    return f"{rng.between(low, high)}{rng.pick(_POSTCODE_LETTERS)}{rng.pick(_POSTCODE_LETTERS)}"


def _address(rng: _Rng, addition: str = "") -> Address:
    city, low, high = CITIES[rng.between(0, len(CITIES) - 1)]
    return Address(
        rng.pick(STREETS), rng.between(1, 400), addition, _postcode(rng, low, high), city
    )


def _born(rng: _Rng, min_age: int, max_age: int) -> date:
    return REFERENCE_DATE - timedelta(days=rng.between(min_age * 365 + 1, max_age * 365 + 300))


def _initials(rng: _Rng, first_name: str) -> str:
    initials = first_name[0] + "."
    if rng.random() < 0.3:
        initials += rng.pick(("A", "C", "H", "J", "M", "P", "W")) + "."
    return initials


def _surname(rng: _Rng) -> tuple[str, str, str]:
    """(tussenvoegsels, surname, variant spelling or "")."""
    roll = rng.random()
    if roll < 0.3:
        family = VARIANT_FAMILIES[rng.between(0, len(VARIANT_FAMILIES) - 1)]
        flip = rng.random() < 0.5
        return "", family[flip], family[not flip]
    if roll < 0.6:
        tussen, core = WITH_TUSSENVOEGSELS[rng.between(0, len(WITH_TUSSENVOEGSELS) - 1)]
        return tussen, core, ""
    return "", rng.pick(PLAIN), ""


class _Generator:
    def __init__(self, seed: int) -> None:
        self.rng = _Rng(seed)
        self.count = 0
        self.mobiles: set[str] = set()

    def _mobile(self) -> str:
        while True:
            digits = f"{self.rng.between(10_000_000, 99_999_999)}"
            if digits not in self.mobiles:
                self.mobiles.add(digits)
                return digits

    def person(
        self,
        gender: str,
        born: date,
        address: Address,
        *,
        surname: tuple[str, str, str] | None = None,
        first_name: str | None = None,
        with_contact: bool = True,
    ) -> Person:
        rng = self.rng
        self.count += 1
        tussen, core, variant = surname or _surname(rng)
        first = first_name or rng.pick(FIRST_M if gender == "M" else FIRST_V)
        mobile = self._mobile() if with_contact else ""
        email = ""
        if with_contact:
            local = f"{name_key(first)}.{name_key(tussen)}{name_key(core)}{self.count}"
            email = f"{local}@{rng.pick(MAIL_DOMAINS)}"
        return Person(
            person_id=f"p{self.count:06d}",
            gender=gender,
            first_name=first,
            initials=_initials(rng, first),
            tussenvoegsels=tussen,
            surname=core,
            birth_date=born,
            address=address,
            mobile=mobile,
            email=email,
            variant=variant,
        )

    def company(self, address: Address) -> Person:
        rng = self.rng
        self.count += 1
        name = f"{rng.pick(COMPANY_KINDS)} {rng.pick(PLAIN)} {self.count}"
        return Person(
            person_id=f"p{self.count:06d}",
            gender="R",
            first_name="",
            initials="",
            tussenvoegsels="",
            surname=name,
            birth_date=None,
            address=address,
            mobile=self._mobile(),
            email=f"info@{name_key(name)}.nl",
            kvk=f"{rng.between(10_000_000, 99_999_999)}",
        )

    def household(self, address: Address) -> tuple[Person, ...]:
        """A holder and, sometimes, a partner and children; rarely twins or a son named after
        his father (the cases that must not be taken for each other)."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.06:
            return (self.company(address),)
        gender = "M" if rng.random() < 0.5 else "V"
        holder = self.person(gender, _born(rng, 25, 85), address)
        if gender == "V" and rng.random() < 0.15:  # a married name: husband's-birth name
            husband = rng.pick(PLAIN)
            birth = (holder.tussenvoegsels, holder.surname)
            double = f"{husband}-{f'{birth[0]} ' if birth[0] else ''}{birth[1]}"
            holder = replace(holder, tussenvoegsels="", surname=double, birth_name=birth)
        members = [holder]
        assert holder.birth_date is not None
        if rng.random() < 0.4:
            partner_born = holder.birth_date + timedelta(days=rng.between(-2000, 2000))
            members.append(self.person("V" if gender == "M" else "M", partner_born, address))
        age = (REFERENCE_DATE - holder.birth_date).days // 365
        if 30 <= age <= 60 and rng.random() < 0.35:
            surname = (holder.tussenvoegsels, holder.surname, holder.variant)
            if holder.birth_name is not None:
                surname = (*holder.birth_name, "")
            kind = rng.random()
            child_born = _born(rng, 1, age - 22)
            if kind < 0.15:  # twins: same surname, birth date and address, other first names
                first = self.person("M", child_born, address, surname=surname, with_contact=False)
                other = rng.pick([n for n in FIRST_V if n[0] != first.first_name[0]])
                second = self.person(
                    "V", child_born, address, surname=surname, first_name=other, with_contact=False
                )
                members += [replace(first, confuser="twin"), replace(second, confuser="twin")]
            elif kind < 0.3 and gender == "M":  # the son named after his father
                son = self.person(
                    "M",
                    _born(rng, 18, age - 22) if age >= 41 else child_born,
                    address,
                    surname=surname,
                    first_name=holder.first_name,
                )
                son = replace(son, initials=holder.initials, confuser="parent_child")
                members[0] = replace(members[0], confuser="parent_child")
                members.append(son)
            else:
                # A child named like a parent at the same address is the son named after his
                # father above, a look-alike on purpose; other children have names of their own.
                gender = "M" if rng.random() < 0.5 else "V"
                taken = {m.first_name for m in members}
                names = [n for n in (FIRST_M if gender == "M" else FIRST_V) if n not in taken]
                members.append(
                    self.person(
                        gender,
                        child_born,
                        address,
                        surname=surname,
                        first_name=rng.pick(names),
                        with_contact=False,
                    )
                )
        return tuple(members)

    def namesake(self, person: Person) -> Person:
        """Someone else with the same name born a year later, elsewhere (`Jansen` 1980 and
        `Jansen` 1981)."""
        assert person.birth_date is not None
        other = self.person(
            person.gender,
            person.birth_date.replace(year=person.birth_date.year + 1)
            if (person.birth_date.month, person.birth_date.day) != (2, 29)
            else person.birth_date + timedelta(days=365),
            _address(self.rng),
            surname=(person.tussenvoegsels, person.surname, person.variant),
            first_name=person.first_name,
        )
        return replace(other, initials=person.initials, confuser="namesake")

    def namesake_born_the_same_day(self, person: Person) -> Person | None:
        """Someone else with the same surname, initials and birth date, living elsewhere, whose
        first name differs but starts with the same letter (`Kees` and `Koen Jansen`, both born
        12-03-1980): a partner that delivers initials only has `K. Jansen` of either. None when
        no other first name starts with that letter."""
        assert person.birth_date is not None
        names = FIRST_M if person.gender == "M" else FIRST_V
        others = [n for n in names if n[0] == person.first_name[0] and n != person.first_name]
        if not others:
            return None
        other = self.person(
            person.gender,
            person.birth_date,
            _address(self.rng),
            surname=(person.tussenvoegsels, person.surname, person.variant),
            first_name=self.rng.pick(others),
        )
        return replace(other, initials=person.initials, confuser="namesake_same_day")


def _delivered(rng: _Rng, person: Person, role: str, noise: str) -> DeliveredParty:
    surname, tussen, address, kvk = (
        person.surname,
        person.tussenvoegsels,
        person.address,
        person.kvk,
    )
    if noise == "typo":
        surname = typo(rng, surname)
    elif noise == "variant":
        surname = person.variant
    elif noise == "old_address":
        assert person.old_address is not None
        address = person.old_address
    elif noise == "birth_name":
        assert person.birth_name is not None
        tussen, surname = person.birth_name
    elif noise == "first_part":
        surname = surname.split("-")[0]
    elif noise == "no_kvk":
        kvk = ""
    email = person.email if rng.random() < 0.9 else ""
    return DeliveredParty(person, role, noise, surname, tussen, address, kvk, email)


def _possible_noise(person: Person) -> list[str]:
    if person.gender == "R":
        return ["no_kvk", "old_address"]
    kinds = ["typo", "old_address"]
    if person.variant and person.birth_name is None:
        kinds.append("variant")
    if person.birth_name is not None:
        kinds += ["birth_name", "first_part"]
    return kinds


# Households whose holder has a namesake born the same day elsewhere (same surname and
# initials, another first name with the same letter). Far more than a real register holds (in
# the Netherlands about one person in a thousand shares surname, initial and birth date with
# another client of a 1M register): here each one is a pair the linkage must keep apart, so
# merging them shows in the precision.
SAME_DAY_NAMESAKES = 0.03


def generate_portfolio(persons: int, seed: int = SEED) -> Portfolio:
    """Households until `persons` persons, each household delivered by one to three partners;
    about one person in four delivered with noise by some (or all) of their partners."""
    gen = _Generator(seed)
    rng = gen.rng
    portfolio = Portfolio()
    numbers = dict.fromkeys(PARTNERS, 0)
    buildings: list[Address] = []
    while len(portfolio.persons) < persons:
        if buildings and rng.random() < 0.12:  # another flat at a house number with flats
            base = buildings[rng.between(0, len(buildings) - 1)]
            taken = {h[0].address.addition for h in portfolio.households if h[0].address == base}
            free = [a for a in FLAT_ADDITIONS if a not in taken and a != base.addition]
            address = replace(base, addition=rng.pick(free) if free else "B")
        elif rng.random() < 0.15:
            address = _address(rng, rng.pick(FLAT_ADDITIONS))
            buildings.append(replace(address, addition=""))
        else:
            address = _address(rng)
        members = list(gen.household(address))
        if rng.random() < 0.12:  # they moved: some or all partners still have the old address
            old = _address(rng)
            members = [replace(m, old_address=old) for m in members]
        if members[0].gender != "R" and rng.random() < 0.03:
            namesake = gen.namesake(members[0])
            members[0] = replace(members[0], confuser="namesake")
            portfolio.households.append((namesake,))
            portfolio.persons[namesake.person_id] = namesake
            _deliver(rng, portfolio, numbers, (namesake,), [rng.pick(PARTNERS)])
        if members[0].gender != "R" and rng.random() < SAME_DAY_NAMESAKES:
            same_day = gen.namesake_born_the_same_day(members[0])
            if same_day is not None:
                portfolio.households.append((same_day,))
                portfolio.persons[same_day.person_id] = same_day
                _deliver(rng, portfolio, numbers, (same_day,), [rng.pick(PARTNERS)])
        portfolio.households.append(tuple(members))
        for member in members:
            portfolio.persons[member.person_id] = member
        count = 1 if rng.random() < 0.45 else (2 if rng.random() < 0.7 else 3)
        partners = rng.sample(list(PARTNERS), count)
        _deliver(rng, portfolio, numbers, tuple(members), partners)
    _second_policies(portfolio, numbers, seed)
    return portfolio


# Persons one of whose partners also delivers them on a second policy of their own (a car or
# home insurance beside the household's), from the partner's other administration: initials
# only, a landline instead of the mobile number, and for half of them the address they left.
# One partner's two variants of a person: both must stay evidence (docs/architecture.md,
# "client_id"). Drawn with a random stream of their own after the households, so the rest of
# the portfolio stays what it was.
SECOND_POLICIES = 0.08


def _second_policies(portfolio: Portfolio, numbers: dict[str, int], seed: int) -> None:
    rng = _Rng(f"{seed}:second-policies")
    holders = [
        (policy.partner_id, policy.parties[0])
        for policy in list(portfolio.policies)
        if policy.parties[0].person.gender != "R" and not policy.parties[0].noise
    ]
    for partner_id, party in holders:
        if rng.random() >= SECOND_POLICIES:
            continue
        person = party.person
        address = person.address if rng.random() < 0.5 else (person.old_address or _address(rng))
        numbers[partner_id] += 1
        second = replace(
            party,
            noise="second_policy",
            address=address,
            landline=f"{rng.between(2_000_000, 9_999_999)}",
            initials_only=True,
        )
        portfolio.policies.append(
            DeliveredPolicy(partner_id, policy_number(partner_id, numbers[partner_id]), (second,))
        )


def _deliver(
    rng: _Rng,
    portfolio: Portfolio,
    numbers: dict[str, int],
    members: tuple[Person, ...],
    partners: list[str],
) -> None:
    # Per person: the noise some partners deliver them with (old addresses move together).
    moved = members[0].old_address is not None
    noisy_partners = set(rng.sample(partners, rng.between(1, len(partners))))
    noise_of: dict[str, str] = {}
    for member in members:
        kinds = [k for k in _possible_noise(member) if k != "old_address"]
        if kinds and rng.random() < 0.25:
            noise_of[member.person_id] = rng.pick(kinds)
    for partner_id in partners:
        numbers[partner_id] += 1
        parties = []
        for role_index, member in enumerate(members):
            role = "VP" if role_index == 0 else ("SP" if role_index == 1 else "KN")
            if role == "SP" and member.mobile == "":
                role = "KN"
            noise = noise_of.get(member.person_id, "") if partner_id in noisy_partners else ""
            if moved and partner_id in noisy_partners:
                noise = "old_address"
            parties.append(_delivered(rng, member, role, noise))
        portfolio.policies.append(
            DeliveredPolicy(
                partner_id, policy_number(partner_id, numbers[partner_id]), tuple(parties)
            )
        )


# --- the files --------------------------------------------------------------------------------


def _surname_columns(rng: _Rng, party: DeliveredParty) -> tuple[str, str]:
    """(ANAAM, VOORV) the way partners write them: apart, joined, comma, in capitals."""
    tussen, core = party.tussenvoegsels, party.surname
    if party.person.gender == "R":
        return core, ""
    roll = rng.random()
    if not tussen:
        return (core.upper(), "") if roll < 0.1 else (core, "")
    joined = f"{tussen}{core}" if tussen.endswith("'") else f"{tussen} {core}"
    if roll < 0.5:
        return core, tussen
    if roll < 0.75:
        return joined[0].upper() + joined[1:], ""
    if roll < 0.88:
        return f"{core}, {tussen}", ""
    return joined.upper(), ""


def partner_rows(
    portfolio: Portfolio, partner_id: str, seed: int = SEED
) -> Iterator[dict[str, str]]:
    """The partner's full delivery: one row per party (`scripts.demo_data.COLUMNS`)."""
    from scripts.demo_data import COLUMNS

    rng = _Rng(f"{seed}:{partner_id}")
    iso = partner_id != PARTNERS[0]
    spaced_postcode = partner_id == PARTNERS[1]
    addition_in_number = partner_id == PARTNERS[2]
    empty = dict.fromkeys(COLUMNS, "")
    for policy in portfolio.policies:
        if policy.partner_id != partner_id:
            continue
        holder = policy.parties[0].person
        for party in policy.parties:
            person = party.person
            row = dict(empty)
            row["PP_NUMMER"] = policy.policy_number
            row["PP_BRANCHE"] = "093" if holder.gender == "R" else "092"
            row["PP_INGDAT"] = "2020-01-01" if iso else "20200101"
            row["PP_DEKKING"] = "WC|IN|FV" if holder.gender == "R" else "RP|VK|WC"
            row["PP_GEZIN"] = (
                "" if holder.gender == "R" else ("K" if len(policy.parties) > 2 else "A")
            )
            row["ENTITEIT"] = party.role
            row["GESLACH"] = person.gender
            row["ANAAM"], row["VOORV"] = _surname_columns(rng, party)
            row["VOORL"] = person.initials
            row["RNAAM"] = person.first_name if rng.random() < 0.75 else ""
            if party.initials_only:
                row["RNAAM"] = ""
            if person.birth_date is not None:
                row["GEBDAT"] = (
                    person.birth_date.isoformat() if iso else person.birth_date.strftime("%Y%m%d")
                )
            address = party.address
            row["STRAAT"] = address.street
            if address.addition and addition_in_number:
                row["HUISNR"] = f"{address.house_number}-{address.addition}"
            else:
                row["HUISNR"] = str(address.house_number)
                row["TOEVOEG"] = address.addition
            pc = address.postcode
            row["PCODE"] = f"{pc[:4]} {pc[4:]}" if spaced_postcode else pc
            row["PLAATS"] = address.city
            row["LAND"] = "NL"
            row["EMAIL"] = party.email
            if party.landline:
                row["TELNUM"] = f"070-{party.landline}"
            elif person.mobile:
                row["MOBIEL"] = (
                    f"06-{person.mobile}"
                    if iso
                    else f"+31 6 {person.mobile[:4]} {person.mobile[4:]}"
                )
            row["KVKNR"] = party.kvk
            yield row


# --- the queries ------------------------------------------------------------------------------

# Query forms: the structured parameters given, or `q` (the search box).
FORMS = (
    "policy_number",
    "postcode+house_number",
    "postcode+house_number+name",
    "postcode+house_number+name+birth_date",
    "name+birth_date",
    "phone",
    "email",
    "kvk",
    "q",
)
# Kinds of noise between what the caller says and what is stored; `exact` is none. The
# confusers (`twin`, `parent_child`, `namesake`, `namesake_same_day`) are exact queries about
# someone who has a look-alike in the register: that look-alike must not come first.
NOISE_KINDS = (
    "exact",
    "surname_variant",
    "typo_in_query",
    "typo_in_partner_data",
    "first_name_then_surname",
    "tussenvoegsel_after",
    "initials_in_capitals",
    "part_of_double_surname",
    "birth_name_only",
    "double_name_asked_birth_name_delivered",
    "other_tussenvoegsel",
    "moved_new_address",
    "addition_notation",
    "policy_spaces",
    "policy_leading_zeros_dropped",
    "policy_prefix_omitted",
    "policy_separators_dropped",
    "phone_notation",
    "email_notation",
    "kvk_notation",
    "day_month_swapped",
    "twin",
    "parent_child",
    "namesake",
    "namesake_same_day",
)
CONFUSER_KINDS = frozenset({"twin", "parent_child", "namesake", "namesake_same_day"})


@dataclass(frozen=True, slots=True)
class Query:
    query_id: int
    form: str
    noise: str
    params: dict[str, str]
    person_id: str
    accept: frozenset[str]  # persons who are a right answer
    # What the caller said of the name: (surname without tussenvoegsels, first name or
    # initial or ""); empty when no name was said. A different person who has exactly this
    # name and the other values said makes the query ambiguous, not the answer wrong.
    said_name: tuple[str, str] = ("", "")
    said_birth_date: str = ""  # the birth date said with the name, ISO


NO_NAME = ("", "")
# (kind of noise, parameters, form, what was said of the name)
Asked = tuple[str, dict[str, str], str, tuple[str, str]]


def _name_text(tussen: str, surname: str) -> str:
    return f"{tussen} {surname}".strip()


def _date_text(rng: _Rng, born: date) -> str:
    roll = rng.random()
    if roll < 0.4:
        return born.strftime("%d-%m-%Y")
    if roll < 0.7:
        return f"{born.day} {DUTCH_MONTHS[born.month - 1]} {born.year}"
    return born.isoformat()


def _phone_text(rng: _Rng, mobile: str) -> str:
    return rng.pick(
        (
            f"06-{mobile}",
            f"06 {mobile[:4]} {mobile[4:]}",
            f"+31 6 {mobile}",
            f"0031 6 {mobile[:2]} {mobile[2:4]} {mobile[4:6]} {mobile[6:]}",
            f"(06) {mobile}",
            f"06{mobile}",
        )
    )


class _Queries:
    def __init__(self, portfolio: Portfolio, seed: int) -> None:
        self.portfolio = portfolio
        self.rng = _Rng(f"{seed}:queries")
        self.queries: list[Query] = []
        self.deliveries: dict[str, list[tuple[DeliveredPolicy, DeliveredParty]]] = {}
        for policy in portfolio.policies:
            for party in policy.parties:
                self.deliveries.setdefault(party.person.person_id, []).append((policy, party))
        # Who lives at (postcode, house number, addition) according to some partner.
        self.residents: dict[tuple[str, int, str], set[str]] = {}
        for policy in portfolio.policies:
            for party in policy.parties:
                a = party.address
                key = (a.postcode, a.house_number, a.addition)
                self.residents.setdefault(key, set()).add(party.person.person_id)

    def add(
        self,
        form: str,
        noise: str,
        params: dict[str, str],
        person: Person,
        *,
        address_only: bool = False,
        said_name: tuple[str, str] = ("", ""),
    ) -> None:
        """A query about `person`; asked by address alone, anyone living there is right."""
        accept = frozenset({person.person_id})
        if address_only or form == "postcode+house_number":
            a = person.address
            accept = frozenset(self.residents.get((a.postcode, a.house_number, a.addition), accept))
        said_birth_date = params.get("birth_date", "")
        if form == "q" and said_name[0] and person.birth_date is not None:
            said_birth_date = person.birth_date.isoformat()  # every name in q comes with it
        self.queries.append(
            Query(
                len(self.queries),
                form,
                noise,
                params,
                person.person_id,
                accept,
                said_name,
                said_birth_date,
            )
        )

    def stored_everywhere(self, person: Person, noise: str) -> bool:
        """Every partner delivered the person with this delivery noise."""
        return all(party.noise == noise for _, party in self.deliveries[person.person_id])

    def of_person(self, person: Person) -> None:
        """Exact queries of every form the person can be asked by, the confuser checks, and
        the noisy queries that apply. Exact and query-side noise only where some partner
        delivered the person without noise; partner-side noise only where all did."""
        rng = self.rng
        deliveries = self.deliveries[person.person_id]
        clean = [(policy, party) for policy, party in deliveries if not party.noise]
        policy, party = (clean or deliveries)[int(rng.random() * len(clean or deliveries))]
        a = person.address
        house = f"{a.house_number}{a.addition}" if a.addition else str(a.house_number)
        pc = a.postcode
        if party.role == "VP":
            self.add("policy_number", "exact", {"policy_number": policy.policy_number}, person)
        if person.mobile:
            self.add("phone", "exact", {"phone": f"06{person.mobile}"}, person)
        if any(party.email for _, party in deliveries):
            self.add("email", "exact", {"email": person.email}, person)
        if person.gender == "R":
            if any(p.kvk for _, p in deliveries):
                self.add("kvk", "exact", {"kvk": person.kvk}, person)
                self.add(
                    "kvk", "kvk_notation", {"kvk": f"{person.kvk[:4]} {person.kvk[4:]}"}, person
                )
                self.add("q", "kvk_notation", {"q": f"{person.kvk[:2]}.{person.kvk[2:]}"}, person)
            if clean:
                self.add(
                    "postcode+house_number",
                    "exact",
                    {"postcode": pc, "house_number": house},
                    person,
                )
            return
        if not clean:
            for kind, params, form, said_name in self.partner_noise(person, house):
                self.add(form, kind, params, person, said_name=said_name)
            return
        born = person.birth_date
        assert born is not None
        name = _name_text(person.tussenvoegsels, person.surname)
        given = f"{person.first_name} {name}"
        said = (person.surname, person.first_name)
        iso = born.isoformat()
        if person.confuser not in ("twin", "parent_child"):
            self.add("postcode+house_number+name", "exact",
                     {"postcode": pc, "house_number": house, "name": given}, person,
                     said_name=said)  # fmt: skip
        self.add("postcode+house_number+name+birth_date", "exact",
                 {"postcode": pc, "house_number": house, "name": given, "birth_date": iso},
                 person, said_name=said)  # fmt: skip
        self.add("name+birth_date", "exact", {"name": given, "birth_date": iso}, person,
                 said_name=said)  # fmt: skip
        if rng.random() < 0.3:
            self.add(
                "postcode+house_number", "exact", {"postcode": pc, "house_number": house}, person
            )
        self.add("q", "exact", {"q": f"{given} {born.strftime('%d-%m-%Y')}"}, person,
                 said_name=said)  # fmt: skip
        if person.confuser:
            kind = person.confuser
            self.add("name+birth_date", kind, {"name": given, "birth_date": iso}, person,
                     said_name=said)  # fmt: skip
            self.add("q", kind, {"q": f"{given} {_date_text(rng, born)}"}, person,
                     said_name=said)  # fmt: skip
            self.add("postcode+house_number+name+birth_date", kind,
                     {"postcode": pc, "house_number": house, "name": given, "birth_date": iso},
                     person, said_name=said)  # fmt: skip
        for kind, params, form, said_name in self.noisy(person, policy, party, house):
            address_only = form == "q" and kind == "addition_notation"
            self.add(form, kind, params, person, address_only=address_only, said_name=said_name)

    def by_name(self, person: Person, kind: str, text: str, house: str, said: tuple[str, str],
                *, address: bool = True) -> Iterator[Asked]:  # fmt: skip
        """The name asked with the birth date, structured and in the search box, and half of
        the time with the address as well. Twins are asked with their first name: without
        it, their birth date and name are one another's."""
        rng = self.rng
        born = person.birth_date
        assert born is not None
        if person.confuser == "twin" and person.first_name[0] not in text:
            text = f"{person.first_name} {text}"
            said = (said[0], person.first_name)
        iso = born.isoformat()
        yield kind, {"name": text, "birth_date": iso}, "name+birth_date", said
        yield kind, {"q": f"{text} {_date_text(rng, born)}"}, "q", said
        if address and rng.random() < 0.5:
            params = {"postcode": person.address.postcode, "house_number": house, "name": text,
                      "birth_date": iso}  # fmt: skip
            yield kind, params, "postcode+house_number+name+birth_date", said

    def partner_noise(self, person: Person, house: str) -> Iterator[Asked]:
        """Queries as the caller says it while every partner has the person otherwise."""
        rng = self.rng
        born = person.birth_date
        assert born is not None
        name = _name_text(person.tussenvoegsels, person.surname)
        given = f"{person.first_name} {name}"
        said = (person.surname, person.first_name)
        for stored, kind in (
            ("typo", "typo_in_partner_data"),
            ("variant", "surname_variant"),
            ("birth_name", "double_name_asked_birth_name_delivered"),
        ):
            if self.stored_everywhere(person, stored):
                yield from self.by_name(person, kind, given, house, said, address=False)
        if self.stored_everywhere(person, "old_address"):
            pc = person.address.postcode
            params = {"postcode": pc, "house_number": house, "name": given,
                      "birth_date": born.isoformat()}  # fmt: skip
            yield "moved_new_address", params, "postcode+house_number+name+birth_date", said
            text = f"{pc[:4]} {pc[4:].lower()} {house} {given} {_date_text(rng, born)}"
            yield "moved_new_address", {"q": text}, "q", said

    def noisy(
        self, person: Person, policy: DeliveredPolicy, party: DeliveredParty, house: str
    ) -> Iterator[Asked]:
        """(noise kind, params, form) of the query-side noise that applies to the person."""
        rng = self.rng
        born = person.birth_date
        assert born is not None
        a = person.address
        first = person.first_name
        tussen, core = person.tussenvoegsels, person.surname
        name = _name_text(tussen, core)

        def by_name(kind: str, text: str, said: tuple[str, str]) -> Iterator[Asked]:
            return self.by_name(person, kind, text, house, said)

        if person.variant and "-" not in core:
            said = (person.variant, "")
            yield from by_name("surname_variant", _name_text(tussen, person.variant), said)
        if len(core) >= 4 and "-" not in core:
            mistyped = typo(rng, core)
            yield from by_name("typo_in_query", _name_text(tussen, mistyped), (mistyped, ""))
        yield from by_name("first_name_then_surname", f"{first} {name}", (core, first))
        if tussen:
            yield from by_name("tussenvoegsel_after", f"{core} {tussen}", (core, ""))
            caps = f"{core.upper()}, {first[0]} {tussen.upper()}"
            yield from by_name("initials_in_capitals", caps, (core, first[0]))
            other = {"van der": "van den", "van den": "van der", "de": "van de"}.get(tussen)
            if other:
                yield from by_name("other_tussenvoegsel", f"{first} {other} {core}", (core, first))
        else:
            yield from by_name(
                "initials_in_capitals", f"{core.upper()}, {first[0]}", (core, first[0])
            )
        if person.birth_name is not None:  # with the first name half of the time
            part = core.split("-")[0]
            birth_tussen, birth_core = person.birth_name
            for kind, surname, text in (
                ("part_of_double_surname", part, part),
                ("birth_name_only", birth_core, _name_text(birth_tussen, birth_core)),
            ):
                with_first = rng.random() < 0.5
                said = (surname, first if with_first else "")
                yield from by_name(kind, f"{first} {text}" if with_first else text, said)
        if a.addition in OTHER_NOTATION:
            other_addition = OTHER_NOTATION[a.addition]
            params = {"postcode": a.postcode, "house_number": f"{a.house_number}-{other_addition}",
                      "name": f"{first} {name}"}  # fmt: skip
            yield "addition_notation", params, "postcode+house_number+name", (core, first)
            q = f"{a.postcode} {a.house_number}-{other_addition}"
            yield "addition_notation", {"q": q}, "q", ("", "")
        if party.role == "VP":
            yield from self.policy_noise(policy.policy_number)
        if person.mobile:
            yield "phone_notation", {"phone": _phone_text(rng, person.mobile)}, "phone", NO_NAME
            yield "phone_notation", {"q": _phone_text(rng, person.mobile)}, "q", NO_NAME
        if any(p.email for _, p in self.deliveries[person.person_id]) and rng.random() < 0.5:
            local, _, domain = person.email.partition("@")
            written = {"email": f" {local.title()}@{domain.upper()}"}
            yield "email_notation", written, "email", NO_NAME
        if born.day <= 12 and born.day != born.month:
            swapped = date(born.year, born.day, born.month).isoformat()
            params = {"name": f"{first} {name}", "birth_date": swapped}
            yield "day_month_swapped", params, "name+birth_date", (core, first)

    def policy_noise(self, number: str) -> Iterator[Asked]:
        digits_only = "".join(c for c in number if c.isalnum())
        grouped = " ".join(part for part in number.replace("/", " ").replace("-", " ").split())
        if grouped == number:  # one run of digits: read in groups of three or four
            grouped = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
        yield "policy_spaces", {"policy_number": grouped}, "policy_number", NO_NAME
        yield "policy_spaces", {"q": grouped}, "q", NO_NAME
        if number.startswith("0"):
            without_zeros = {"policy_number": number.lstrip("0")}
            yield "policy_leading_zeros_dropped", without_zeros, "policy_number", NO_NAME
            yield "policy_leading_zeros_dropped", {"q": number.lstrip("0")}, "q", NO_NAME
        if number[0].isalpha():
            without = number.split("-", 1)[1] if "-" in number else number.split("/", 1)[1]
            yield "policy_prefix_omitted", {"policy_number": without}, "policy_number", NO_NAME
            yield "policy_prefix_omitted", {"q": without}, "q", NO_NAME
        if digits_only != number:
            yield (
                "policy_separators_dropped",
                {"policy_number": digits_only},
                "policy_number",
                NO_NAME,
            )


def generate_queries(portfolio: Portfolio, seed: int = SEED) -> list[Query]:
    """The queries about every person of the portfolio (deterministic)."""
    queries = _Queries(portfolio, seed)
    for person in portfolio.persons.values():
        if queries.deliveries.get(person.person_id):
            queries.of_person(person)
    return queries.queries
