"""The seven coverage rules of docs/api.md at their boundaries, and how `decide` combines them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from chalicelib.models.coverage import (
    Address,
    Asker,
    CoverageParams,
    CoverageQuestion,
    PolicyFacts,
    PolicyParty,
    Reason,
)
from chalicelib.rules import coverage as rules
from chalicelib.rules.dates import add_months, expires_at

pytestmark = pytest.mark.unit

HOME = Address("1234AB", "12")
HOLDER = "c_" + "a" * 24
PARTNER = "c_" + "b" * 24
STRANGER = "c_" + "c" * 24
PARAMS = CoverageParams(waiting_period_months=3, claim_notification_months=12)


def a_policy(**changes: object) -> PolicyFacts:
    policy = PolicyFacts(
        partner_id="demo-volmacht",
        policy_number="P-1",
        start_date=date(2024, 1, 15),
        modules=("RP", "VK", "WC"),
        household="H",
        conditions="VW2024",
        clauses=("C1",),
        parties=(PolicyParty(HOLDER, "VP", HOME),),
    )
    return replace(policy, **changes)  # type: ignore[arg-type]


def question(**changes: object) -> CoverageQuestion:
    q = CoverageQuestion(
        event_date=date(2024, 6, 1),
        reported_date=date(2024, 6, 2),
        legal_area="consument",
        claim_amount_eur=500.0,
    )
    return replace(q, **changes)  # type: ignore[arg-type]


# --- month arithmetic -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2024, 1, 15), 3, date(2024, 4, 15)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2023, 1, 31), 1, date(2023, 2, 28)),
        (date(2023, 11, 30), 3, date(2024, 2, 29)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 10, 31), 14, date(2025, 12, 31)),
        (date(2024, 5, 5), 0, date(2024, 5, 5)),
    ],
)
def test_adding_months_uses_calendar_months_clamped_to_the_month_end(
    start: date, months: int, expected: date
) -> None:
    assert add_months(start, months) == expected


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(9999, 12, 31), 1, date.max),
        (date(9999, 6, 30), 24, date.max),
        (date(1, 2, 1), -3, date.min),
    ],
)
def test_adding_months_beyond_the_calendar_gives_its_first_or_last_day(
    start: date, months: int, expected: date
) -> None:
    assert add_months(start, months) == expected


def test_a_retention_ending_beyond_the_calendar_expires_on_its_last_day() -> None:
    moment = datetime(9999, 6, 30, 12, 0, tzinfo=UTC)
    assert expires_at(moment, 24) == int(datetime(9999, 12, 31, 12, 0, tzinfo=UTC).timestamp())


def test_a_policy_delivered_as_starting_on_the_last_day_of_the_calendar_is_assessed() -> None:
    # A partner may deliver 9999-12-31 as a start date; its waiting period never ends.
    policy = a_policy(start_date=date(9999, 12, 31))
    assessment = rules.assess(policy, question(event_date=date(9999, 12, 31)), None, PARAMS)
    assert {r.rule for r in assessment.reasons} >= {"waiting_period", "reported_in_time"}


def test_an_active_policy_whose_end_date_passed_is_shown_as_ended_but_not_on_its_end_date() -> None:
    end = date(2024, 12, 31)
    assert rules.display_status("active", end, date(2025, 1, 1)) == "ended"
    assert rules.display_status("active", end, end) == "active"
    assert rules.display_status("cancelled", end, date(2025, 1, 1)) == "cancelled"


# --- rule 1: policy known ---------------------------------------------------------------------


def test_an_unknown_policy_is_sent_to_review_with_the_rules_that_need_no_policy() -> None:
    assessment = rules.assess(None, question(), None, PARAMS)
    assert assessment.decision == "review"
    assert [r.rule for r in assessment.reasons] == [
        rules.RULE_POLICY_KNOWN,
        rules.RULE_NOTIFICATION,
        rules.RULE_MIN_AMOUNT,
    ]
    assert assessment.reasons[0].outcome == "fail"
    assert assessment.objection is None


# --- rule 2: in force -------------------------------------------------------------------------


def test_an_event_on_the_start_date_is_in_force_and_the_day_before_is_not() -> None:
    policy = a_policy()
    assert rules.rule_in_force(policy, date(2024, 1, 15)).outcome == "pass"
    assert rules.rule_in_force(policy, date(2024, 1, 14)).outcome == "fail"


def test_the_end_date_is_the_last_day_of_cover() -> None:
    policy = a_policy(end_date=date(2024, 12, 31))
    assert rules.rule_in_force(policy, date(2024, 12, 31)).outcome == "pass"
    assert rules.rule_in_force(policy, date(2025, 1, 1)).outcome == "fail"


@pytest.mark.parametrize("status", ["cancelled", "removed_from_portfolio"])
def test_an_ended_or_removed_policy_covers_events_up_to_the_day_it_ended(status: str) -> None:
    policy = a_policy(status=status, ended_on=date(2024, 5, 31))
    assert rules.rule_in_force(policy, date(2024, 5, 31)).outcome == "pass"
    reason = rules.rule_in_force(policy, date(2024, 6, 1))
    assert reason.outcome == "fail"
    assert "2024-05-31" in reason.message_en


def test_an_event_after_removal_from_the_portfolio_is_not_covered_with_an_objection_route() -> None:
    policy = a_policy(status="removed_from_portfolio", ended_on=date(2024, 5, 1))
    assessment = rules.assess(policy, question(), None, PARAMS)
    assert assessment.decision == "not_covered"
    assert assessment.objection is not None
    assert "Kifid" in assessment.objection.message_nl
    assert "6 weken" in assessment.objection.message_nl


# --- rule 3: module ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("area", "module"),
    [
        ("verkeer", "VK"),
        ("consument", "WC"),
        ("wonen", "WC"),
        ("werk", "IN"),
        ("inkomen", "IN"),
        ("fiscaal", "FV"),
        ("vermogen", "FV"),
        ("familie", "RP"),
    ],
)
def test_each_legal_area_is_covered_by_exactly_its_module(area: str, module: str) -> None:
    assert rules.rule_module_covers(a_policy(modules=(module,)), area).outcome == "pass"
    others = tuple(m for m in rules.MODULE_NAMES if m != module)
    assert rules.rule_module_covers(a_policy(modules=others), area).outcome == "fail"


# --- rule 4: waiting period -------------------------------------------------------------------


def test_the_waiting_period_ends_on_the_same_day_three_calendar_months_after_the_start() -> None:
    policy = a_policy(start_date=date(2024, 1, 15))
    day_before = rules.rule_waiting_period(policy, date(2024, 4, 14), "wonen", 3)
    on_the_day = rules.rule_waiting_period(policy, date(2024, 4, 15), "wonen", 3)
    assert day_before.outcome == "fail"
    assert on_the_day.outcome == "pass"


def test_an_event_on_the_start_date_falls_in_the_waiting_period() -> None:
    policy = a_policy(start_date=date(2024, 1, 15))
    assessment = rules.assess(
        policy,
        question(event_date=date(2024, 1, 15), reported_date=date(2024, 1, 16)),
        None,
        PARAMS,
    )
    assert assessment.decision == "not_covered"
    failed = [r.rule for r in assessment.reasons if r.outcome == "fail"]
    assert failed == [rules.RULE_WAITING_PERIOD]


def test_the_waiting_period_clamps_to_the_end_of_a_short_month() -> None:
    policy = a_policy(start_date=date(2023, 11, 30))
    assert rules.rule_waiting_period(policy, date(2024, 2, 28), "werk", 3).outcome == "fail"
    assert rules.rule_waiting_period(policy, date(2024, 2, 29), "werk", 3).outcome == "pass"


def test_traffic_cases_have_no_waiting_period() -> None:
    policy = a_policy(start_date=date(2024, 1, 15))
    assessment = rules.assess(
        policy,
        question(
            legal_area="verkeer", event_date=date(2024, 1, 15), reported_date=date(2024, 1, 15)
        ),
        None,
        PARAMS,
    )
    assert assessment.decision == "covered"


def test_a_waiting_period_of_zero_months_configured_by_the_stage_never_fails() -> None:
    policy = a_policy(start_date=date(2024, 1, 15))
    assert rules.rule_waiting_period(policy, date(2024, 1, 15), "wonen", 0).outcome == "pass"


# --- rule 5: reported in time -----------------------------------------------------------------


def test_a_report_exactly_twelve_months_after_the_event_is_in_time() -> None:
    reason = rules.rule_reported_in_time(date(2024, 6, 1), date(2025, 6, 1), 12)
    assert reason.outcome == "pass"


def test_a_report_twelve_months_and_a_day_after_the_event_goes_to_review() -> None:
    assessment = rules.assess(a_policy(), question(reported_date=date(2025, 6, 2)), None, PARAMS)
    assert assessment.decision == "review"
    assert assessment.objection is None
    late = next(r for r in assessment.reasons if r.rule == rules.RULE_NOTIFICATION)
    assert late.outcome == "fail"


# --- rule 6: minimum amount -------------------------------------------------------------------


def test_an_amount_just_under_the_minimum_gives_advice_only_with_an_objection_route() -> None:
    assessment = rules.assess(a_policy(), question(claim_amount_eur=174.99), None, PARAMS)
    assert assessment.decision == "advice_only"
    assert assessment.objection is not None


def test_an_amount_equal_to_the_minimum_is_enough() -> None:
    assert rules.rule_minimum_amount(175.0, 175.0).outcome == "pass"
    assert rules.assess(a_policy(), question(claim_amount_eur=175.0), None, PARAMS).decision == (
        "covered"
    )


def test_without_an_amount_the_minimum_rule_warns_and_does_not_change_the_decision() -> None:
    assessment = rules.assess(a_policy(), question(claim_amount_eur=None), None, PARAMS)
    amount = next(r for r in assessment.reasons if r.rule == rules.RULE_MIN_AMOUNT)
    assert amount.outcome == "warn"
    assert assessment.decision == "covered"


@pytest.mark.parametrize(
    ("amount", "dutch", "english"),
    [
        (175, "€ 175,00", "EUR 175.00"),
        (2500, "€ 2.500,00", "EUR 2,500.00"),
        (1234567.5, "€ 1.234.567,50", "EUR 1,234,567.50"),
        (0.5, "€ 0,50", "EUR 0.50"),
    ],
)
def test_amounts_are_written_with_dutch_or_english_separators(
    amount: float, dutch: str, english: str
) -> None:
    assert rules.euro_nl(amount) == dutch
    assert rules.euro_en(amount) == english


def test_the_minimum_rule_messages_write_amounts_as_dutch_and_english_readers_expect() -> None:
    # given an amount above a minimum of a thousand euros
    # when the rule judges it
    reason = rules.rule_minimum_amount(2500.0, 1000.0)
    # then both texts group thousands and use the language's decimal mark
    assert reason.message_nl == "Het financieel belang (€ 2.500,00) is minstens € 1.000,00."
    assert reason.message_en == "The amount at stake (EUR 2,500.00) is at least EUR 1,000.00."


def test_the_advice_only_and_missing_amount_messages_use_the_same_amount_format() -> None:
    below = rules.rule_minimum_amount(174.99, 1750.0)
    missing = rules.rule_minimum_amount(None, 1750.0)
    assert "(€ 174,99) is lager dan € 1.750,00" in below.message_nl
    assert "(EUR 174.99) is below EUR 1,750.00" in below.message_en
    assert "onder € 1.750,00 is alleen" in missing.message_nl
    assert "below EUR 1,750.00 only" in missing.message_en


# --- rule 7: the asker ------------------------------------------------------------------------


def test_a_party_on_the_policy_is_insured() -> None:
    policy = a_policy(household="A")
    reason = rules.rule_asker_insured(policy, Asker(HOLDER, HOME))
    assert reason.outcome == "pass"


@pytest.mark.parametrize("household", ["H", "I", "K"])
def test_a_household_member_at_the_policyholders_home_is_insured_under_household_codes(
    household: str,
) -> None:
    reason = rules.rule_asker_insured(a_policy(household=household), Asker(PARTNER, HOME))
    assert reason.outcome == "pass"


@pytest.mark.parametrize("household", ["A", None])
def test_a_housemate_is_not_insured_when_the_household_code_does_not_insure_the_household(
    household: str | None,
) -> None:
    assessment = rules.assess(
        a_policy(household=household), question(), Asker(PARTNER, HOME), PARAMS
    )
    assert assessment.decision == "review"


def test_a_household_code_does_not_insure_someone_living_elsewhere() -> None:
    elsewhere = Address("9999ZZ", "1")
    reason = rules.rule_asker_insured(a_policy(household="H"), Asker(PARTNER, elsewhere))
    assert reason.outcome == "fail"


def test_a_different_house_number_addition_is_a_different_home() -> None:
    holder_home = Address("1234AB", "12", "A")
    policy = a_policy(parties=(PolicyParty(HOLDER, "VP", holder_home),))
    other_flat = Asker(PARTNER, Address("1234AB", "12", "B"))
    same_flat = Asker(PARTNER, Address("1234AB", "12", "A"))
    assert rules.rule_asker_insured(policy, other_flat).outcome == "fail"
    assert rules.rule_asker_insured(policy, same_flat).outcome == "pass"


def test_an_asker_unknown_to_the_register_goes_to_review() -> None:
    reason = rules.rule_asker_insured(a_policy(), Asker(STRANGER, None))
    assert reason.outcome == "fail"
    assert rules.FAILURE_DECISION[reason.rule] == "review"


def test_an_unidentified_asker_is_a_warning_only() -> None:
    assert rules.rule_asker_insured(a_policy(), None).outcome == "warn"


# --- decide -----------------------------------------------------------------------------------


def test_not_covered_outweighs_review_which_outweighs_advice_only() -> None:
    def failing(rule: str) -> Reason:
        return Reason(rule, "fail", "nl", "en")

    assert rules.decide([failing(rules.RULE_MIN_AMOUNT)]).decision == "advice_only"
    assert (
        rules.decide([failing(rules.RULE_MIN_AMOUNT), failing(rules.RULE_NOTIFICATION)]).decision
        == "review"
    )
    assert (
        rules.decide([failing(rules.RULE_NOTIFICATION), failing(rules.RULE_MODULE)]).decision
        == "not_covered"
    )
    assert rules.decide([Reason(rules.RULE_MIN_AMOUNT, "warn", "", "")]).decision == "covered"


def test_a_clear_case_is_covered_with_every_rule_passed_and_in_both_languages() -> None:
    assessment = rules.assess(a_policy(), question(), Asker(HOLDER, HOME), PARAMS)
    assert assessment.decision == "covered"
    assert len(assessment.reasons) == 7
    assert all(r.outcome == "pass" for r in assessment.reasons)
    assert all(r.message_nl and r.message_en for r in assessment.reasons)
    assert assessment.objection is None
