"""Coverage check (`POST /v1/coverage-checks`): gather the facts, let the pure rules of
`chalicelib/rules/coverage.py` decide, audit, answer.

Reads: one Query on the policy partition (policy + parties); when a `client_id` is given that is
not a party on the policy, one Query on gsi1 ``CLIENT#<id>`` (limit 1) for where the register
holds that person (their address is part of their identity, so any live party item will do),
and then one BatchGetItem of the policy's parties' joins (a party item may still carry an id
joined into the asked one).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from chalicelib.auth import Principal
from chalicelib.clock import register_today
from chalicelib.config import get_settings
from chalicelib.errors import Unprocessable
from chalicelib.models.coverage import (
    Address,
    Asker,
    CoverageCheckRequest,
    CoverageCheckResponse,
    CoverageParams,
    CoverageQuestion,
    ObjectionOut,
    ObjectionStep,
    PolicyFacts,
    PolicyParty,
    ReasonOut,
)
from chalicelib.rules.coverage import assess, policy_ref_id, shown_status
from chalicelib.services.audit import record_audit
from chalicelib.services.dossier import read_policy, under_surviving_ids
from chalicelib.store.identity import DynamoIdentities


def _date(value: Any) -> date | None:
    return date.fromisoformat(str(value)) if value else None


def _address(item: Mapping[str, Any]) -> Address:
    return Address(
        postcode=item.get("postcode"),
        house_number=item.get("house_number"),
        house_number_addition=item.get("house_number_addition"),
    )


def policy_facts(policy: Mapping[str, Any], parties: list[dict[str, Any]]) -> PolicyFacts:
    start = _date(policy.get("start_date"))
    assert start is not None, "the ingest requires a start date"
    return PolicyFacts(
        partner_id=str(policy["partner_id"]),
        policy_number=str(policy["policy_number"]),
        start_date=start,
        modules=tuple(policy.get("modules") or ()),
        status=str(policy.get("status", "active")),
        end_date=_date(policy.get("end_date")),
        ended_on=_date(policy.get("ended_on")),
        household=policy.get("household"),
        conditions=policy.get("conditions"),
        clauses=tuple(policy.get("clauses") or ()),
        parties=tuple(
            PolicyParty(str(p["client_id"]), str(p.get("role", "VP")), _address(p)) for p in parties
        ),
    )


def _asker(client_id: str | None, policy: PolicyFacts | None) -> Asker | None:
    """The asker as a party of the policy, else with the address they are registered at. An
    id joined into another (docs/architecture.md, "client_id") is the client it was joined
    into: the one Query on the client index that finds an address also says so."""
    if client_id is None:
        return None

    def as_party(asking: str) -> Asker | None:
        for party in policy.parties if policy is not None else ():
            if party.client_id == asking:
                return Asker(asking, party.address)
        return None

    found = as_party(client_id)
    if found is not None:
        return found
    index = DynamoIdentities().asker_index(client_id)
    if index.joined_into is not None:
        found = as_party(index.joined_into)
        if found is not None:
            return found
    if policy is not None and policy.parties:
        # A party item keeps an id joined into the asked one until its partner delivers it
        # again, while the search and the dossier show the surviving id: the one the JSC asks
        # with. One BatchGetItem of the parties' joins.
        now_known = under_surviving_ids([{"client_id": p.client_id} for p in policy.parties])
        for party, known in zip(policy.parties, now_known, strict=True):
            if known["client_id"] in (client_id, index.joined_into):
                return Asker(party.client_id, party.address)
    return Asker(client_id, _address(index.parties[0]) if index.parties else None)


def check_coverage(
    principal: Principal, route: str, request: CoverageCheckRequest
) -> CoverageCheckResponse:
    settings = get_settings()
    if request.partner_id not in settings.partners:
        raise Unprocessable("unknown partner_id", code="unknown_partner")
    today = register_today()
    reported = request.reported_date or today
    if request.event_date > reported:
        raise Unprocessable(
            "event_date is after the reported date (default today)", code="event_after_report"
        )
    policy_item, parties = read_policy(request.partner_id, request.policy_number)
    facts = policy_facts(policy_item, parties) if policy_item is not None else None
    question = CoverageQuestion(
        event_date=request.event_date,
        reported_date=reported,
        legal_area=request.legal_area,
        claim_amount_eur=request.claim_amount_eur,
    )
    params = CoverageParams(
        waiting_period_months=settings.waiting_period_months,
        claim_notification_months=settings.claim_notification_months,
        min_claim_amount_eur=settings.min_claim_amount_eur,
    )
    assessment = assess(facts, question, _asker(request.client_id, facts), params)
    objection = assessment.objection
    response = CoverageCheckResponse(
        decision=assessment.decision,
        partner_id=request.partner_id,
        policy_number=request.policy_number,
        legal_area=request.legal_area,
        event_date=request.event_date,
        reported_date=reported,
        policy_status=shown_status(policy_item, today) if policy_item is not None else None,
        reasons=[
            ReasonOut(
                rule=r.rule, outcome=r.outcome, message_nl=r.message_nl, message_en=r.message_en
            )
            for r in assessment.reasons
        ],
        conditions=facts.conditions if facts else None,
        clauses=list(facts.clauses) if facts else [],
        objection=ObjectionOut(
            reconsideration_weeks=objection.reconsideration_weeks,
            message_nl=objection.message_nl,
            message_en=objection.message_en,
            steps=[
                ObjectionStep(step=s, message_nl=nl, message_en=en) for s, nl, en in objection.steps
            ],
        )
        if objection is not None
        else None,
    )
    record_audit(
        principal,
        route,
        {
            **request.model_dump(exclude_none=True),
            "reported_date": reported,
            "decision": assessment.decision,
        },
        [policy_ref_id(request.partner_id, request.policy_number)] if facts else [],
    )
    return response
