"""The one message catalogue: every message renders in Dutch and English from its parameters,
no parameter carries a personal value, and a delivery checkpointed by the previous version
(warnings and errors stored as rendered text) still renders the same report."""

from __future__ import annotations

from string import Formatter

import pytest

from chalicelib.messages import CATALOGUE, LEGACY_HELD_MARK, bilingual, render
from chalicelib.models.delivery import DeliveryRecord, Progress, notice
from chalicelib.models.portfolio import RowError
from chalicelib.rules.ingest import RemovalDecision, held_warning
from chalicelib.services.ingest import build_report

# What a message may name: where in the file, a limit, a count, a code, a policy number, the
# partner, a moment. Never a row's personal value (a name, a BSN, an address, a birth date).
ALLOWED_PARAMETERS = {
    "column",
    "value",
    "columns",
    "partner",
    "policy",
    "limit",
    "count",
    "missing",
    "base",
    "share",
    "at",
}
# `value` is allowed only where the value is itself a code or a limit, never a person's data.
MESSAGES_WITH_A_VALUE = {"branch_not_in_scope", "value_too_long"}


def _parameters(key: str) -> set[str]:
    return {
        name
        for template in CATALOGUE[key]
        for _, name, _, _ in Formatter().parse(template)
        if name is not None
    }


@pytest.mark.parametrize("key", sorted(CATALOGUE))
def test_every_message_renders_in_both_languages_with_its_parameters(key: str) -> None:
    # Given a value for each parameter the message names
    params = {name: f"<{name}-sample>" for name in _parameters(key)}
    # When it is rendered in Dutch and in English
    nl, en = render(key, params, "nl"), render(key, params, "en")
    # Then both texts are complete, differ, and carry every parameter
    assert nl
    assert en
    assert nl != en
    assert "{" not in nl + en
    assert "}" not in nl + en
    for value in params.values():
        assert value in nl
        assert value in en
    # And both languages name the same parameters
    nl_template, en_template = CATALOGUE[key]
    assert (
        _parameters(key)
        == {n for _, n, _, _ in Formatter().parse(nl_template) if n}
        == {n for _, n, _, _ in Formatter().parse(en_template) if n}
    )


@pytest.mark.parametrize("key", sorted(CATALOGUE))
def test_no_message_can_carry_a_delivered_personal_value(key: str) -> None:
    assert _parameters(key) <= ALLOWED_PARAMETERS
    if "value" in _parameters(key):
        assert key in MESSAGES_WITH_A_VALUE


def test_a_personal_value_passed_along_never_reaches_the_text() -> None:
    # Given a caller that passes a BSN and a name next to the parameters the message names
    params = {"column": "VP_BSN", "bsn": "111222333", "name": "Jansen"}
    # Then the text names the column only
    text = render("required", params, "nl") + render("required", params, "en")
    assert "VP_BSN" in text
    assert "111222333" not in text
    assert "Jansen" not in text


def test_the_held_warning_reads_as_the_previous_version_wrote_it() -> None:
    warning = held_warning(RemovalDecision(missing=6, base=10, share=60.0, held=True))
    assert bilingual(warning["key"], warning["params"]) == (
        "6 van 10 actieve polissen ontbreken (60%): niets beëindigd tot een beheerder de "
        "levering bevestigt. / 6 of 10 active policies are missing (60%): "
        f"{LEGACY_HELD_MARK}."
    )


def _record(progress: Progress) -> DeliveryRecord:
    return DeliveryRecord(
        delivery_id="d" * 32,
        partner_id="demo",
        kind="full",
        bucket="b",
        object_key="incoming/demo/full/f.csv",
        received_at="2026-11-30T10:00:00+00:00",
        seq="s",
        expires_at=0,
        status="held_for_review",
        progress=progress,
    )


LEGACY_HELD = (
    "6 van 10 actieve polissen ontbreken (60%): niets beëindigd tot een beheerder de "
    f"levering bevestigt. / 6 of 10 active policies are missing (60%): {LEGACY_HELD_MARK}."
)
LEGACY_BSN = (
    "Het bestand bevat een BSN-kolom; BSN's worden niet opgeslagen. / "
    "The file has a BSN column; BSNs are never stored."
)


def test_a_record_checkpointed_by_the_previous_version_renders_as_it_was_stored() -> None:
    # Given progress as the previous version stored it: rendered texts, the old counter name
    stored = {
        "phase": "held",
        "rows_total": 10,
        "rows_accepted": 10,
        "pending_removal": 6,
        "warnings": [LEGACY_BSN, LEGACY_HELD],
        "errors": [
            {
                "line": 3,
                "column": "PP_NUMMER",
                "code": "required",
                "message": "Verplicht veld PP_NUMMER is leeg.",
                "message_en": "Required field PP_NUMMER is empty.",
            }
        ],
        "error_counts": {"required": 1},
    }
    # When its report is built
    report = build_report(_record(Progress.from_stored(stored)))
    # Then it shows the same texts and counters
    assert report.warnings == [LEGACY_BSN, LEGACY_HELD]
    assert report.policies_pending_removal == 6
    assert report.errors[0].message_en == "Required field PP_NUMMER is empty."


def test_a_new_record_renders_the_same_texts_as_the_previous_version_stored() -> None:
    progress = Progress(rows_total=10, rows_accepted=10, policies_pending_removal=6)
    progress.warn(notice("bsn_column"))
    progress.warn(held_warning(RemovalDecision(missing=6, base=10, share=60.0, held=True)))
    required = RowError(line=3, column="PP_NUMMER", code="required", params={"column": "PP_NUMMER"})
    progress.add_error(required, cap=10)
    report = build_report(_record(progress))
    assert report.warnings == [LEGACY_BSN, LEGACY_HELD]
    assert report.errors[0].message == "Verplicht veld PP_NUMMER is leeg."
    assert report.errors[0].message_en == "Required field PP_NUMMER is empty."


def test_confirming_drops_the_held_warning_whether_stored_as_code_or_as_old_text() -> None:
    # Given a held record from the previous version and one from this version
    old = Progress.from_stored({"warnings": [LEGACY_BSN, LEGACY_HELD]})
    new = Progress()
    new.warn(notice("bsn_column"))
    new.warn(held_warning(RemovalDecision(missing=6, base=10, share=60.0, held=True)))
    # When the held warning is dropped (an administrator confirmed)
    for progress in (old, new):
        progress.drop_warnings("removals_held", LEGACY_HELD_MARK)
    # Then only the BSN warning is left in each
    assert old.warnings == [LEGACY_BSN]
    assert new.warnings == [notice("bsn_column")]


def test_progress_survives_the_store_round_trip_with_codes_and_counters() -> None:
    progress = Progress(policies_pending_removal=3)
    progress.warn(notice("bsn_dropped", count=2))
    assert Progress.from_stored(progress.stored()) == progress
