"""A deterministic generator of realistic Dutch portfolio files (docs/file-contract.md columns).

Used by `make run` (the demo portfolio, loaded through the real upload path), by tests and by the
ingest benchmark. The same seed gives the same bytes. Every partner generated with the same seed
shares a pool of clients: the same person (same name, birth date, postcode and house number)
appears in several partners' portfolios, often with the name written differently (`Berg` + VOORV
`van der`, `Van der Berg`, `Berg, van der`, `VAN DER BERG`). The first `len(known_demo_clients())`
policies of every partner belong to the known demo clients, so the README can show a lookup that
finds something. A file is clean by default (it comes back `accepted`); with `--bad-rows` (the
demo portfolio of `make run` has them) about one policy in a hundred is a deliberately bad row,
to show what a report says.

    python -m scripts.demo_data --partner demo-volmacht --policies 300 --out demo.csv
    python -m scripts.demo_data --partner demo-volmacht --policies 400000 --out big.csv.gz

Rows are produced one at a time (an iterator): a million rows stream to a file in seconds and
never sit in memory together.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import random
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import IO, Any, ParamSpec, TypeVar

from chalicelib.rules.rows import HEADER_LABELS

_T = TypeVar("_T")
_P = ParamSpec("_P")

# Every label of the delivery contract, in its order, except the BSN a partner must never send.
COLUMNS: tuple[str, ...] = tuple(label for label in HEADER_LABELS if label != "BSNR")
_EMPTY_ROW: dict[str, str] = dict.fromkeys(COLUMNS, "")

DEMO_SEED = 20240601
DEMO_PARTNERS: tuple[str, ...] = ("demo-volmacht", "demo-verzekeraar", "demo-intermediair")
DEMO_POLICIES_PER_PARTNER = 300

# Generated dates are relative to this fixed day, not to today: the same seed gives the same file
# whatever the date. (Birth and start dates all lie before it.)
REFERENCE_DATE = date(2025, 1, 1)
_REF_ORDINAL = REFERENCE_DATE.toordinal()

# --- reference tables -------------------------------------------------------------------------

# (city, first and last 4-digit postcode area, area code of the landline)
CITIES: tuple[tuple[str, int, int, str], ...] = (
    ("Amsterdam", 1011, 1109, "020"),
    ("Rotterdam", 3011, 3089, "010"),
    ("Den Haag", 2491, 2597, "070"),
    ("Utrecht", 3511, 3585, "030"),
    ("Eindhoven", 5611, 5658, "040"),
    ("Groningen", 9711, 9747, "050"),
    ("Tilburg", 5011, 5049, "013"),
    ("Almere", 1311, 1365, "036"),
    ("Breda", 4811, 4839, "076"),
    ("Nijmegen", 6511, 6546, "024"),
    ("Arnhem", 6811, 6846, "026"),
    ("Haarlem", 2011, 2037, "023"),
    ("Enschede", 7511, 7548, "053"),
    ("Amersfoort", 3811, 3829, "033"),
    ("Zwolle", 8011, 8043, "038"),
    ("Leiden", 2311, 2334, "071"),
    ("Maastricht", 6211, 6229, "043"),
    ("Delft", 2611, 2629, "015"),
    ("Leeuwarden", 8911, 8939, "058"),
    ("'s-Hertogenbosch", 5211, 5237, "073"),
)
STREETS: tuple[str, ...] = (
    "Kerkstraat", "Dorpsstraat", "Schoolstraat", "Molenweg", "Stationsweg", "Julianastraat",
    "Wilhelminastraat", "Beatrixlaan", "Hoofdstraat", "Nieuwstraat", "Marktplein", "Lindenlaan",
    "Eikenlaan", "Kastanjelaan", "Parallelweg", "Oranjestraat", "Vondelstraat", "Rembrandtlaan",
    "Van Goghstraat", "Burgemeester de Withstraat", "Prins Hendrikkade", "Koningin Emmalaan",
    "Sportlaan", "Industrieweg", "Tulpstraat", "Rozenstraat", "Zonnebloemstraat",
    "Het Hoogt", "De Werf", "Achter de Kerk", "Jan van Galenstraat", "Plein 1940-1945",
)  # fmt: skip
# Letters used in the letter part of postcodes; SA, SD and SS are never issued.
_POSTCODE_LETTERS = "ABCDEGHJKLMNPRSTVWXZ"
_POSTCODE_NOT_ISSUED = frozenset({"SA", "SD", "SS"})
_HOUSE_ADDITIONS: tuple[str, ...] = ("A", "B", "C", "bis", "1", "2", "hs", "II")

# (tussenvoegsels, core surname); tussenvoegsels written the usual (lower case) way.
SURNAMES: tuple[tuple[str, str], ...] = (
    ("", "Jansen"), ("de", "Vries"), ("van den", "Berg"), ("van", "Dijk"), ("", "Bakker"),
    ("", "Janssen"), ("", "Visser"), ("", "Smit"), ("", "Meijer"), ("de", "Boer"),
    ("", "Mulder"), ("de", "Groot"), ("", "Bos"), ("", "Vos"), ("", "Peters"),
    ("", "Hendriks"), ("van", "Leeuwen"), ("", "Dekker"), ("", "Brouwer"), ("de", "Wit"),
    ("", "Dijkstra"), ("", "Smits"), ("de", "Graaf"), ("van der", "Meer"), ("van der", "Linden"),
    ("", "Kok"), ("", "Jacobs"), ("de", "Haan"), ("", "Vermeulen"), ("van den", "Heuvel"),
    ("van der", "Veen"), ("van den", "Broek"), ("de", "Bruijn"), ("de", "Jong"),
    ("van der", "Berg"), ("ter", "Horst"), ("ten", "Brink"), ("van 't", "Hof"), ("in 't", "Veld"),
    ("op de", "Beek"), ("van der", "Wal"), ("", "Schouten"), ("", "Willems"), ("van", "Vliet"),
    ("", "Hoekstra"), ("", "Maas"), ("", "Verhoeven"), ("", "Koster"), ("van", "Dam"),
    ("", "Prins"), ("", "Blom"), ("", "Huisman"), ("", "Öztürk"), ("", "Çelik"),
    ("", "El Amrani"), ("", "Sánchez"), ("", "Nguyen"), ("d'", "Ancona"), ("van", "Beek"),
    ("", "Postma"),
)  # fmt: skip
FIRST_NAMES_M: tuple[str, ...] = (
    "Jan", "Pieter", "Daan", "Sem", "Lucas", "Thomas", "Willem", "Hendrik", "Johannes", "Bram",
    "Ruben", "Mohamed", "Stijn", "Jeroen", "Mark", "Kees", "Gerrit", "Sander", "Thijs", "Koen",
    "Youssef", "Tim", "Niels", "Joost", "André", "Emre",
)  # fmt: skip
FIRST_NAMES_F: tuple[str, ...] = (
    "Anna", "Emma", "Sophie", "Julia", "Maria", "Lotte", "Sanne", "Fleur", "Eva", "Johanna",
    "Ingrid", "Marieke", "Anouk", "Femke", "Linda", "Esther", "Fatima", "Noor", "Saskia",
    "Mirjam", "Ilse", "Chantal", "Renée", "Zoë", "Hélène", "Aïcha",
)  # fmt: skip
FIRST_NAMES_X: tuple[str, ...] = ("Robin", "Sam", "Kim", "Noa", "Charlie", "Alex")
COMPANY_KINDS: tuple[str, ...] = (
    "Bakkerij", "Installatiebedrijf", "Transportbedrijf", "Bouwbedrijf", "Adviesbureau",
    "Kapsalon", "Autobedrijf", "Hoveniersbedrijf", "Schildersbedrijf", "Administratiekantoor",
)  # fmt: skip
COMPANY_FORMS: tuple[str, ...] = ("B.V.", "V.O.F.", "Holding B.V.", "")
MAIL_DOMAINS: tuple[str, ...] = (
    "gmail.com", "hotmail.com", "outlook.com", "ziggo.nl", "kpnmail.nl", "xs4all.nl",
    "planet.nl", "icloud.com",
)  # fmt: skip

# branch -> (product codes, module combinations)
BRANCHES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "090": (("RB-BASIS", "RB-PLUS"), ("RP|WC", "RP|VK|WC", "RP|WC|IN", "RP|VK|WC|IN")),
    "091": (("VRB",), ("VK",)),
    "092": (("PRB-COMPLEET", "PRB-BASIS"), ("RP|VK|WC|IN", "RP|WC|IN|FV", "RP|VK|WC|IN|FV")),
    "990": (("PAKKET-RB",), ("RP|VK|WC", "RP|VK|WC|IN|FV", "VK|WC")),
}
BUSINESS_BRANCH: tuple[str, tuple[str, ...], tuple[str, ...]] = (
    "093",
    ("BRB-MKB", "BRB-ZZP"),
    ("IN|FV", "WC|IN|FV", "VK|WC|IN|FV"),
)
CONDITIONS: tuple[str, ...] = ("ARB2019", "ARB2021", "ARB2023", "VRB2020")
CLAUSES: tuple[str, ...] = ("C01", "C04", "C07", "C12", "C15")
DEDUCTIBLES: tuple[str, ...] = ("", "", "0", "50", "100", "250")

# Deliberately bad rows: (what is wrong, the column it is in).
BAD_ROW_KINDS: tuple[str, ...] = (
    "postcode_not_issued",
    "birth_date_in_future",
    "branch_not_in_scope",
    "end_before_start",
    "missing_house_number",
    "missing_surname",
)
BAD_ROW_RATE = 0.01
# Shared clients 0..4 head the portfolio of every partner (its first five policies).
KNOWN_CLIENT_INDEXES: tuple[int, ...] = (0, 1, 2, 3, 4)
SHARED_CLIENT_RATE = 0.15


@dataclass(slots=True, frozen=True)
class Person:
    gender: str  # M, V, X, or R for a legal entity
    tussenvoegsels: str
    surname: str  # core surname, or the company name for a legal entity
    first_name: str
    initials: str
    birth_date: date | None
    street: str
    house_number: int
    addition: str
    postcode: str  # "1234AB"
    city: str
    area_code: str
    email: str
    mobile: str  # national digits after 06: "12345678"
    landline: str  # digits after the area code
    kvk: str = ""


@dataclass(slots=True, frozen=True)
class Household:
    holder: Person
    partner: Person | None = None
    children: tuple[Person, ...] = ()

    @property
    def composition(self) -> str:
        """ADNGEZ: A single, H couple, I single parent, K couple with children."""
        if self.holder.gender == "R":
            return ""
        if self.partner is not None:
            return "K" if self.children else "H"
        return "I" if self.children else "A"


@dataclass(frozen=True)
class DemoClient:
    """A client every demo partner delivers (handy for a first lookup)."""

    surname: str
    tussenvoegsels: str | None
    first_name: str
    initials: str
    birth_date: str  # ISO
    postcode: str  # 1234AB
    house_number: str
    house_number_addition: str | None
    city: str
    email: str
    mobile: str  # E.164
    partners: tuple[str, ...] = field(default=DEMO_PARTNERS)

    @property
    def name(self) -> str:
        return f"{self.tussenvoegsels} {self.surname}" if self.tussenvoegsels else self.surname


# --- people -----------------------------------------------------------------------------------


class _Rng(random.Random):
    """`random.Random` with cheaper choice/randint: a million rows must generate in seconds."""

    def pick(self, seq: Sequence[_T]) -> _T:
        return seq[int(self.random() * len(seq))]

    def between(self, low: int, high: int) -> int:
        return low + int(self.random() * (high - low + 1))


_ASCII = str.maketrans(
    {
        "Ö": "O", "ö": "o", "Ç": "C", "ç": "c", "á": "a", "é": "e", "ë": "e", "è": "e", "ş": "s",
        "ï": "i", "'": "", " ": "", "ü": "u",
    }
)  # fmt: skip


def _slug(text: str) -> str:
    return text.translate(_ASCII).lower()


def _postcode(rng: _Rng, low: int, high: int) -> str:
    digits = rng.between(low, high)
    while True:
        letters = rng.pick(_POSTCODE_LETTERS) + rng.pick(_POSTCODE_LETTERS)
        if letters not in _POSTCODE_NOT_ISSUED:
            return f"{digits}{letters}"


def _birth_date(rng: _Rng, min_age: int, max_age: int) -> date:
    return date.fromordinal(_REF_ORDINAL - rng.between(min_age * 365 + 1, max_age * 365 + 300))


def _first_name(rng: _Rng, gender: str) -> str:
    names = {"M": FIRST_NAMES_M, "V": FIRST_NAMES_F}.get(gender, FIRST_NAMES_X)
    return rng.pick(names)


def _initials(rng: _Rng, first_name: str) -> str:
    initials = first_name[0] + "."
    if rng.random() < 0.4:
        initials += rng.pick("ACHJMPW") + "."
    return initials


def _contact(rng: _Rng, first_name: str, surname: str) -> tuple[str, str, str]:
    local = f"{_slug(first_name)}.{_slug(surname)}"
    if rng.random() < 0.5:
        local += str(rng.between(1, 99))
    email = f"{local}@{rng.pick(MAIL_DOMAINS)}"
    mobile = f"{rng.between(1, 5)}{rng.between(0, 9_999_999):07d}"
    landline = f"{rng.between(2, 9)}{rng.between(0, 999_999):06d}"
    return email, mobile, landline


def _person(rng: _Rng, *, legal_entity: bool = False) -> Person:
    city, low, high, area = rng.pick(CITIES)
    house = rng.between(1, 250) if rng.random() < 0.9 else rng.between(251, 2999)
    addition = rng.pick(_HOUSE_ADDITIONS) if rng.random() < 0.12 else ""
    tussen, core = rng.pick(SURNAMES)
    if legal_entity:
        surname_text = f"{tussen} {core}".strip()
        name = f"{rng.pick(COMPANY_KINDS)} {surname_text[0].upper()}{surname_text[1:]}"
        form = rng.pick(COMPANY_FORMS)
        company = f"{name} {form}" if form else name
        email = f"info@{_slug(core)}{rng.between(1, 999)}.nl"
        return Person(
            gender="R",
            tussenvoegsels="",
            surname=company,
            first_name="",
            initials="",
            birth_date=None,
            street=rng.pick(STREETS),
            house_number=house,
            addition=addition,
            postcode=_postcode(rng, low, high),
            city=city,
            area_code=area,
            email=email,
            mobile=f"{rng.between(1, 5)}{rng.between(0, 9_999_999):07d}",
            landline=f"{rng.between(2, 9)}{rng.between(0, 999_999):06d}",
            kvk=f"{rng.between(10_000_000, 99_999_999)}",
        )
    gender = "M" if rng.random() < 0.49 else ("V" if rng.random() < 0.98 else "X")
    first = _first_name(rng, gender)
    email, mobile, landline = _contact(rng, first, core)
    return Person(
        gender=gender,
        tussenvoegsels=tussen,
        surname=core,
        first_name=first,
        initials=_initials(rng, first),
        birth_date=_birth_date(rng, 18, 90),
        street=rng.pick(STREETS),
        house_number=house,
        addition=addition,
        postcode=_postcode(rng, low, high),
        city=city,
        area_code=area,
        email=email,
        mobile=mobile,
        landline=landline,
    )


def _relative(rng: _Rng, holder: Person, *, child: bool) -> Person:
    """A household member: the holder's address; a child usually has the holder's surname."""
    gender = "M" if rng.random() < 0.5 else "V"
    if child:
        tussen, core = holder.tussenvoegsels, holder.surname
        assert holder.birth_date is not None
        age = max(0, min(17, (REFERENCE_DATE - holder.birth_date).days // 365 - 20))
        born = _birth_date(rng, 0, age) if age else _birth_date(rng, 0, 1)
    else:
        tussen, core = rng.pick(SURNAMES)
        assert holder.birth_date is not None
        born = min(
            holder.birth_date + timedelta(days=rng.between(-8 * 365, 8 * 365)),
            REFERENCE_DATE - timedelta(days=18 * 366),
        )
    first = _first_name(rng, gender)
    email, mobile, _ = _contact(rng, first, core)
    return Person(
        gender=gender,
        tussenvoegsels=tussen,
        surname=core,
        first_name=first,
        initials=_initials(rng, first),
        birth_date=born,
        street=holder.street,
        house_number=holder.house_number,
        addition=holder.addition,
        postcode=holder.postcode,
        city=holder.city,
        area_code=holder.area_code,
        email="" if child else email,
        mobile="" if child else mobile,
        landline=holder.landline,
    )


def _household(rng: _Rng, *, legal_entity: bool) -> Household:
    holder = _person(rng, legal_entity=legal_entity)
    if legal_entity:
        return Household(holder)
    assert holder.birth_date is not None
    roll = rng.random()
    partner = _relative(rng, holder, child=False) if roll < 0.45 else None
    children: tuple[Person, ...] = ()
    age = (REFERENCE_DATE - holder.birth_date).days // 365
    if 0.3 < roll < 0.7 and 24 <= age <= 60:
        children = tuple(_relative(rng, holder, child=True) for _ in range(rng.between(1, 3)))
    return Household(holder, partner, children)


def _shared_household(seed: int, index: int) -> Household:
    """The shared client number `index`: the same for every partner generated with `seed`."""
    rng = _Rng(seed * 1_000_003 + index)
    return _household(rng, legal_entity=rng.random() < 0.05)


# --- partner styles ---------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class _Style:
    """How one partner writes its file: every partner's software formats a little differently."""

    iso_dates: bool
    spaced_postcode: bool
    addition_in_house_number: bool
    phone_style: int
    prefix: str


def _style(seed: int, partner_id: str) -> _Style:
    rng = _Rng(f"{seed}:{partner_id}:style")
    letters = partner_id.rsplit("-", 1)[-1][:3].upper()
    return _Style(
        iso_dates=rng.random() < 0.5,
        spaced_postcode=rng.random() < 0.5,
        addition_in_house_number=rng.random() < 0.5,
        phone_style=rng.between(0, 2),
        prefix=f"{letters}{rng.between(10, 99)}",
    )


@lru_cache(maxsize=65536)
def _format_date(value: date, iso: bool) -> str:
    return value.isoformat() if iso else value.strftime("%Y%m%d")


def _mobile(digits: str, style: int) -> str:
    if not digits:
        return ""
    if style == 0:
        return f"06-{digits}"
    if style == 1:
        return f"06 {digits[:4]} {digits[4:]}"
    return f"+31 6 {digits}"


def _landline(area: str, digits: str, style: int) -> str:
    if not digits:
        return ""
    if style == 2:
        return f"+31 {area[1:]} {digits}"
    return f"{area}-{digits}" if style == 0 else f"{area} {digits[:3]} {digits[3:]}"


def _surname_fields(rng: _Rng, person: Person) -> tuple[str, str]:
    """(ANAAM, VOORV) in one of the ways partners write Dutch surnames."""
    tussen, core = person.tussenvoegsels, person.surname
    if person.gender == "R":
        return core, ""
    roll = rng.random()
    if not tussen:
        return (core.upper(), "") if roll < 0.08 else (core, "")
    if roll < 0.55:
        return core, tussen
    if roll < 0.8:
        joined = f"{tussen}{core}" if tussen.endswith("'") else f"{tussen} {core}"
        return joined[0].upper() + joined[1:], ""
    if roll < 0.92:
        return f"{core}, {tussen}", ""
    return (f"{tussen}{core}" if tussen.endswith("'") else f"{tussen} {core}").upper(), ""


def _party_row(
    rng: _Rng, style: _Style, policy: dict[str, str], person: Person, role: str
) -> dict[str, str]:
    row = policy.copy()
    anaam, voorv = _surname_fields(rng, person)
    row["ENTITEIT"] = role
    row["GESLACH"] = person.gender
    row["ANAAM"] = anaam
    row["VOORV"] = voorv
    row["VOORL"] = person.initials
    row["RNAAM"] = person.first_name if rng.random() < 0.8 else ""
    if person.birth_date is not None:
        row["GEBDAT"] = _format_date(person.birth_date, style.iso_dates)
    row["STRAAT"] = person.street
    if person.addition and style.addition_in_house_number:
        sep = "-" if len(person.addition) > 1 else ""
        row["HUISNR"] = f"{person.house_number}{sep}{person.addition}"
    else:
        row["HUISNR"] = str(person.house_number)
        row["TOEVOEG"] = person.addition
    pc = person.postcode
    row["PCODE"] = f"{pc[:4]} {pc[4:]}" if style.spaced_postcode else pc
    row["PLAATS"] = person.city
    row["LAND"] = "NL"
    if role in ("VP", "SP"):
        row["EMAIL"] = person.email if rng.random() < 0.85 else ""
        row["MOBIEL"] = _mobile(person.mobile, style.phone_style) if rng.random() < 0.8 else ""
        if rng.random() < 0.35 or person.gender == "R":
            row["TELNUM"] = _landline(person.area_code, person.landline, style.phone_style)
    row["KVKNR"] = person.kvk
    return row


def _policy_fields(rng: _Rng, style: _Style, number: str, household: Household) -> dict[str, str]:
    row = _EMPTY_ROW.copy()
    if household.holder.gender == "R":
        branch, products, modules = BUSINESS_BRANCH
    else:
        branch = rng.pick(("090", "090", "091", "092", "092", "990"))
        products, modules = BRANCHES[branch]
    start = date.fromordinal(_REF_ORDINAL - rng.between(20, 15 * 365))
    row["PP_NUMMER"] = number
    row["PP_BRANCHE"] = branch
    row["PP_PRODUCC"] = rng.pick(products)
    row["PP_INGDAT"] = _format_date(start, style.iso_dates)
    roll = rng.random()
    if roll < 0.04:  # ended some time ago
        end = start + timedelta(days=rng.between(365, 5 * 365))
        row["PP_EXPDAT"] = _format_date(end, style.iso_dates)
    elif roll < 0.08:  # fixed-term, ends in the future
        row["PP_EXPDAT"] = _format_date(date(2030, 12, 31), style.iso_dates)
    row["PP_DEKKING"] = rng.pick(modules)
    row["PP_VOORW"] = rng.pick(CONDITIONS)
    if rng.random() < 0.3:
        row["PP_CLAUSULES"] = "|".join(sorted(rng.sample(CLAUSES, rng.between(1, 2))))
    row["PP_EIGENRISICO"] = rng.pick(DEDUCTIBLES)
    row["PP_GEZIN"] = household.composition
    return row


def _bad_row(rng: _Rng, style: _Style, number: str, kind: str) -> tuple[dict[str, str], Person]:
    household = _household(rng, legal_entity=False)
    row = _party_row(
        rng, style, _policy_fields(rng, style, number, household), household.holder, "VP"
    )
    row["PP_GEZIN"] = "A"
    if kind == "postcode_not_issued":
        row["PCODE"] = row["PCODE"][:4] + " SS"
    elif kind == "birth_date_in_future":
        row["GEBDAT"] = "2091-02-28" if style.iso_dates else "20910228"
    elif kind == "branch_not_in_scope":
        row["PP_BRANCHE"] = "021"
    elif kind == "end_before_start":
        row["PP_INGDAT"] = "20200101"
        row["PP_EXPDAT"] = "20191231"
    elif kind == "missing_house_number":
        row["HUISNR"] = ""
        row["TOEVOEG"] = ""
    else:
        row["ANAAM"] = ""
        row["VOORV"] = ""
    return row, household.holder


# --- public API -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoParty:
    """One generated party row with the person it describes (the same `Person` wherever several
    partners deliver one shared client) and whether its policy is bad on purpose."""

    row: dict[str, str]
    person: Person
    bad: bool = False


def generate_parties(
    n_policies: int,
    *,
    seed: int,
    partner_id: str,
    bad_rows: bool = False,
    first_policy: int = 0,
    processing_code: str = "",
) -> Iterator[DemoParty]:
    """One party row (keys: `COLUMNS`, absent values "") with the person it describes, policy
    by policy; `generate_rows` gives the rows alone.

    Policy numbers are `<prefix><index>`: the same index gives the same number, so a later file
    with `first_policy` set continues (or, with overlapping indexes, re-delivers) a portfolio.
    `bad_rows=True` puts in about one deliberately bad policy in a hundred (to show a report).
    `processing_code` fills PP_VRWRKCD (`0` new, `1` changed, ...: a mutation file).
    """
    style = _style(seed, partner_id)
    rng = _Rng(f"{seed}:{partner_id}:rows:{first_policy}")
    shared_pool = max(len(KNOWN_CLIENT_INDEXES), n_policies // 6)
    shared_cache: dict[int, Household] = {}
    for index in range(first_policy, first_policy + n_policies):
        number = f"{style.prefix}{index + 1:08d}"
        if bad_rows and index >= len(KNOWN_CLIENT_INDEXES) and rng.random() < BAD_ROW_RATE:
            bad, person = _bad_row(rng, style, number, rng.pick(BAD_ROW_KINDS))
            bad["PP_VRWRKCD"] = processing_code
            yield DemoParty(bad, person, bad=True)
            continue
        if index < len(KNOWN_CLIENT_INDEXES):
            shared: int | None = KNOWN_CLIENT_INDEXES[index]
        elif rng.random() < SHARED_CLIENT_RATE:
            shared = rng.between(0, shared_pool - 1)
        else:
            shared = None
        if shared is None:
            household = _household(rng, legal_entity=rng.random() < 0.06)
        else:
            household = shared_cache.get(shared) or _shared_household(seed, shared)
            if len(shared_cache) < 100_000:
                shared_cache[shared] = household
        policy = _policy_fields(rng, style, number, household)
        policy["PP_VRWRKCD"] = processing_code
        yield DemoParty(_party_row(rng, style, policy, household.holder, "VP"), household.holder)
        if household.partner is not None:
            yield DemoParty(
                _party_row(rng, style, policy, household.partner, "SP"), household.partner
            )
        for child in household.children:
            yield DemoParty(_party_row(rng, style, policy, child, "KN"), child)


def _rows_of(parties: Callable[_P, Iterator[DemoParty]]) -> Callable[_P, Iterator[dict[str, str]]]:
    def rows(*args: _P.args, **kwargs: _P.kwargs) -> Iterator[dict[str, str]]:
        return (party.row for party in parties(*args, **kwargs))

    return rows


# The party rows of `generate_parties` without their persons: what a partner's file holds.
generate_rows = _rows_of(generate_parties)


def known_demo_clients(seed: int = DEMO_SEED) -> list[DemoClient]:
    """The natural persons among the shared clients every partner delivers (its first policies),
    with the values a recognition query would use."""
    clients = []
    for index in KNOWN_CLIENT_INDEXES:
        holder = _shared_household(seed, index).holder
        if holder.birth_date is None:
            continue
        clients.append(
            DemoClient(
                surname=holder.surname,
                tussenvoegsels=holder.tussenvoegsels or None,
                first_name=holder.first_name,
                initials=holder.initials,
                birth_date=holder.birth_date.isoformat(),
                postcode=holder.postcode,
                house_number=str(holder.house_number),
                house_number_addition=holder.addition.upper() or None,
                city=holder.city,
                email=holder.email,
                mobile=f"+316{holder.mobile}",
            )
        )
    return clients


def _text_stream(
    target: str | Path | IO[Any], encoding: str, stack: ExitStack, newline: str | None
) -> IO[str]:
    if isinstance(target, str | Path):
        path = Path(target)
        if path.suffix == ".gz":
            return stack.enter_context(
                gzip.open(path, "wt", encoding=encoding, newline=newline, compresslevel=5)
            )
        return stack.enter_context(path.open("w", encoding=encoding, newline=newline))
    if isinstance(target, io.TextIOBase):
        return target
    wrapper = io.TextIOWrapper(target, encoding=encoding, newline=newline, write_through=False)
    stack.callback(wrapper.detach)  # leave the caller's binary stream open
    stack.callback(wrapper.flush)
    return wrapper


def write_csv(
    path_or_stream: str | Path | IO[Any],
    rows: Iterable[dict[str, str]],
    *,
    delimiter: str = ";",
    encoding: str = "utf-8",
) -> int:
    """Write a header and the rows as CSV (`.gz` paths are gzip-compressed); returns the row
    count. A binary stream gets `encoding`; a text stream is written as is."""
    count = 0
    with ExitStack() as stack:
        out = _text_stream(path_or_stream, encoding, stack, newline="")
        writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow([row[c] for c in COLUMNS])
            count += 1
    return count


def write_jsonl(
    path_or_stream: str | Path | IO[Any],
    rows: Iterable[dict[str, str]],
    *,
    encoding: str = "utf-8",
) -> int:
    """Write the rows as JSON Lines (absent values left out); returns the row count."""
    count = 0
    with ExitStack() as stack:
        out = _text_stream(path_or_stream, encoding, stack, newline="\n")
        dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        for row in rows:
            out.write(dumps({k: v for k, v in row.items() if v}))
            out.write("\n")
            count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a deterministic demo portfolio file.")
    parser.add_argument(
        "--partner",
        default=DEMO_PARTNERS[0],
        help="partner id the file is for; it also sets the partner's policy-number prefix and "
        "how it writes dates, postcodes and phone numbers (default: %(default)s)",
    )
    parser.add_argument(
        "--policies",
        type=int,
        default=DEMO_POLICIES_PER_PARTNER,
        help="number of policies to write, one row per party on each (default: %(default)s)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=DEMO_SEED,
        help="random seed; the same seed gives the same bytes (default: %(default)s)",
    )
    parser.add_argument(
        "--first-policy",
        type=int,
        default=0,
        help="index of the first policy: a later file continues the policy numbers from here, "
        "an overlapping range re-delivers policies (default: %(default)s)",
    )
    parser.add_argument(
        "--bad-rows",
        action="store_true",
        help="put in deliberately bad rows, about one policy in a hundred, to see what a report "
        "says about them (default: none, the file comes back accepted)",
    )
    parser.add_argument(
        "--processing-code", default="", help="PP_VRWRKCD of every row (a mutation file)"
    )
    parser.add_argument(
        "--format",
        choices=("csv", "jsonl"),
        default="csv",
        help="csv (with a header row) or JSON lines (default: %(default)s)",
    )
    parser.add_argument(
        "--delimiter", default=";", help="CSV field delimiter (default: %(default)s)"
    )
    parser.add_argument(
        "--encoding",
        default="utf-8",
        help="text encoding of the file, e.g. utf-8 or cp1252 (default: %(default)s)",
    )
    parser.add_argument("--out", default="-", help="file (.gz to compress) or - for stdout")
    args = parser.parse_args(argv)
    rows = generate_rows(
        args.policies,
        seed=args.seed,
        partner_id=args.partner,
        bad_rows=args.bad_rows,
        first_policy=args.first_policy,
        processing_code=args.processing_code,
    )
    target: str | IO[Any] = sys.stdout.buffer if args.out == "-" else args.out
    if args.format == "csv":
        count = write_csv(target, rows, delimiter=args.delimiter, encoding=args.encoding)
    else:
        count = write_jsonl(target, rows, encoding=args.encoding)
    print(f"{count} rows", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
