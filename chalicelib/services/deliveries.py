"""Delivery records for partners and administrators."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.auth import Principal
from chalicelib.config import get_settings
from chalicelib.errors import Conflict, Forbidden, NotFound
from chalicelib.models.delivery import (
    DeliveriesQuery,
    DeliveryList,
    DeliveryRecord,
    DeliveryReport,
    RejectedRowsLink,
)
from chalicelib.services.audit import record_audit
from chalicelib.services.ingest import REPORT_CSV_TYPE, IngestService, build_report, report_csv
from chalicelib.store.blobs import Blobs
from chalicelib.store.deliveries import DynamoDeliveries


def _visible_partners(principal: Principal, wanted: str | None) -> list[str]:
    if "admin" in principal.roles:
        return [wanted] if wanted else list(get_settings().partners)
    if wanted and wanted != principal.partner_id:
        raise Forbidden("a partner sees only its own deliveries", code="other_partner")
    if not principal.partner_id:
        raise Forbidden("the token names no partner", code="no_partner_in_token")
    return [principal.partner_id]


def list_deliveries(principal: Principal, query: DeliveriesQuery) -> DeliveryList:
    """Newest first; one index query per visible partner (never a scan)."""
    deliveries = DynamoDeliveries()
    found: list[DeliveryRecord] = []
    for partner_id in _visible_partners(principal, query.partner_id):
        found.extend(deliveries.recent(partner_id, limit=query.limit))
    found.sort(key=lambda record: (record.received_at, record.delivery_id), reverse=True)
    return DeliveryList(deliveries=[build_report(r) for r in found[: query.limit]])


def get_delivery(principal: Principal, delivery_id: str) -> DeliveryReport:
    record = DynamoDeliveries().get(delivery_id)
    if record is None:
        raise NotFound("no such delivery", code="delivery_not_found")
    if "admin" not in principal.roles and record.partner_id != principal.partner_id:
        # Same answer as for an unknown id: a partner learns nothing of others' deliveries.
        raise NotFound("no such delivery", code="delivery_not_found")
    return build_report(record)


# A Lambda answers at most 6 MB: a larger rejected-rows file is handed out as a link.
INLINE_REJECTED_ROWS_BYTES = 5 * 1024 * 1024
REJECTED_ROWS_LINK_SECONDS = 300


@dataclass(frozen=True)
class RejectedRows:
    """The rejected-rows file itself, or (too large to answer) a short-lived link to it."""

    csv: bytes = b""
    link: str = ""


def _rejected_rows_key(report: DeliveryReport) -> str:
    return f"reports/{report.partner_id}/{report.delivery_id}.csv"


def _link(blobs: Blobs, key: str, report: DeliveryReport) -> str:
    return blobs.link(
        key,
        seconds=REJECTED_ROWS_LINK_SECONDS,
        file_name=f"{report.delivery_id}.csv",
        content_type=REPORT_CSV_TYPE,
    )


def rejected_rows(principal: Principal, delivery_id: str) -> RejectedRows:
    """Every rejected row of a delivery as a spreadsheet (the file the ingest keeps beside the
    report): line, column, code and message in Dutch and English, never a delivered value. A
    delivery still running has no file yet: its rows so far that the report lists."""
    report = get_delivery(principal, delivery_id)
    key = _rejected_rows_key(report)
    blobs = Blobs()
    size = blobs.size(key)
    if size is None:
        return RejectedRows(csv=report_csv(report).encode())
    if size <= INLINE_REJECTED_ROWS_BYTES:
        return RejectedRows(csv=blobs.get_bytes(key))
    return RejectedRows(link=_link(blobs, key, report))


def rejected_rows_link(principal: Principal, delivery_id: str) -> RejectedRowsLink:
    """A short-lived link to a finished delivery's rejected-rows file, whatever its size: a
    browser page cannot follow the 303 of a large file (another origin, no CORS on the bucket),
    so it asks for the link and opens it. The link names only the partner and the delivery."""
    report = get_delivery(principal, delivery_id)
    key = _rejected_rows_key(report)
    blobs = Blobs()
    if blobs.size(key) is None:
        raise Conflict(
            "the rejected-rows file is written when the delivery has finished",
            code="delivery_not_finished",
        )
    return RejectedRowsLink(
        url=_link(blobs, key, report),
        file_name=f"{report.delivery_id}.csv",
        expires_in=REJECTED_ROWS_LINK_SECONDS,
    )


def confirm_delivery(principal: Principal, route: str, delivery_id: str) -> DeliveryReport:
    record = IngestService().release_held(delivery_id, confirmed_by=principal.subject)
    record_audit(principal, route, {"delivery_id": delivery_id}, [delivery_id])
    return build_report(record)
