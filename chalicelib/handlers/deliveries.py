"""Delivery reports: partners read their own, administrators all and release held ones."""

from __future__ import annotations

from chalicelib.errors import NotFound
from chalicelib.handlers.http import Api, Reply, RequestContext
from chalicelib.models.delivery import (
    DeliveriesQuery,
    DeliveryList,
    DeliveryPath,
    DeliveryReport,
)
from chalicelib.services import deliveries

api = Api(__name__)


def _delivery_id(ctx: RequestContext) -> str:
    not_found = NotFound("no such delivery", code="delivery_not_found")
    return ctx.path(DeliveryPath, not_found).delivery_id


@api.route("/v1/deliveries", roles={"partner", "admin"})
def list_deliveries(ctx: RequestContext) -> DeliveryList:
    return deliveries.list_deliveries(ctx.principal, ctx.query(DeliveriesQuery))


@api.route("/v1/deliveries/{delivery_id}", roles={"partner", "admin"})
def get_delivery(ctx: RequestContext) -> DeliveryReport:
    return deliveries.get_delivery(ctx.principal, _delivery_id(ctx))


@api.route("/v1/deliveries/{delivery_id}/confirm", methods=("POST",), roles={"admin"})
def confirm_delivery(ctx: RequestContext) -> Reply:
    return Reply(
        deliveries.confirm_delivery(ctx.principal, ctx.route, _delivery_id(ctx)), status=202
    )
