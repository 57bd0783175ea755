"""Coverage check (dekkingsbeoordeling): the request and response of `POST /v1/coverage-checks`
and the plain facts the pure rules in `chalicelib/rules/coverage.py` decide on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from chalicelib.models.bounds import RequestDate
from chalicelib.models.clients import CLIENT_ID_RE
from chalicelib.normalise import normalise_policy_number, parse_date

LegalArea = Literal[
    "verkeer", "consument", "wonen", "werk", "inkomen", "fiscaal", "vermogen", "familie"
]
Decision = Literal["covered", "not_covered", "advice_only", "review"]
Outcome = Literal["pass", "fail", "warn"]


# --- facts the rules decide on (plain dataclasses: the rules stay free of I/O and pydantic) ----


@dataclass(frozen=True, slots=True)
class Address:
    postcode: str | None
    house_number: str | None
    house_number_addition: str | None = None

    def same_home(self, other: Address) -> bool:
        """Same postcode and house number; additions must agree when both are known
        (``12A`` and ``12B`` are different homes, ``12`` and ``12A`` are taken as the same)."""
        if not self.postcode or not self.house_number:
            return False
        if (self.postcode, self.house_number) != (other.postcode, other.house_number):
            return False
        mine, theirs = self.house_number_addition, other.house_number_addition
        return mine is None or theirs is None or mine == theirs


@dataclass(frozen=True, slots=True)
class PolicyParty:
    client_id: str
    role: str  # VP / SP / KN / VZ
    address: Address


@dataclass(frozen=True, slots=True)
class PolicyFacts:
    """One policy as the register holds it (only live, non-stale data)."""

    partner_id: str
    policy_number: str
    start_date: date
    modules: tuple[str, ...]
    status: str = "active"  # active | cancelled | removed_from_portfolio
    end_date: date | None = None
    ended_on: date | None = None
    household: str | None = None  # ADNGEZ A/H/I/K
    conditions: str | None = None
    clauses: tuple[str, ...] = ()
    parties: tuple[PolicyParty, ...] = ()


@dataclass(frozen=True, slots=True)
class Asker:
    """The person asking, identified by the `client_id` recognition gave; `address` is what the
    register holds for that client (None when the id is unknown to the register)."""

    client_id: str
    address: Address | None


@dataclass(frozen=True, slots=True)
class CoverageParams:
    waiting_period_months: int = 3
    claim_notification_months: int = 12
    min_claim_amount_eur: float = 175.0


@dataclass(frozen=True, slots=True)
class CoverageQuestion:
    event_date: date
    reported_date: date
    legal_area: LegalArea
    claim_amount_eur: float | None = None


@dataclass(frozen=True, slots=True)
class Reason:
    rule: str
    outcome: Outcome
    message_nl: str
    message_en: str


@dataclass(frozen=True, slots=True)
class Objection:
    reconsideration_weeks: int
    message_nl: str
    message_en: str
    steps: tuple[tuple[str, str, str], ...] = field(default=())  # (step, nl, en)


@dataclass(frozen=True, slots=True)
class Assessment:
    decision: Decision
    reasons: tuple[Reason, ...]
    objection: Objection | None


# --- HTTP request / response ------------------------------------------------------------------


def _iso_date(value: object) -> object:
    if isinstance(value, str):
        parsed = parse_date(value)
        if parsed is None:
            raise ValueError("expected a date as YYYY-MM-DD or YYYYMMDD")
        return parsed
    return value


class CoverageCheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)

    partner_id: str = Field(min_length=2, max_length=63, pattern=r"^[a-z0-9][a-z0-9-]+$")
    policy_number: str = Field(min_length=1, max_length=40)
    event_date: RequestDate
    reported_date: RequestDate | None = None
    legal_area: LegalArea
    claim_amount_eur: float | None = Field(default=None, ge=0, le=1_000_000_000)
    client_id: str | None = Field(default=None, max_length=40)

    @field_validator("partner_id", "policy_number", "legal_area", "client_id", mode="before")
    @classmethod
    def _strings_only(cls, value: object) -> object:
        if value is not None and not isinstance(value, str):
            raise ValueError("expected a string")
        return value

    @field_validator("event_date", "reported_date", mode="before")
    @classmethod
    def _dates(cls, value: object) -> object:
        if value is not None and not isinstance(value, str):
            raise ValueError("expected a date string as YYYY-MM-DD")
        return _iso_date(value)

    @field_validator("claim_amount_eur", mode="before")
    @classmethod
    def _amount_is_a_number(cls, value: object) -> object:
        if isinstance(value, bool) or (value is not None and not isinstance(value, int | float)):
            raise ValueError("expected a number (euro)")
        return value

    @field_validator("policy_number")
    @classmethod
    def _policy_number(cls, value: str) -> str:
        normalised = normalise_policy_number(value)
        if normalised is None:
            raise ValueError("a policy number is 1 to 30 of A-Z a-z 0-9 . - /")
        return normalised

    @field_validator("client_id")
    @classmethod
    def _client_id(cls, value: str | None) -> str | None:
        if value is not None and not CLIENT_ID_RE.fullmatch(value):
            raise ValueError("a client_id looks like c_ followed by 24 hex digits")
        return value

    @field_validator("reported_date")
    @classmethod
    def _reported_not_before_event(cls, value: date | None, info: ValidationInfo) -> date | None:
        # On the field, so that the error names it (a model's own check names no field).
        event = info.data.get("event_date")
        if value is not None and event is not None and value < event:
            raise ValueError("reported_date cannot be before event_date")
        return value


class ReasonOut(BaseModel):
    rule: str
    outcome: Outcome
    message_nl: str
    message_en: str


class ObjectionStep(BaseModel):
    step: str
    message_nl: str
    message_en: str


class ObjectionOut(BaseModel):
    reconsideration_weeks: int
    message_nl: str
    message_en: str
    steps: list[ObjectionStep]


class CoverageCheckResponse(BaseModel):
    decision: Decision
    partner_id: str
    policy_number: str
    legal_area: LegalArea
    event_date: date
    reported_date: date
    policy_status: str | None
    reasons: list[ReasonOut]
    conditions: str | None
    clauses: list[str]
    objection: ObjectionOut | None = None
