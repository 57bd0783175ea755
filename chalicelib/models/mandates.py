"""Mandates: the request form as submitted, the stored mandate as shown, activation messages.

The request models check shapes only (types, lengths, allowed values). Whether a request is
complete for its kind of mandate is the business of `chalicelib/rules/mandates.py`, so that a
missing piece is a 422 naming the rule it breaks (`grantee_email_required`, ...), not a generic
validation error.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from chalicelib.models.bounds import RequestDate

HolderKind = Literal["natural_person", "legal_entity"]
GranteeKind = Literal["policyholder", "insured_person", "someone_else", "legal_representative"]
Scope = Literal["all", "single", "listed"]
SignatureMethod = Literal["qualified_esign", "eid", "handwritten"]
MandateState = Literal["submitted", "approved", "active", "rejected", "revoked", "expired"]
Language = Literal["nl", "en"]

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]

_NAME_MARKS = frozenset(" '\u2018\u2019.,-\u2010\u2011")


def is_person_name(text: str) -> bool:
    """A person's name as a form gives it: letters of any alphabet (accents too), spaces and
    ' ’ . , -, at least one letter. One line with no link or markup of its own, so the
    activation e-mail can greet the grantee by it."""
    return any(c.isalpha() for c in text) and all(
        c.isalpha() or c in _NAME_MARKS or unicodedata.category(c).startswith("M") for c in text
    )


def _person_name(text: str) -> str:
    if not is_person_name(text):
        raise ValueError("a name holds only letters, spaces and ' . , -")
    return text


Name = Annotated[Text, AfterValidator(_person_name)]
Initials = Annotated[ShortText, AfterValidator(_person_name)]
PartnerId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]
PolicyNumber = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9./-]{1,30}$")]
ClientId = Annotated[str, StringConstraints(pattern=r"^c_[0-9a-f]{24}$")]
MandateId = Annotated[str, StringConstraints(pattern=r"^m_[0-9a-f]{24}$")]


class _Form(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Address(_Form):
    street: Text | None = None
    house_number: ShortText | None = None
    house_number_addition: ShortText | None = None
    postcode: ShortText | None = None
    city: Text | None = None
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] = "NL"


class Person(_Form):
    """A natural person named on the form (requester, grantee, legal representative)."""

    surname: Name | None = None
    tussenvoegsels: Name | None = None
    first_name: Name | None = None
    initials: Initials | None = None
    birth_date: RequestDate | None = None
    address: Address | None = None


class Grantee(Person):
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=254)] | None = None


class Signature(_Form):
    method: SignatureMethod | None = None
    signed_on: RequestDate | None = None
    form_reference: Text | None = None


class LegalRepresentative(Person):
    """Who represents a legal entity, and their signed authorisation of the grantee."""

    authorisation: Signature | None = None


class ContractRef(_Form):
    partner_id: PartnerId
    policy_number: PolicyNumber


class MandateRequest(_Form):
    """`POST /v1/mandates`: the mandate form. Shown back exactly as accepted."""

    client_id: ClientId  # the holder: a client of the register
    grantee_kind: GranteeKind
    requester: Person | None = None
    request_date: RequestDate | None = None
    grantee: Grantee | None = None
    contracts: list[ContractRef] = Field(default_factory=list, max_length=100)
    signature: Signature | None = None
    legal_representative: LegalRepresentative | None = None
    valid_until: RequestDate | None = None
    language: Language = "nl"  # of the activation e-mail


class StateChangeRequest(_Form):
    """Body of approve / reject / revoke / resend (all optional)."""

    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class MandatePath(_Form):
    mandate_id: MandateId


class MandateQuery(_Form):
    client_id: ClientId


class ActivationRequest(_Form):
    token: Annotated[str, StringConstraints(strip_whitespace=True, min_length=16, max_length=128)]


class Actor(BaseModel):
    subject: str
    role: str
    partner_id: str | None = None


class StateChange(BaseModel):
    state: MandateState
    at: str  # ISO datetime, UTC
    by: Actor | None = None  # None: the grantee through the activation link
    reason: str | None = None


class Mandate(BaseModel):
    """A mandate as stored and shown (`GET /v1/mandates/{id}`)."""

    mandate_id: str
    client_id: str
    state: MandateState
    holder_kind: HolderKind
    grantee_kind: GranteeKind
    scope: Scope
    form_required: bool
    contracts: list[ContractRef]  # empty when scope is "all": computed at read time
    request: dict[str, Any]  # the form exactly as accepted (absent fields left out)
    submitted_at: str
    submitted_by: Actor
    updated_at: str
    history: list[StateChange]
    activation_expires_at: str | None = None  # of the current activation link
    activated_at: str | None = None


class MandateList(BaseModel):
    mandates: list[Mandate]


class Contract(BaseModel):
    partner_id: str
    policy_number: str
    branch: str | None = None
    product: str | None = None
    start_date: str | None = None
    end_date: str | None = None
    modules: list[str] = Field(default_factory=list)
    status: str | None = None
    ended_on: str | None = None


class MandateContracts(BaseModel):
    mandate_id: str
    client_id: str
    scope: Scope
    contracts: list[Contract]


class Activation(BaseModel):
    mandate_id: str
    client_id: str
    state: MandateState
    scope: Scope
    activated_at: str


class ActivationMessage(BaseModel):
    """What the activation queue carries (the queue is encrypted at rest; see
    docs/architecture.md, "Mandates")."""

    model_config = ConfigDict(extra="ignore")

    mandate_id: str
    token: str
    language: Language
    idempotency_id: str
