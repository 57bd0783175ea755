"""Portfolio rows after validation and normalisation.

Plain slotted dataclasses, not pydantic: the ingest validates 100k+ rows per second and a
pydantic model per row would cost more than the validation itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from chalicelib.messages import render

DeliveryKind = Literal["full", "mutation"]
PartyRole = Literal["VP", "SP", "KN", "VZ"]


@dataclass(slots=True, frozen=True)
class RowError:
    """One problem with one row (or with the file, then `line` is 0 or the header line)."""

    line: int
    column: str | None
    code: str
    params: Mapping[str, str] = field(default_factory=dict)
    key: str = ""  # the catalogue's message, when it is not `code` itself

    @property
    def message_key(self) -> str:
        return self.key or self.code

    @property
    def message_nl(self) -> str:
        return render(self.message_key, self.params, "nl")

    @property
    def message_en(self) -> str:
        return render(self.message_key, self.params, "en")


@dataclass(slots=True)
class PolicyFields:
    """A policy as its rows deliver it. The rows of one policy share one instance: never change
    it in place (`dataclasses.replace`)."""

    policy_number: str
    branch: str
    start_date: str  # ISO YYYY-MM-DD
    modules: tuple[str, ...]
    product: str | None = None
    end_date: str | None = None
    processing_code: str | None = None  # "0" new, "1" changed, "2" cancelled, "4" information
    conditions: str | None = None
    clauses: tuple[str, ...] = ()
    deductible_eur: Decimal | None = None
    household: str | None = None  # ADNGEZ A/H/I/K


@dataclass(slots=True)
class PartyFields:
    role: PartyRole
    is_legal_entity: bool
    surname: str  # as delivered, without tussenvoegsels (company name for legal entities)
    surname_key: str  # matching key: lower case, no diacritics, no tussenvoegsels
    gender: str | None = None
    tussenvoegsels: str | None = None
    initials: str | None = None
    first_name: str | None = None
    birth_date: str | None = None  # ISO
    street: str | None = None
    house_number: str = ""
    house_number_addition: str | None = None
    postcode: str | None = None  # "1234AB" for NL
    city: str | None = None
    country: str = "NL"
    email: str | None = None
    phone: str | None = None  # E.164
    mobile: str | None = None  # E.164
    kvk: str | None = None


@dataclass(slots=True)
class ValidRow:
    line: int
    policy: PolicyFields
    party: PartyFields


@dataclass(slots=True)
class RowOutcome:
    """Either `row` is set, or `errors` is non-empty. `bsn_dropped` counts a dropped BSN value.

    `policy_values` and `party_values` are the row's stripped values of the policy and party
    columns (`rules.rows.POLICY_VALUE_LABELS`, `PARTY_VALUE_LABELS`), the party's after its
    entity prefix is resolved: the field quality counts read which of them are filled. They live
    only as long as the row is in memory and are never stored or reported."""

    row: ValidRow | None = None
    errors: list[RowError] = field(default_factory=list)
    policy_number: str | None = None  # when readable, even if the row is rejected
    bsn_dropped: bool = False
    policy_values: tuple[str, ...] = ()
    party_values: tuple[str, ...] = ()
