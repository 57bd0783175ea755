"""The mandate rules table of docs/mandates.md: every row accepted when complete and refused,
naming the rule, for each missing piece; the life cycle; which contracts a mandate shows."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from chalicelib.models.mandates import ContractRef, MandateRequest
from chalicelib.rules.mandates import (
    RULES,
    VIOLATION_CODES,
    Holder,
    assess_request,
    effective_state,
    next_state,
    rule_for,
    visible_contracts,
)

pytestmark = pytest.mark.unit

TODAY = date(2025, 6, 1)
CLIENT = "c_" + "0" * 24
OWN = ContractRef(partner_id="demo-volmacht", policy_number="RB-1001")
OWN_2 = ContractRef(partner_id="demo-verzekeraar", policy_number="RB-2002")
FOREIGN = ContractRef(partner_id="demo-volmacht", policy_number="RB-9999")
NATURAL = Holder("natural_person", (OWN, OWN_2))
LEGAL = Holder("legal_entity", (OWN, OWN_2))


def person(**extra: Any) -> dict[str, Any]:
    """A complete person on the mandate form (requester, grantee)."""
    return {
        "surname": "Berg",
        "tussenvoegsels": "van der",
        "first_name": "Anna",
        "birth_date": "1980-02-03",
        "address": {"street": "Dorpsstraat", "house_number": "12", "postcode": "1234 AB"},
        **extra,
    }


def _signature() -> dict[str, Any]:
    return {"method": "eid", "signed_on": "2025-05-30", "form_reference": "FORM-2025-001"}


def complete_request(holder: Holder, grantee_kind: str) -> dict[str, Any]:
    """A request with everything its row of the table asks for."""
    rule = rule_for(holder.kind, grantee_kind)  # type: ignore[arg-type]
    assert rule is not None
    body: dict[str, Any] = {
        "client_id": CLIENT,
        "grantee_kind": grantee_kind,
        "requester": person(),
        "request_date": "2025-05-31",
        "grantee": person(first_name="Bram", email="bram@example.nl"),
    }
    if rule.scope == "single":
        body["contracts"] = [OWN.model_dump()]
    elif rule.scope == "listed":
        body["contracts"] = [OWN.model_dump(), OWN_2.model_dump()]
    if rule.form_required:
        body["signature"] = _signature()
    if rule.legal_representative_required:
        body["legal_representative"] = {
            "surname": "Jansen",
            "first_name": "Carla",
            "birth_date": "1970-01-01",
            "authorisation": _signature(),
        }
    return body


def _holder(kind: str) -> Holder:
    return NATURAL if kind == "natural_person" else LEGAL


def _codes(body: dict[str, Any], holder: Holder) -> list[str]:
    assessment = assess_request(MandateRequest.model_validate(body), holder, TODAY)
    return [v.code for v in assessment.violations]


ROWS = [pytest.param(r.holder, r.grantee, id=f"{r.holder}-{r.grantee}") for r in RULES]


def _without(body: dict[str, Any], path: str) -> dict[str, Any]:
    """`body` with the value at dotted `path` removed."""
    copy: dict[str, Any] = {k: (dict(v) if isinstance(v, dict) else v) for k, v in body.items()}
    *parents, leaf = path.split(".")
    node = copy
    for name in parents:
        node[name] = dict(node[name])
        node = node[name]
    del node[leaf]
    return copy


PIECES_OF_EVERY_REQUEST = [
    ("requester", "requester_required"),
    ("requester.surname", "requester_name_required"),
    ("requester.first_name", "requester_first_name_required"),
    ("requester.birth_date", "requester_birth_date_required"),
    ("requester.address", "requester_address_required"),
    ("request_date", "request_date_required"),
    ("grantee", "grantee_required"),
    ("grantee.surname", "grantee_name_required"),
    ("grantee.first_name", "grantee_first_name_required"),
    ("grantee.birth_date", "grantee_birth_date_required"),
    ("grantee.address", "grantee_address_required"),
    ("grantee.email", "grantee_email_required"),
]


@pytest.mark.parametrize(("holder_kind", "grantee_kind"), ROWS)
def test_a_complete_request_is_accepted_for_every_row_of_the_table(
    holder_kind: str, grantee_kind: str
) -> None:
    # given a request with everything its row asks for
    holder = _holder(holder_kind)
    body = complete_request(holder, grantee_kind)

    # when it is assessed
    assessment = assess_request(MandateRequest.model_validate(body), holder, TODAY)

    # then nothing is wrong with it and the scope follows the row
    assert assessment.violations == ()
    assert assessment.rule == rule_for(holder.kind, grantee_kind)  # type: ignore[arg-type]
    expected = {"all": (), "single": (OWN,), "listed": (OWN, OWN_2)}
    assert assessment.contracts == expected[assessment.rule.scope]  # type: ignore[union-attr]


@pytest.mark.parametrize(("holder_kind", "grantee_kind"), ROWS)
@pytest.mark.parametrize(("path", "code"), PIECES_OF_EVERY_REQUEST)
def test_a_request_missing_a_piece_every_mandate_records_is_refused_naming_it(
    holder_kind: str, grantee_kind: str, path: str, code: str
) -> None:
    holder = _holder(holder_kind)
    body = _without(complete_request(holder, grantee_kind), path)

    assert _codes(body, holder) == [code]


FORM_ROWS = [
    pytest.param(r.holder, r.grantee, id=f"{r.holder}-{r.grantee}")
    for r in RULES
    if r.form_required
]


@pytest.mark.parametrize(("holder_kind", "grantee_kind"), FORM_ROWS)
@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("signature", "signature_required"),
        ("signature.method", "signature_method_required"),
        ("signature.signed_on", "signature_date_required"),
        ("signature.form_reference", "signature_form_reference_required"),
    ],
)
def test_a_row_that_needs_a_signed_form_refuses_a_request_without_a_complete_signature(
    holder_kind: str, grantee_kind: str, path: str, code: str
) -> None:
    holder = _holder(holder_kind)
    body = _without(complete_request(holder, grantee_kind), path)

    assert _codes(body, holder) == [code]


def test_the_policyholder_needs_no_signed_form() -> None:
    body = complete_request(NATURAL, "policyholder")
    assert "signature" not in body

    assert _codes(body, NATURAL) == []


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("legal_representative", "legal_representative_required"),
        ("legal_representative.surname", "legal_representative_name_required"),
        ("legal_representative.first_name", "legal_representative_first_name_required"),
        ("legal_representative.birth_date", "legal_representative_birth_date_required"),
        ("legal_representative.authorisation", "legal_representative_authorisation_required"),
        (
            "legal_representative.authorisation.method",
            "legal_representative_authorisation_method_required",
        ),
        (
            "legal_representative.authorisation.signed_on",
            "legal_representative_authorisation_date_required",
        ),
        (
            "legal_representative.authorisation.form_reference",
            "legal_representative_authorisation_form_reference_required",
        ),
    ],
)
def test_someone_else_for_a_legal_entity_needs_the_legal_representatives_details_and_authority(
    path: str, code: str
) -> None:
    body = _without(complete_request(LEGAL, "someone_else"), path)

    assert _codes(body, LEGAL) == [code]


@pytest.mark.parametrize(
    ("holder", "grantee_kind"),
    [
        (NATURAL, "legal_representative"),
        (LEGAL, "policyholder"),
        (LEGAL, "insured_person"),
    ],
)
def test_a_grantee_kind_outside_the_table_is_refused(holder: Holder, grantee_kind: str) -> None:
    body = complete_request(NATURAL, "someone_else") | {"grantee_kind": grantee_kind}

    assert _codes(body, holder) == ["grantee_kind_not_allowed"]


@pytest.mark.parametrize(
    ("holder", "grantee_kind"),
    [(NATURAL, "insured_person"), (NATURAL, "someone_else"), (LEGAL, "someone_else")],
)
def test_a_fixed_scope_needs_contracts(holder: Holder, grantee_kind: str) -> None:
    body = complete_request(holder, grantee_kind) | {"contracts": []}

    assert _codes(body, holder) == ["contracts_required"]


def test_an_insured_persons_mandate_covers_a_single_contract_only() -> None:
    body = complete_request(NATURAL, "insured_person") | {
        "contracts": [OWN.model_dump(), OWN_2.model_dump()]
    }

    assert _codes(body, NATURAL) == ["single_contract_only"]


def test_a_listed_contract_that_is_not_the_holders_is_refused() -> None:
    body = complete_request(NATURAL, "someone_else") | {
        "contracts": [OWN.model_dump(), FOREIGN.model_dump()]
    }

    assert _codes(body, NATURAL) == ["contract_not_of_holder"]


@pytest.mark.parametrize(
    ("holder", "grantee_kind"), [(NATURAL, "policyholder"), (LEGAL, "legal_representative")]
)
def test_an_all_contracts_mandate_lists_no_contracts(holder: Holder, grantee_kind: str) -> None:
    body = complete_request(holder, grantee_kind) | {"contracts": [OWN.model_dump()]}

    assert _codes(body, holder) == ["contracts_not_applicable"]


def test_listed_contracts_match_the_register_regardless_of_case_and_duplicates() -> None:
    body = complete_request(NATURAL, "someone_else") | {
        "contracts": [
            {"partner_id": "demo-volmacht", "policy_number": "rb-1001"},
            OWN.model_dump(),
        ]
    }

    assessment = assess_request(MandateRequest.model_validate(body), NATURAL, TODAY)

    assert assessment.violations == ()
    assert assessment.contracts == (OWN,)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"grantee": person(email="not-an-address")}, "grantee_email_invalid"),
        ({"grantee": person(email="jöran@example.nl")}, "grantee_email_invalid"),
        ({"request_date": "2025-06-02"}, "request_date_in_future"),
        ({"requester": person(birth_date="2030-01-01")}, "requester_birth_date_in_future"),
        (
            {"requester": person(address={"house_number": "1", "postcode": "0000XX"})},
            "requester_postcode_invalid",
        ),
        (
            {"requester": person(address={"house_number": "1", "country": "BE"})},
            "requester_address_required",
        ),
        (
            {"signature": _signature() | {"signed_on": "2025-07-01"}},
            "signature_date_in_future",
        ),
        ({"valid_until": "2025-01-01"}, "valid_until_before_request_date"),
        ({"request_date": "2025-05-20", "valid_until": "2025-05-31"}, "valid_until_in_past"),
    ],
)
def test_implausible_values_are_refused_naming_the_rule(change: dict[str, Any], code: str) -> None:
    body = complete_request(NATURAL, "someone_else") | change
    if "grantee" in change:
        body["grantee"] = change["grantee"] | {"first_name": "Bram"}

    assert _codes(body, NATURAL) == [code]


def test_a_foreign_address_needs_a_city_instead_of_a_postcode() -> None:
    body = complete_request(NATURAL, "policyholder")
    body["requester"] = person(address={"house_number": "3", "city": "Antwerpen", "country": "BE"})

    assert _codes(body, NATURAL) == []


# --- life cycle ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "current", "expected"),
    [
        ("approve", "submitted", "approved"),
        ("reject", "submitted", "rejected"),
        ("activate", "approved", "active"),
        ("resend", "approved", "approved"),
        ("revoke", "submitted", "revoked"),
        ("revoke", "approved", "revoked"),
        ("revoke", "active", "revoked"),
        ("approve", "approved", None),
        ("approve", "active", None),
        ("approve", "rejected", None),
        ("reject", "approved", None),
        ("activate", "submitted", None),
        ("activate", "active", None),
        ("activate", "revoked", None),
        ("resend", "active", None),
        ("resend", "submitted", None),
        ("revoke", "revoked", None),
        ("revoke", "expired", None),
        ("approve", "expired", None),
    ],
)
def test_the_life_cycle_allows_only_its_transitions(
    action: str, current: str, expected: str | None
) -> None:
    assert next_state(action, current) == expected  # type: ignore[arg-type]


def test_a_live_mandate_past_its_end_date_is_expired_and_a_closed_one_keeps_its_state() -> None:
    yesterday = date(2025, 5, 31)

    assert effective_state("active", yesterday, TODAY) == "expired"
    assert effective_state("approved", yesterday, TODAY) == "expired"
    assert effective_state("active", TODAY, TODAY) == "active"
    assert effective_state("active", None, TODAY) == "active"
    assert effective_state("revoked", yesterday, TODAY) == "revoked"


# --- visible contracts -----------------------------------------------------------------------


def test_an_all_mandate_shows_every_current_contract_of_the_holder_including_new_ones() -> None:
    new = ContractRef(partner_id="demo-intermediair", policy_number="NEW-1")

    shown = visible_contracts("all", (), (OWN, OWN_2, new))

    assert shown == sorted([OWN, OWN_2, new], key=lambda c: (c.partner_id, c.policy_number))


def test_a_listed_mandate_never_grows_and_drops_what_is_no_longer_the_holders() -> None:
    new = ContractRef(partner_id="demo-intermediair", policy_number="NEW-1")

    shown = visible_contracts("listed", (OWN, OWN_2), (OWN, new))

    assert shown == [OWN]


@pytest.mark.parametrize(
    ("status", "end_date", "ended_on", "current"),
    [
        ("active", None, None, True),
        ("active", date(2026, 6, 30), None, True),  # the end date is the last day of cover
        ("active", date(2026, 6, 29), None, False),
        ("cancelled", date(2026, 7, 31), date(2026, 7, 31), True),  # cancelled, cover runs on
        ("cancelled", date(2026, 6, 29), date(2026, 6, 29), False),
        ("removed_from_portfolio", None, date(2026, 6, 30), True),  # removed today
        ("removed_from_portfolio", None, date(2026, 6, 29), False),
    ],
)
def test_a_contract_is_current_until_its_last_day_of_cover(status, end_date, ended_on, current):
    from chalicelib.rules.mandates import contract_is_current

    assert contract_is_current(status, end_date, ended_on, date(2026, 6, 30)) is current


def _variants(value: Any) -> list[Any]:
    """`value` with one piece left out, emptied or moved into the future, at every depth."""
    if isinstance(value, dict):
        found: list[Any] = []
        for key, inner in value.items():
            found.append({k: v for k, v in value.items() if k != key})
            found += [{**value, key: variant} for variant in _variants(inner)]
        return found
    if isinstance(value, list):
        return [[], *([v] for item in value for v in _variants(item))]
    if isinstance(value, str) and value[:4].isdigit() and value[4:5] == "-":
        return ["2999-01-01"]
    if isinstance(value, str):
        return ["", "x"]
    return []


def test_every_violation_the_rules_find_is_one_the_api_contract_lists():
    # given every row of the table with each piece of its request left out, emptied or future
    seen: set[str] = set()
    for rule in RULES:
        holder = _holder(rule.holder)
        base = complete_request(holder, rule.grantee)
        other_kinds = [{**base, "grantee_kind": kind} for kind in ("policyholder", "someone_else")]
        for body in [base, *other_kinds, *_variants(base)]:
            try:
                request = MandateRequest.model_validate(body)
            except ValueError:
                continue  # refused by the model (422 validation_failed), not by a rule
            seen.update(v.code for v in assess_request(request, holder, TODAY).violations)

    # then each code the rules produced is listed, and the variants reached most of them
    assert seen <= set(VIOLATION_CODES), seen - set(VIOLATION_CODES)
    assert len(seen) >= 25
