"""Delivery reports: partners read their own, administrators all and release held ones."""

from __future__ import annotations

from chalice import Response

from chalicelib.errors import NotFound
from chalicelib.handlers.http import Api, Reply, RequestContext
from chalicelib.models.delivery import (
    DeliveriesQuery,
    DeliveryList,
    DeliveryPath,
    DeliveryReport,
    RejectedRowsLink,
)
from chalicelib.services import deliveries

api = Api(__name__, tag="Deliveries")


def _delivery_id(ctx: RequestContext) -> str:
    not_found = NotFound("no such delivery", code="delivery_not_found")
    return ctx.path(DeliveryPath, not_found).delivery_id


@api.route(
    "/v1/deliveries",
    roles={"partner", "admin"},
    query=DeliveriesQuery,
    errors={403: ("other_partner", "no_partner_in_token")},
)
def list_deliveries(ctx: RequestContext) -> DeliveryList:
    """The delivery reports, newest first: a partner's own, or any partner's for an admin."""
    return deliveries.list_deliveries(ctx.principal, ctx.query(DeliveriesQuery))


@api.route(
    "/v1/deliveries/{delivery_id}",
    roles={"partner", "admin"},
    path_params=DeliveryPath,
    errors={404: ("delivery_not_found",)},
)
def get_delivery(ctx: RequestContext) -> DeliveryReport:
    """One delivery report: counts, warnings and the first rejected rows with their reasons."""
    return deliveries.get_delivery(ctx.principal, _delivery_id(ctx))


@api.route(
    "/v1/deliveries/{delivery_id}/rejected-rows",
    roles={"partner", "admin"},
    path_params=DeliveryPath,
    errors={404: ("delivery_not_found",)},
    media_types=("text/csv",),
    see_other="a file over 5 MB: a link to it, valid 5 minutes",
)
def rejected_rows(ctx: RequestContext) -> Response:
    """Every rejected row of the delivery as CSV, to open beside the partner's export: file,
    line, column, error code, message (Dutch and English); no delivered value."""
    delivery_id = _delivery_id(ctx)
    found = deliveries.rejected_rows(ctx.principal, delivery_id)
    if found.link:
        return Response(
            body="", status_code=303, headers={"Location": found.link, "Cache-Control": "no-store"}
        )
    return Response(
        body=found.csv.decode("utf-8"),
        status_code=200,
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{delivery_id}.csv"',
            "Cache-Control": "no-store",
        },
    )


@api.route(
    "/v1/deliveries/{delivery_id}/rejected-rows/link",
    roles={"partner", "admin"},
    path_params=DeliveryPath,
    errors={404: ("delivery_not_found",), 409: ("delivery_not_finished",)},
)
def rejected_rows_link(ctx: RequestContext) -> RejectedRowsLink:
    """A link, valid 5 minutes, that downloads the delivery's rejected-rows file of any size
    without a token (what the console opens: a page cannot follow the 303 of a large file)."""
    return deliveries.rejected_rows_link(ctx.principal, _delivery_id(ctx))


@api.route(
    "/v1/deliveries/{delivery_id}/confirm",
    methods=("POST",),
    roles={"admin"},
    path_params=DeliveryPath,
    response=DeliveryReport,
    status=202,
    errors={404: ("delivery_not_found",), 409: ("delivery_not_held",)},
)
def confirm_delivery(ctx: RequestContext) -> Reply:
    """Release a full delivery held for review: the policies missing from it are ended."""
    return Reply(
        deliveries.confirm_delivery(ctx.principal, ctx.route, _delivery_id(ctx)), status=202
    )
