"""Delivery records for partners and administrators."""

from __future__ import annotations

import json
from dataclasses import dataclass

from chalicelib.auth import Principal
from chalicelib.errors import BadRequest, Conflict, Forbidden, NotFound
from chalicelib.models.delivery import (
    EVERY_PARTNER,
    HELD_LISTING,
    DeliveriesQuery,
    DeliveryList,
    DeliveryReport,
    PageEnd,
    RejectedRowsLink,
)
from chalicelib.services.audit import record_audit
from chalicelib.services.ingest import REPORT_CSV_TYPE, IngestService, build_report, report_csv
from chalicelib.store.blobs import Blobs
from chalicelib.store.deliveries import DynamoDeliveries


def _visible_partners(principal: Principal, wanted: str | None) -> list[str]:
    """The partners whose deliveries the caller may list: the one asked for (any, for an
    admin), or an admin's every partner (empty: every partner's deliveries are one listing)."""
    if "admin" in principal.roles:
        return [wanted] if wanted else []
    if wanted and wanted != principal.partner_id:
        raise Forbidden("a partner sees only its own deliveries", code="other_partner")
    if not principal.partner_id:
        raise Forbidden("the token names no partner", code="no_partner_in_token")
    return [principal.partner_id]


# A Lambda answers at most 6 MB: the proxy's JSON envelope, with the body escaped in it. What
# is answered inline stays within 5 MB, which leaves room for the envelope and the headers.
ANSWER_BYTES = 5 * 1024 * 1024
LIST_PAGE_BYTES = ANSWER_BYTES


def _escaped_size(report: DeliveryReport) -> int:
    """What a report takes in the Lambda's answer: its JSON, escaped as a JSON string."""
    return len(json.dumps(report.model_dump_json())) + 1


def _listing(principal: Principal, query: DeliveriesQuery, partners: list[str]) -> str:
    """The listing a page belongs to, which its cursor names: one partner's or every
    partner's, all their deliveries or the held ones."""
    listing = query.partner_id or (EVERY_PARTNER if "admin" in principal.roles else partners[0])
    return listing + (HELD_LISTING if query.status == "held_for_review" else "")


def list_deliveries(principal: Principal, query: DeliveriesQuery) -> DeliveryList:
    """Newest first, in pages of at most `limit` reports and LIST_PAGE_BYTES (a page of whole
    reports with many errors each would not fit in a Lambda's answer); `next_cursor` where the
    next page starts. One index query for a partner's deliveries or for the held ones, two for
    every partner's (the held ones and the others), whatever the number of partners; never a
    scan, read only as far as the page needs."""
    partners = _visible_partners(principal, query.partner_id)
    listing = _listing(principal, query, partners)
    page_end = query.previous_page_end
    if page_end is not None and page_end.listing != listing:
        raise BadRequest(
            "cursor is not of this listing: pass an answer's next_cursor with the same "
            "partner_id and status",
            code="invalid_query",
        )
    before = None if page_end is None else (page_end.received_at, page_end.delivery_id)
    store = DynamoDeliveries()
    # One delivery more than the page: whether another page follows.
    wanted = query.limit + 1
    if query.status == "held_for_review":
        newest = store.held(partners[0] if partners else None, limit=wanted, before=before)
    elif not partners:
        newest = store.every_partners(limit=wanted, before=before)
    else:
        newest = store.recent(partners[0], limit=wanted, before=before)
    page: list[DeliveryReport] = []
    size = 0
    more = False
    for record in newest:
        report = build_report(record)
        size += _escaped_size(report)
        if len(page) == query.limit or (page and size > LIST_PAGE_BYTES):
            more = True
            break
        page.append(report)
    last = page[-1] if more else None
    return DeliveryList(
        deliveries=page,
        next_cursor=None
        if last is None
        else PageEnd(listing, last.received_at, last.delivery_id).cursor(),
    )


def get_delivery(principal: Principal, delivery_id: str) -> DeliveryReport:
    record = DynamoDeliveries().get(delivery_id)
    if record is None:
        raise NotFound("no such delivery", code="delivery_not_found")
    if "admin" not in principal.roles and record.partner_id != principal.partner_id:
        # Same answer as for an unknown id: a partner learns nothing of others' deliveries.
        raise NotFound("no such delivery", code="delivery_not_found")
    return build_report(record)


# A larger rejected-rows file is handed out as a link.
INLINE_REJECTED_ROWS_BYTES = ANSWER_BYTES
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
    delivery still running has no file yet: its rows so far that the report lists, decided
    from its record (S3 answers a HeadObject of a missing key with 403 to a role that may not
    list the bucket, as the API's may not)."""
    report = get_delivery(principal, delivery_id)
    if report.status == "processing":
        return RejectedRows(csv=report_csv(report).encode())
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
    so it asks for the link and opens it. The link names only the partner and the delivery.
    Signing it asks nothing of S3; a delivery still running has no file yet (its record says)."""
    report = get_delivery(principal, delivery_id)
    if report.status == "processing":
        raise Conflict(
            "the rejected-rows file is written when the delivery has finished",
            code="delivery_not_finished",
        )
    return RejectedRowsLink(
        url=_link(Blobs(), _rejected_rows_key(report), report),
        file_name=f"{report.delivery_id}.csv",
        expires_in=REJECTED_ROWS_LINK_SECONDS,
    )


def confirm_delivery(principal: Principal, route: str, delivery_id: str) -> DeliveryReport:
    record = IngestService().release_held(delivery_id, confirmed_by=principal.subject)
    record_audit(principal, route, {"delivery_id": delivery_id}, [delivery_id])
    return build_report(record)
