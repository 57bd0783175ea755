"""Telling a partner about a delivery that needs them: when, and what the e-mail says.

Pure: the ingest decides with `needs_notice` whether a finished delivery is queued for an
e-mail; the e-mail worker renders it with `render_notice` from the delivery's report. The
e-mail names the delivery, its counts and its most frequent error codes with what they mean,
and where the full report is: never a delivered value or any personal data (a report's
messages are not used, only the codes' general meaning).
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from chalicelib.clock import register_time_text
from chalicelib.messages import describe, render
from chalicelib.models.delivery import DeliveryReport, Notice
from chalicelib.rules.ingest import writes_register

__all__ = ["TOP_ERRORS_IN_NOTICE", "needs_notice", "notice_id", "render_notice"]

TOP_ERRORS_IN_NOTICE: Final = 5

_STATUS: Final[dict[str, tuple[str, str]]] = {
    "rejected": ("afgekeurd", "rejected"),
    "held_for_review": ("aangehouden voor controle", "held for review"),
    "accepted_with_errors": ("verwerkt met fouten", "accepted with errors"),
}
_KIND: Final[dict[str, tuple[str, str]]] = {
    "full": ("volledige levering", "full delivery"),
    "mutation": ("mutaties", "mutations"),
    "check": ("controle", "check"),
}


def needs_notice(
    kind: str,
    status: str,
    rows_total: int,
    rows_rejected: int,
    max_rejected_pct: float,
    *,
    unknown_policy_rows: int = 0,
) -> bool:
    """Rejected, held for review, or accepted with a share of rejected rows above the stage's
    threshold, or a full delivery that ended nothing for lines whose policy cannot be known
    (unreadable, or without a usable policy number), however few: the policies it left out stay
    active, and an export writing one such line every month would never end one. A check-only
    delivery never: the partner is waiting for its report already."""
    if not writes_register(kind):
        return False
    if status in ("rejected", "held_for_review"):
        return True
    if status != "accepted_with_errors":
        return False
    if kind == "full" and unknown_policy_rows:
        return True
    return rows_total > 0 and 100.0 * rows_rejected / rows_total > max_rejected_pct


def notice_id(delivery_id: str, status: str) -> str:
    """One e-mail per delivery and status: a redelivered queue message, or the same delivery
    finished twice after a crash, sends nothing twice; a held delivery that is confirmed and then
    ends with errors is a new status, so a new e-mail."""
    return f"delivery-notice#{delivery_id}#{status}"


def render_notice(report: DeliveryReport, unreconciled: Notice | None = None) -> tuple[str, str]:
    """Subject and plain-text body, Dutch first, then English; `unreconciled`: why a full
    delivery ended none of the policies it lacks (rules.ingest.unreconciled_warning)."""
    status_nl, status_en = _STATUS.get(report.status, (report.status, report.status))
    top = sorted(report.error_counts.items(), key=lambda kv: (-kv[1], kv[0]))
    top = top[:TOP_ERRORS_IN_NOTICE]
    where_report = (
        f"GET /v1/deliveries/{report.delivery_id}\n"
        f"reports/{report.partner_id}/{report.delivery_id}.json"
    )
    where_rows = (
        f"GET /v1/deliveries/{report.delivery_id}/rejected-rows\n"
        f"reports/{report.partner_id}/{report.delivery_id}.csv"
    )
    kind_nl, kind_en = _KIND.get(report.kind, (report.kind, report.kind))
    received = datetime.fromisoformat(report.received_at)
    nl = [
        f"Uw levering {report.delivery_id} ({kind_nl}, ontvangen "
        f"{register_time_text('nl', received)}) is {status_nl}.",
        "",
        f"Regels gelezen: {report.rows_total}; verwerkt: {report.rows_accepted}; "
        f"afgekeurd: {report.rows_rejected}.",
    ]
    en = [
        f"Your delivery {report.delivery_id} ({kind_en}, received "
        f"{register_time_text('en', received)}, Amsterdam time) was {status_en}.",
        "",
        f"Rows read: {report.rows_total}; accepted: {report.rows_accepted}; "
        f"rejected: {report.rows_rejected}.",
    ]
    if unreconciled is not None:
        nl.append(render(unreconciled["key"], unreconciled["params"], "nl"))
        en.append(render(unreconciled["key"], unreconciled["params"], "en"))
    if report.status == "held_for_review":
        nl.append(
            f"{report.policies_pending_removal} actieve polissen ontbreken in deze volledige "
            "levering; niets is beëindigd tot een beheerder de levering bevestigt."
        )
        en.append(
            f"{report.policies_pending_removal} active policies are missing from this full "
            "delivery; nothing is ended until an administrator confirms the delivery."
        )
    if top:
        nl += ["", "Meest voorkomende fouten:"]
        nl += [f"- {code} ({rows}x): {describe(code, 'nl')}" for code, rows in top]
        en += ["", "Most frequent errors:"]
        en += [f"- {code} ({rows}x): {describe(code, 'en')}" for code, rows in top]
    if report.errors_truncated:
        kept = len(report.errors)
        nl += ["", f"Het rapport (alle aantallen; de eerste {kept} afgekeurde regels):"]
        en += ["", f"The report (every count; the first {kept} rejected rows):"]
    else:
        nl += ["", "Het rapport:"]
        en += ["", "The report:"]
    nl.append(where_report)
    en.append(where_report)
    if report.error_counts:
        # The rejected-rows file holds every error, however many the report lists.
        nl += ["", "Elke afgekeurde regel, als spreadsheet (CSV):", where_rows]
        en += ["", "Every rejected row, as a spreadsheet (CSV):", where_rows]
    subject = f"Levering {status_nl} / Delivery {status_en}: {report.delivery_id}"
    body = "\n".join([*nl, "", "-- English --", "", *en]) + "\n"
    return subject, body
