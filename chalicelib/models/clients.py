"""Client recognition (`GET /v1/clients`), the dossier (`GET /v1/clients/{client_id}`) and the
policy view (`GET /v1/policies/{partner_id}/{policy_number}`)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import unquote

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chalicelib.models.bounds import PartnerId
from chalicelib.normalise import (
    display_case,
    display_initials,
    name_key,
    normalise_email,
    normalise_house_number,
    normalise_house_number_addition,
    normalise_kvk,
    normalise_phone,
    normalise_policy_number,
    normalise_postcode,
    parse_date,
)

MAX_CANDIDATES = 20
CLIENT_ID_RE = re.compile(r"c_[0-9a-f]{24}")


def _normalised(value: str, normalise: Callable[[str], object], what: str) -> str:
    result = normalise(value)
    if result is None:
        raise ValueError(f"not a valid {what}")
    return str(result)


class ClientQuery(BaseModel):
    """One search: the body of `POST /v1/clients/search` (or the query string of the deprecated
    `GET /v1/clients`), normalised with the same functions the ingest uses
    (`chalicelib/normalise.py`), so a query key equals a stored lookup key. A number in a JSON
    body (`"house_number": 232`) is taken as its digits."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, coerce_numbers_to_str=True)

    policy_number: str | None = Field(default=None, max_length=40)
    partner_id: str | None = Field(default=None, max_length=63, pattern=r"^[a-z0-9][a-z0-9-]+$")
    postcode: str | None = Field(default=None, max_length=10)
    house_number: str | None = Field(default=None, max_length=12)
    house_number_addition: str | None = Field(default=None, max_length=10)
    birth_date: str | None = Field(default=None, max_length=10)
    name: str | None = Field(default=None, min_length=1, max_length=120)
    phone: str | None = Field(default=None, max_length=30)
    email: str | None = Field(default=None, max_length=254)
    kvk: str | None = Field(default=None, max_length=12)
    q: str | None = Field(default=None, min_length=1, max_length=200)

    @field_validator("policy_number")
    @classmethod
    def _policy_number(cls, value: str | None) -> str | None:
        # Read out loud a number comes in groups: "VOL 9100 000001".
        if value is None:
            return None
        return _normalised("".join(value.split()), normalise_policy_number, "policy number")

    @field_validator("postcode")
    @classmethod
    def _postcode(cls, value: str | None) -> str | None:
        return (
            None if value is None else _normalised(value, normalise_postcode, "postcode (1234 AB)")
        )

    @field_validator("birth_date")
    @classmethod
    def _birth_date(cls, value: str | None) -> str | None:
        return None if value is None else _normalised(value, parse_date, "date (YYYY-MM-DD)")

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return None if value is None else _normalised(value, normalise_phone, "phone number")

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return None if value is None else _normalised(value, normalise_email, "e-mail address")

    @field_validator("kvk")
    @classmethod
    def _kvk(cls, value: str | None) -> str | None:
        return None if value is None else _normalised(value, normalise_kvk, "KvK number (8 digits)")

    @field_validator("house_number_addition")
    @classmethod
    def _addition(cls, value: str | None) -> str | None:
        return None if value is None else normalise_house_number_addition(value)

    @model_validator(mode="after")
    def _house_number(self) -> ClientQuery:
        if self.house_number is not None:
            parsed = normalise_house_number(self.house_number)
            if parsed is None:
                raise ValueError("house_number: not a valid house number")
            number, addition = parsed
            self.house_number = number
            if addition and self.house_number_addition and addition != self.house_number_addition:
                raise ValueError("house_number and house_number_addition disagree")
            self.house_number_addition = self.house_number_addition or addition
        return self


class ClientPath(BaseModel):
    client_id: str = Field(pattern=CLIENT_ID_RE.pattern)


class PolicyPath(BaseModel):
    """`/v1/policies/{partner_id}/{policy_number}`; the number is normalised by the service."""

    partner_id: PartnerId
    policy_number: str = Field(min_length=1, max_length=40)

    @field_validator("policy_number", mode="before")
    @classmethod
    def _decoded(cls, value: object) -> object:
        # A number with "/" (allowed by the file contract) arrives URL-encoded as "%2F", and
        # the local gateway hands the segment over undecoded. A policy number never contains
        # "%", so decoding where a gateway already decoded changes nothing.
        return unquote(value) if isinstance(value, str) else value


MatchKind = Literal["exact", "phonetic", "similar", "other address", "different", "not given"]


class FieldExplanation(BaseModel):
    """How one given field matched: `similarity` (0..1) for `phonetic` and `similar`."""

    how: MatchKind
    similarity: float | None = None

    @classmethod
    def of(cls, how: str, similarity: float) -> FieldExplanation:
        exact_or_not = how not in ("phonetic", "similar")
        return cls.model_validate({"how": how, "similarity": None if exact_or_not else similarity})


class Match(BaseModel):
    """`score` 1.0 only when every given field matched exactly; `on` the fields that matched
    (exactly or not); `fields` how each given field matched."""

    score: float
    on: list[str]
    fields: dict[str, FieldExplanation] = {}


class Name(BaseModel):
    surname: str
    tussenvoegsels: str | None = None
    initials: str | None = None
    first_name: str | None = None
    display: str


class AddressOut(BaseModel):
    street: str | None = None
    house_number: str | None = None
    house_number_addition: str | None = None
    postcode: str | None = None
    city: str | None = None
    country: str | None = None


class PartyOut(BaseModel):
    """One party as a partner delivered it on one policy."""

    client_id: str
    partner_id: str
    policy_number: str
    role: str
    is_legal_entity: bool
    name: Name
    gender: str | None = None
    birth_date: str | None = None
    kvk: str | None = None
    address: AddressOut
    email: str | None = None
    phone: str | None = None
    mobile: str | None = None


class PolicyDetail(BaseModel):
    partner_id: str
    policy_number: str
    status: str
    branch: str | None = None
    product: str | None = None
    start_date: str | None = None
    end_date: str | None = None
    ended_on: str | None = None
    modules: list[str] = []
    conditions: str | None = None
    clauses: list[str] = []
    deductible_eur: Decimal | None = None
    household: str | None = None
    delivered_at: str | None = None


class PolicyWithRole(PolicyDetail):
    role: str


class Candidate(BaseModel):
    client_id: str
    match: Match
    is_legal_entity: bool
    name: Name
    birth_date: str | None = None
    kvk: str | None = None
    address: AddressOut
    policies: list[PolicyWithRole]
    truncated: bool = False  # more policies than one search reads: not all are listed


class CandidateList(BaseModel):
    """`query_kind`: the partitions read (`addr`, `addr+dob` after a fallback, ...);
    `truncated`: more candidates than shown; `next_try` (English) and `next_try_nl` (Dutch):
    when nobody was found, what to try next."""

    query_kind: str
    candidates: list[Candidate]
    truncated: bool = False
    next_try: str | None = None
    next_try_nl: str | None = None


class Dossier(BaseModel):
    client_id: str
    is_legal_entity: bool
    name: Name
    birth_date: str | None = None
    kvk: str | None = None
    address: AddressOut
    partners: list[str]
    policies: list[PolicyWithRole]
    parties: list[PartyOut]
    truncated: bool = False


class PolicyView(BaseModel):
    policy: PolicyDetail
    parties: list[PartyOut]


# --- from stored items (docs/architecture.md, "Item attributes") ----------------------------


def name_from_item(item: Mapping[str, Any]) -> Name:
    """The name of one delivered party; `display` in one capitalisation whatever the
    partner's software wrote (``Eva van DIJK`` is shown as ``Eva van Dijk``)."""
    surname = str(item.get("surname") or "")
    if item.get("is_legal_entity"):
        return Name(surname=surname, display=surname)
    tussenvoegsels = item.get("tussenvoegsels")
    initials = item.get("initials")
    first_name = item.get("first_name")
    shown_given = display_case(first_name) if first_name else display_initials(initials or "")
    shown_surname = display_case(surname)
    if tussenvoegsels:
        # "d'" + "Ancona" was one word as delivered ("d'Ancona"): no space after the apostrophe.
        glued = str(tussenvoegsels).endswith("'")
        shown_surname = f"{tussenvoegsels}{'' if glued else ' '}{shown_surname}"
    return Name(
        surname=surname,
        tussenvoegsels=tussenvoegsels,
        initials=initials,
        first_name=first_name,
        display=" ".join(p for p in (shown_given, shown_surname) if p),
    )


def name_from_items(items: Sequence[Mapping[str, Any]]) -> Name:
    """One client's name from all of their delivered items that are at hand, the same
    whichever of them a search found first or was delivered last ("one client, one face"):
    the surname most items give (ties: the newest delivery), the first name and the fullest
    initials any partner delivered, all in one capitalisation."""
    newest_first = sorted(items, key=lambda i: str(i.get("data_seq", "")), reverse=True)
    spellings = Counter(name_key(str(i.get("surname") or "")) for i in newest_first)
    key = max(spellings, key=lambda k: spellings[k])  # the first of the most frequent
    chosen = next(i for i in newest_first if name_key(str(i.get("surname") or "")) == key)
    if chosen.get("is_legal_entity"):
        return name_from_item(chosen)
    first_name = next((str(i["first_name"]) for i in newest_first if i.get("first_name")), None)
    initials = max(
        (display_initials(str(i["initials"])) for i in newest_first if i.get("initials")),
        key=len,
        default=None,
    )
    return name_from_item(
        {
            "surname": display_case(str(chosen.get("surname") or "")),
            "tussenvoegsels": chosen.get("tussenvoegsels"),
            "initials": initials,
            "first_name": display_case(first_name) if first_name else None,
        }
    )


def address_from_item(item: Mapping[str, Any]) -> AddressOut:
    return AddressOut(
        street=item.get("street"),
        house_number=item.get("house_number"),
        house_number_addition=item.get("house_number_addition"),
        postcode=item.get("postcode"),
        city=item.get("city"),
        country=item.get("country"),
    )


def policy_detail_fields(item: Mapping[str, Any], status: str) -> dict[str, Any]:
    """The `PolicyDetail` fields of a stored policy item, with the status to show."""
    return {
        "partner_id": item["partner_id"],
        "policy_number": item["policy_number"],
        "status": status,
        "branch": item.get("branch"),
        "product": item.get("product"),
        "start_date": item.get("start_date"),
        "end_date": item.get("end_date"),
        "ended_on": item.get("ended_on"),
        "modules": list(item.get("modules") or []),
        "conditions": item.get("conditions"),
        "clauses": list(item.get("clauses") or []),
        "deductible_eur": item.get("deductible_eur"),
        "household": item.get("household"),
        "delivered_at": item.get("delivered_at"),
    }


def party_from_item(item: Mapping[str, Any]) -> PartyOut:
    return PartyOut(
        client_id=item["client_id"],
        partner_id=item["partner_id"],
        policy_number=item["policy_number"],
        role=item.get("role", "VP"),
        is_legal_entity=bool(item.get("is_legal_entity")),
        name=name_from_item(item),
        gender=item.get("gender"),
        birth_date=item.get("birth_date"),
        kvk=item.get("kvk"),
        address=address_from_item(item),
        email=item.get("email"),
        phone=item.get("phone"),
        mobile=item.get("mobile"),
    )
