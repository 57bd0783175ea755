"""Coverage rules (docs/api.md, dekkingsbeoordeling): one pure function per rule, combined by
`decide`. No I/O: the service gathers the facts, these functions judge them.

Every rule returns a `Reason` with outcome ``pass``, ``fail`` or ``warn`` and a Dutch and an
English text a call-centre agent can read out. A failing rule maps to the decision in
`FAILURE_DECISION`; `decide` takes the most severe one (`not_covered` > `review` >
`advice_only`), so a case that is certainly not covered is never sent to review, and a late
report of a small claim is still looked at by a person.

Boundaries (calendar months: `chalicelib.rules.dates.add_months` clamps to the month's end):

* in force: ``start_date <= event_date <= end_date`` (the end date is the last day of cover),
  and for a cancelled or removed policy ``event_date <= ended_on``.
* waiting period: the period of N months starting on ``start_date`` covers the days *before*
  ``add_months(start_date, N)``; an event *on* that day has passed the waiting period.
  Start 2024-01-15, 3 months: an event on 2024-04-14 falls in it, one on 2024-04-15 does not.
* notification: a report *on* ``add_months(event_date, N)`` is in time, a day later is late.
* minimum amount: an amount equal to the minimum is enough.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from chalicelib.models.coverage import (
    Address,
    Asker,
    Assessment,
    CoverageParams,
    CoverageQuestion,
    Decision,
    Objection,
    PolicyFacts,
    Reason,
)
from chalicelib.rules.dates import add_months

# Which module covers which legal area (docs/api.md, rule 3).
MODULE_FOR_AREA: dict[str, str] = {
    "verkeer": "VK",
    "consument": "WC",
    "wonen": "WC",
    "werk": "IN",
    "inkomen": "IN",
    "fiscaal": "FV",
    "vermogen": "FV",
    "familie": "RP",
}
MODULE_NAMES: dict[str, tuple[str, str]] = {
    "RP": ("Basis", "basic"),
    "VK": ("Verkeer", "traffic"),
    "WC": ("Consument & Wonen", "consumer & housing"),
    "IN": ("Werk & Inkomen", "work & income"),
    "FV": ("Fiscaal & Vermogen", "tax & assets"),
}
AREAS_WITHOUT_WAITING_PERIOD = frozenset({"verkeer"})
# ADNGEZ household composition codes under which household members are insured.
HOUSEHOLD_INSURED = frozenset({"H", "I", "K"})

RULE_POLICY_KNOWN = "policy_known"
RULE_IN_FORCE = "policy_in_force"
RULE_MODULE = "module_covers_legal_area"
RULE_WAITING_PERIOD = "waiting_period"
RULE_NOTIFICATION = "reported_in_time"
RULE_MIN_AMOUNT = "minimum_claim_amount"
RULE_INSURED_PERSON = "asker_is_insured"

FAILURE_DECISION: dict[str, Decision] = {
    RULE_POLICY_KNOWN: "review",
    RULE_IN_FORCE: "not_covered",
    RULE_MODULE: "not_covered",
    RULE_WAITING_PERIOD: "not_covered",
    RULE_NOTIFICATION: "review",
    RULE_MIN_AMOUNT: "advice_only",
    RULE_INSURED_PERSON: "review",
}
SEVERITY: dict[Decision, int] = {"covered": 0, "advice_only": 1, "review": 2, "not_covered": 3}

# What a client can do when they disagree (configurable text; {weeks} is filled in).
RECONSIDERATION_WEEKS = 6
OBJECTION_NL = (
    "Bent u het niet eens met dit besluit? Vraag dan binnen {weeks} weken om heroverweging. "
    "Blijft u het oneens, dan kunt u een klacht indienen volgens de klachtenprocedure van de "
    "verzekeraar, en daarna binnen drie maanden na het definitieve antwoord bij het "
    "Klachteninstituut Financiële Dienstverlening (Kifid)."
)
OBJECTION_EN = (
    "If you disagree with this decision, ask for a reconsideration within {weeks} weeks. If you "
    "still disagree, you can complain through the insurer's complaints procedure and then, "
    "within three months of its final answer, to the Dutch Financial Services Complaints "
    "Institute (Kifid)."
)
OBJECTION_STEPS: tuple[tuple[str, str, str], ...] = (
    (
        "reconsideration",
        "Vraag binnen {weeks} weken schriftelijk om heroverweging, met uw argumenten.",
        "Ask in writing for a reconsideration within {weeks} weeks, with your arguments.",
    ),
    (
        "complaint",
        "Dien een klacht in via de klachtenprocedure van de verzekeraar.",
        "File a complaint through the insurer's complaints procedure.",
    ),
    (
        "kifid",
        "Leg de klacht binnen drie maanden na het definitieve antwoord voor aan Kifid "
        "(www.kifid.nl).",
        "Submit the complaint to Kifid (www.kifid.nl) within three months of the final answer.",
    ),
)


def shown_status(policy: Mapping[str, Any], today: date) -> str:
    """The status a reader sees of a stored policy item today."""
    end = policy.get("end_date")
    return display_status(
        str(policy.get("status", "active")), date.fromisoformat(end) if end else None, today
    )


def policy_ref_id(partner_id: str, policy_number: str) -> str:
    """How a policy is named in audit entries."""
    return f"{partner_id}/{policy_number}"


def display_status(status: str, end_date: date | None, today: date) -> str:
    """The status to show: the stored status, or ``ended`` for an active policy whose end date
    has passed (derived at read time, never stored). The end date itself is still in force."""
    if status == "active" and end_date is not None and end_date < today:
        return "ended"
    return status


def _nl(d: date) -> str:
    return d.strftime("%d-%m-%Y")


def euro_nl(amount: float) -> str:
    """An amount as Dutch readers write it: ``2500`` -> ``€ 2.500,00``."""
    grouped = f"{amount:,.2f}"  # 2,500.00: swap the separators
    return "€ " + grouped.replace(",", "_").replace(".", ",").replace("_", ".")


def euro_en(amount: float) -> str:
    """An amount as English readers write it: ``2500`` -> ``EUR 2,500.00``."""
    return f"EUR {amount:,.2f}"


def _reason(rule: str, passed: bool, nl: str, en: str) -> Reason:
    return Reason(rule=rule, outcome="pass" if passed else "fail", message_nl=nl, message_en=en)


# --- the seven rules ----------------------------------------------------------------------------


def rule_policy_known(policy: PolicyFacts | None) -> Reason:
    """1. The policy is in the register (data past its retention is invisible, so unknown)."""
    if policy is None:
        return _reason(
            RULE_POLICY_KNOWN,
            False,
            "De polis is niet bekend in het register; de intake gaat door en de dekking wordt "
            "handmatig beoordeeld.",
            "The policy is not known in the register; intake continues and coverage is "
            "reviewed manually.",
        )
    return _reason(
        RULE_POLICY_KNOWN,
        True,
        f"Polis {policy.policy_number} is bekend bij {policy.partner_id}.",
        f"Policy {policy.policy_number} is known at {policy.partner_id}.",
    )


def rule_in_force(policy: PolicyFacts, event_date: date) -> Reason:
    """2. In force on the event date: start <= event <= end date, and not after the date a
    cancelled or removed policy ended (both end dates are the last day of cover)."""
    if event_date < policy.start_date:
        return _reason(
            RULE_IN_FORCE,
            False,
            f"De gebeurtenis ({_nl(event_date)}) ligt vóór de ingangsdatum van de polis "
            f"({_nl(policy.start_date)}).",
            f"The event ({event_date}) is before the policy's start date ({policy.start_date}).",
        )
    if policy.end_date is not None and event_date > policy.end_date:
        return _reason(
            RULE_IN_FORCE,
            False,
            f"De gebeurtenis ({_nl(event_date)}) ligt na de einddatum van de polis "
            f"({_nl(policy.end_date)}).",
            f"The event ({event_date}) is after the policy's end date ({policy.end_date}).",
        )
    if policy.status != "active" and policy.ended_on is not None and event_date > policy.ended_on:
        return _reason(
            RULE_IN_FORCE,
            False,
            f"De polis is beëindigd op {_nl(policy.ended_on)}, vóór de gebeurtenis "
            f"({_nl(event_date)}).",
            f"The policy ended on {policy.ended_on}, before the event ({event_date}).",
        )
    return _reason(
        RULE_IN_FORCE,
        True,
        f"De polis was van kracht op {_nl(event_date)}.",
        f"The policy was in force on {event_date}.",
    )


def rule_module_covers(policy: PolicyFacts, legal_area: str) -> Reason:
    """3. A module of the policy covers the legal area (`MODULE_FOR_AREA`)."""
    module = MODULE_FOR_AREA[legal_area]
    nl_name, en_name = MODULE_NAMES[module]
    if module in policy.modules:
        return _reason(
            RULE_MODULE,
            True,
            f"Het rechtsgebied {legal_area} valt onder de module {nl_name} ({module}).",
            f"The legal area {legal_area} is covered by the {en_name} module ({module}).",
        )
    return _reason(
        RULE_MODULE,
        False,
        f"Het rechtsgebied {legal_area} vraagt de module {nl_name} ({module}); die is niet "
        f"meeverzekerd (modules: {', '.join(policy.modules) or 'geen'}).",
        f"The legal area {legal_area} needs the {en_name} module ({module}), which the policy "
        f"does not include (modules: {', '.join(policy.modules) or 'none'}).",
    )


def rule_waiting_period(
    policy: PolicyFacts, event_date: date, legal_area: str, months: int
) -> Reason:
    """4. The waiting period of `months` after the start date has passed on the event date:
    passed when ``event_date >= add_months(start_date, months)``. `verkeer` has none."""
    if legal_area in AREAS_WITHOUT_WAITING_PERIOD or months == 0:
        return _reason(
            RULE_WAITING_PERIOD,
            True,
            f"Voor {legal_area} geldt geen wachttijd.",
            f"No waiting period applies to {legal_area}.",
        )
    ends = add_months(policy.start_date, months)
    if event_date >= ends:
        return _reason(
            RULE_WAITING_PERIOD,
            True,
            f"De wachttijd van {months} maanden was voorbij op {_nl(ends)}.",
            f"The waiting period of {months} months was over on {ends}.",
        )
    return _reason(
        RULE_WAITING_PERIOD,
        False,
        f"De gebeurtenis ({_nl(event_date)}) valt in de wachttijd van {months} maanden, die "
        f"eindigt op {_nl(ends)}.",
        f"The event ({event_date}) falls within the waiting period of {months} months, which "
        f"ends on {ends}.",
    )


def rule_reported_in_time(event_date: date, reported_date: date, months: int) -> Reason:
    """5. Reported within `months` of the event: in time when
    ``reported_date <= add_months(event_date, months)``. A late report is reviewed, not refused."""
    deadline = add_months(event_date, months)
    if reported_date <= deadline:
        return _reason(
            RULE_NOTIFICATION,
            True,
            f"Gemeld binnen {months} maanden na de gebeurtenis (uiterlijk {_nl(deadline)}).",
            f"Reported within {months} months of the event (by {deadline}).",
        )
    return _reason(
        RULE_NOTIFICATION,
        False,
        f"Gemeld na de termijn van {months} maanden (uiterlijk {_nl(deadline)}); een "
        f"behandelaar beoordeelt of de late melding de verzekeraar heeft benadeeld.",
        f"Reported after the {months}-month term (deadline {deadline}); a claims handler "
        f"reviews whether the late report harmed the insurer.",
    )


def rule_minimum_amount(amount: float | None, minimum: float) -> Reason:
    """6. The amount at stake is at least `minimum` (equal is enough). Without an amount the
    rule warns and does not change the decision."""
    if amount is None:
        return Reason(
            rule=RULE_MIN_AMOUNT,
            outcome="warn",
            message_nl=f"Geen financieel belang opgegeven; onder {euro_nl(minimum)} is alleen "
            f"advies mogelijk.",
            message_en=f"No amount at stake given; below {euro_en(minimum)} only advice is given.",
        )
    if amount >= minimum:
        return _reason(
            RULE_MIN_AMOUNT,
            True,
            f"Het financieel belang ({euro_nl(amount)}) is minstens {euro_nl(minimum)}.",
            f"The amount at stake ({euro_en(amount)}) is at least {euro_en(minimum)}.",
        )
    return _reason(
        RULE_MIN_AMOUNT,
        False,
        f"Het financieel belang ({euro_nl(amount)}) is lager dan {euro_nl(minimum)}: "
        f"alleen advies.",
        f"The amount at stake ({euro_en(amount)}) is below {euro_en(minimum)}: advice only.",
    )


def _policyholder_address(policy: PolicyFacts) -> Address | None:
    for party in policy.parties:
        if party.role == "VP":
            return party.address
    return None


def rule_asker_insured(policy: PolicyFacts, asker: Asker | None) -> Reason:
    """7. The person asking is a party on the policy, or a household member when `PP_GEZIN`
    (household) is H, I or K.

    Household membership is not delivered as such; the register can only see where people
    live. An asker who is not a party counts as a household member when the policy's household
    code insures the household *and* the register holds the asker at the policyholder's home
    (same postcode and house number; additions must agree when both are known).

    Without a `client_id` the asker is not identified: the rule warns (the agent checks who is
    calling) and does not change the decision. An unknown `client_id` fails (review)."""
    if asker is None:
        return Reason(
            rule=RULE_INSURED_PERSON,
            outcome="warn",
            message_nl="De vrager is niet geïdentificeerd; controleer of de vrager "
            "verzekeringnemer of medeverzekerde is.",
            message_en="The person asking was not identified; check that they are the "
            "policyholder or an insured person.",
        )
    roles = {p.role for p in policy.parties if p.client_id == asker.client_id}
    if roles:
        role = sorted(roles)[0]
        return _reason(
            RULE_INSURED_PERSON,
            True,
            f"De vrager staat op de polis (rol {role}).",
            f"The person asking is on the policy (role {role}).",
        )
    if asker.address is None:
        return _reason(
            RULE_INSURED_PERSON,
            False,
            "De vrager is niet bekend in het register en staat niet op de polis.",
            "The person asking is not known in the register and is not on the policy.",
        )
    household = (policy.household or "").upper()
    if household not in HOUSEHOLD_INSURED:
        return _reason(
            RULE_INSURED_PERSON,
            False,
            "De vrager staat niet op de polis en gezinsleden zijn niet meeverzekerd "
            f"(gezinssamenstelling {household or 'onbekend'}).",
            "The person asking is not on the policy and household members are not insured "
            f"(household code {household or 'unknown'}).",
        )
    home = _policyholder_address(policy)
    if home is not None and home.same_home(asker.address):
        return _reason(
            RULE_INSURED_PERSON,
            True,
            f"De vrager woont op het adres van de verzekeringnemer en gezinsleden zijn "
            f"meeverzekerd (gezinssamenstelling {household}).",
            f"The person asking lives at the policyholder's address and household members are "
            f"insured (household code {household}).",
        )
    return _reason(
        RULE_INSURED_PERSON,
        False,
        "Gezinsleden zijn meeverzekerd, maar de vrager woont volgens het register niet op het "
        "adres van de verzekeringnemer.",
        "Household members are insured, but according to the register the person asking does "
        "not live at the policyholder's address.",
    )


# --- combining ----------------------------------------------------------------------------------


def objection(weeks: int = RECONSIDERATION_WEEKS) -> Objection:
    return Objection(
        reconsideration_weeks=weeks,
        message_nl=OBJECTION_NL.format(weeks=weeks),
        message_en=OBJECTION_EN.format(weeks=weeks),
        steps=tuple(
            (step, nl.format(weeks=weeks), en.format(weeks=weeks))
            for step, nl, en in OBJECTION_STEPS
        ),
    )


def decide(reasons: Iterable[Reason]) -> Assessment:
    """The decision of a set of rule outcomes: the most severe decision of a failing rule, or
    `covered`. Warnings never change it. An objection route comes with `not_covered` and
    `advice_only` (both refuse full cover); `review` is not a decision yet."""
    evaluated = tuple(reasons)
    decision: Decision = "covered"
    for reason in evaluated:
        if reason.outcome == "fail":
            candidate = FAILURE_DECISION[reason.rule]
            if SEVERITY[candidate] > SEVERITY[decision]:
                decision = candidate
    refused = decision in ("not_covered", "advice_only")
    return Assessment(
        decision=decision, reasons=evaluated, objection=objection() if refused else None
    )


def assess(
    policy: PolicyFacts | None,
    question: CoverageQuestion,
    asker: Asker | None,
    params: CoverageParams,
) -> Assessment:
    """Evaluate every rule that can be evaluated and decide. With an unknown policy only the
    rules that do not need the policy (notification, amount) are evaluated besides rule 1."""
    reasons = [rule_policy_known(policy)]
    if policy is not None:
        reasons += [
            rule_in_force(policy, question.event_date),
            rule_module_covers(policy, question.legal_area),
            rule_waiting_period(
                policy, question.event_date, question.legal_area, params.waiting_period_months
            ),
        ]
    reasons += [
        rule_reported_in_time(
            question.event_date, question.reported_date, params.claim_notification_months
        ),
        rule_minimum_amount(question.claim_amount_eur, params.min_claim_amount_eur),
    ]
    if policy is not None:
        reasons.append(rule_asker_insured(policy, asker))
    return decide(reasons)
