"""Mandate rules (docs/mandates.md), pure: the brokers' table, completeness of a request, the
life cycle and which contracts a mandate shows.

| holder         | grantee              | signed form                    | contracts visible   |
|----------------|----------------------|--------------------------------|---------------------|
| natural person | policyholder         | no                             | all, now and future |
| natural person | insured person       | yes                            | that one contract   |
| natural person | someone else         | yes                            | a listed set        |
| legal entity   | legal representative | yes                            | all, now and future |
| legal entity   | someone else         | yes + representative authority | a listed set        |

"All" is computed when the contracts are read (every live policy where the holder is the
policyholder), so contracts delivered after activation appear; "single" and "listed" are the
fixed list of the request and never grow.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from chalicelib.models.mandates import (
    ContractRef,
    GranteeKind,
    HolderKind,
    MandateRequest,
    MandateState,
    Person,
    Scope,
    Signature,
)
from chalicelib.normalise import mail_address, normalise_postcode


@dataclass(frozen=True, slots=True)
class MandateRule:
    holder: HolderKind
    grantee: GranteeKind
    form_required: bool
    scope: Scope
    legal_representative_required: bool


RULES: tuple[MandateRule, ...] = (
    MandateRule("natural_person", "policyholder", False, "all", False),
    MandateRule("natural_person", "insured_person", True, "single", False),
    MandateRule("natural_person", "someone_else", True, "listed", False),
    MandateRule("legal_entity", "legal_representative", True, "all", False),
    MandateRule("legal_entity", "someone_else", True, "listed", True),
)


def rule_for(holder: HolderKind, grantee: GranteeKind) -> MandateRule | None:
    """The row of the table, or None when that grantee cannot hold a mandate for that holder."""
    for rule in RULES:
        if rule.holder == holder and rule.grantee == grantee:
            return rule
    return None


def grantee_kinds(holder: HolderKind) -> tuple[GranteeKind, ...]:
    return tuple(rule.grantee for rule in RULES if rule.holder == holder)


@dataclass(frozen=True, slots=True)
class Violation:
    code: str  # names the rule, e.g. "grantee_email_required"
    message: str


_PERSON_CHECKS = (
    "required",
    "name_required",
    "first_name_required",
    "birth_date_required",
    "birth_date_in_future",
    "address_required",
    "postcode_invalid",
)
_SIGNATURE_CHECKS = (
    "required",
    "method_required",
    "date_required",
    "date_in_future",
    "form_reference_required",
)
# Every code a Violation can carry: the API contract lists them as the 422 codes of a mandate
# request (a test checks every violation `assess_request` finds is one of them).
VIOLATION_CODES: tuple[str, ...] = (
    *(
        f"{who}_{check}"
        for who in ("requester", "grantee", "legal_representative")
        for check in _PERSON_CHECKS
    ),
    *(
        f"{who}_{check}"
        for who in ("signature", "legal_representative_authorisation")
        for check in _SIGNATURE_CHECKS
    ),
    "grantee_kind_not_allowed",
    "request_date_required",
    "request_date_in_future",
    "grantee_email_required",
    "grantee_email_invalid",
    "contracts_not_applicable",
    "contracts_required",
    "single_contract_only",
    "contract_not_of_holder",
    "valid_until_before_request_date",
    "valid_until_in_past",
)


@dataclass(frozen=True, slots=True)
class Holder:
    """What the register says about the holder: natural person or legal entity, and the live
    policies on which they are the policyholder."""

    kind: HolderKind
    contracts: tuple[ContractRef, ...]


@dataclass(frozen=True, slots=True)
class Assessment:
    rule: MandateRule | None
    contracts: tuple[
        ContractRef, ...
    ]  # the fixed scope (empty for "all"), as the register spells it
    violations: tuple[Violation, ...]

    @property
    def accepted(self) -> bool:
        return not self.violations


def _address_violations(who: str, person: Person) -> list[Violation]:
    address = person.address
    if address is None or not address.house_number:
        return [Violation(f"{who}_address_required", f"the {_label(who)}'s address is required")]
    if address.country == "NL":
        if not address.postcode:
            return [
                Violation(f"{who}_address_required", f"the {_label(who)}'s postcode is required")
            ]
        if normalise_postcode(address.postcode) is None:
            return [
                Violation(f"{who}_postcode_invalid", f"the {_label(who)}'s postcode is not valid")
            ]
    elif not address.city:
        return [Violation(f"{who}_address_required", f"the {_label(who)}'s city is required")]
    return []


def _label(who: str) -> str:
    return who.replace("_", " ")


def _person_violations(
    who: str, person: Person | None, today: date, *, address_required: bool = True
) -> list[Violation]:
    if person is None:
        return [Violation(f"{who}_required", f"the {_label(who)} is required")]
    found: list[Violation] = []
    if not person.surname:
        found.append(Violation(f"{who}_name_required", f"the {_label(who)}'s name is required"))
    if not person.first_name:
        found.append(
            Violation(f"{who}_first_name_required", f"the {_label(who)}'s first name is required")
        )
    if person.birth_date is None:
        found.append(
            Violation(f"{who}_birth_date_required", f"the {_label(who)}'s birth date is required")
        )
    elif person.birth_date > today:
        found.append(
            Violation(
                f"{who}_birth_date_in_future", f"the {_label(who)}'s birth date is in the future"
            )
        )
    if address_required:
        found.extend(_address_violations(who, person))
    return found


def _signature_violations(who: str, signature: Signature | None, today: date) -> list[Violation]:
    """`who` is "signature" or "legal_representative_authorisation"."""
    label = _label(who)
    if signature is None:
        return [Violation(f"{who}_required", f"the {label} (method, date, form) is required")]
    found: list[Violation] = []
    if signature.method is None:
        found.append(Violation(f"{who}_method_required", f"the {label}'s method is required"))
    if signature.signed_on is None:
        found.append(Violation(f"{who}_date_required", f"the {label}'s date is required"))
    elif signature.signed_on > today:
        found.append(Violation(f"{who}_date_in_future", f"the {label}'s date is in the future"))
    if not signature.form_reference:
        found.append(
            Violation(
                f"{who}_form_reference_required",
                f"the {label} needs a reference to the signed form",
            )
        )
    return found


def _key(contract: ContractRef) -> tuple[str, str]:
    return contract.partner_id, contract.policy_number.upper()


def _scope_violations(
    rule: MandateRule, requested: Sequence[ContractRef], holder: Holder
) -> tuple[tuple[ContractRef, ...], list[Violation]]:
    if rule.scope == "all":
        if requested:
            return (), [
                Violation(
                    "contracts_not_applicable",
                    "this mandate covers all current and future contracts: list none",
                )
            ]
        return (), []
    if not requested:
        return (), [Violation("contracts_required", "list the contracts the mandate covers")]
    owned = {_key(c): c for c in holder.contracts}
    chosen = list(dict.fromkeys(_key(c) for c in requested))
    found: list[Violation] = []
    if rule.scope == "single" and len(chosen) > 1:
        found.append(
            Violation(
                "single_contract_only",
                "an insured person's mandate covers exactly the one contract they are insured on",
            )
        )
    foreign = [key for key in chosen if key not in owned]
    if foreign:
        found.append(
            Violation(
                "contract_not_of_holder",
                f"{len(foreign)} listed contract(s) are not live contracts of the policyholder",
            )
        )
    return tuple(owned[key] for key in chosen if key in owned), found


def assess_request(request: MandateRequest, holder: Holder, today: date) -> Assessment:
    """Every rule the request breaks (empty when it is complete for its kind of mandate), and
    the fixed contract scope it asks for."""
    rule = rule_for(holder.kind, request.grantee_kind)
    if rule is None:
        allowed = ", ".join(grantee_kinds(holder.kind))
        return Assessment(
            None,
            (),
            (
                Violation(
                    "grantee_kind_not_allowed",
                    f"for a {_label(holder.kind)} the grantee is one of: {allowed}",
                ),
            ),
        )
    found: list[Violation] = []
    found += _person_violations("requester", request.requester, today)
    if request.request_date is None:
        found.append(Violation("request_date_required", "the request date is required"))
    elif request.request_date > today:
        found.append(Violation("request_date_in_future", "the request date is in the future"))
    found += _person_violations("grantee", request.grantee, today)
    if request.grantee is not None:
        if not request.grantee.email:
            found.append(
                Violation(
                    "grantee_email_required",
                    "the grantee's e-mail address (it receives the activation link) is required",
                )
            )
        elif mail_address(request.grantee.email) is None:
            found.append(
                Violation(
                    "grantee_email_invalid",
                    "the grantee's e-mail address is not valid or cannot be sent to (only"
                    " letters, digits and punctuation without accents before the @)",
                )
            )
    contracts, scope_violations = _scope_violations(rule, request.contracts, holder)
    found += scope_violations
    if rule.form_required or request.signature is not None:
        found += _signature_violations("signature", request.signature, today)
    if rule.legal_representative_required:
        representative = request.legal_representative
        found += _person_violations(
            "legal_representative", representative, today, address_required=False
        )
        if representative is not None:
            found += _signature_violations(
                "legal_representative_authorisation", representative.authorisation, today
            )
    if (
        request.valid_until is not None
        and request.request_date is not None
        and request.valid_until < request.request_date
    ):
        found.append(
            Violation("valid_until_before_request_date", "the mandate ends before it was asked")
        )
    elif request.valid_until is not None and request.valid_until < today:
        # It could never be approved, and would keep the people on it for nothing.
        found.append(Violation("valid_until_in_past", "the mandate has already ended"))
    return Assessment(rule, contracts, tuple(found))


# --- life cycle ------------------------------------------------------------------------------

# action -> (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[MandateState], MandateState]] = {
    "approve": (frozenset({"submitted"}), "approved"),
    "reject": (frozenset({"submitted"}), "rejected"),
    "revoke": (frozenset({"submitted", "approved", "active"}), "revoked"),
    "resend": (frozenset({"approved"}), "approved"),
    "activate": (frozenset({"approved"}), "active"),
}

_LIVE: frozenset[MandateState] = frozenset({"submitted", "approved", "active"})


def effective_state(state: MandateState, valid_until: date | None, today: date) -> MandateState:
    """The state to act on and show: a live mandate whose end date has passed is `expired`
    (derived when read, like a policy's end date)."""
    if state in _LIVE and valid_until is not None and valid_until < today:
        return "expired"
    return state


def next_state(action: str, current: MandateState) -> MandateState | None:
    """The state `action` leads to from `current`, or None when it is not allowed."""
    sources, target = TRANSITIONS[action]
    return target if current in sources else None


# --- visible contracts -----------------------------------------------------------------------


def visible_contracts(
    scope: Scope, fixed: Iterable[ContractRef], holder_contracts: Iterable[ContractRef]
) -> list[ContractRef]:
    """What an active mandate shows now. "all": the holder's live policies as policyholder
    today. "single"/"listed": the fixed list, and of it only what is still the holder's (a
    contract that ended or changed hands is not shown; the list never grows)."""
    current = {_key(c): c for c in holder_contracts}
    if scope == "all":
        return sorted(current.values(), key=_key)
    return [current[_key(c)] for c in fixed if _key(c) in current]


def contract_is_current(
    status: str, end_date: date | None, ended_on: date | None, today: date
) -> bool:
    """A contract a mandate may show today: not past its end date, and not past the day a
    cancellation or a removal from the partner's portfolio took effect (both are the last day
    of cover). A contract that starts later is current too ("current and future")."""
    if end_date is not None and today > end_date:
        return False
    return status == "active" or ended_on is None or today <= ended_on


def hash_token(token: str) -> str:
    """What is stored of an activation token: never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


def stored_state(mandate: Mapping[str, Any], today: date) -> MandateState:
    """The state of a stored mandate item today (`expired` is derived, never stored)."""
    value = mandate.get("valid_until")
    valid_until = date.fromisoformat(value) if value else None
    return effective_state(mandate["state"], valid_until, today)
