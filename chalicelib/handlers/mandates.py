"""Mandate routes (docs/api.md): submit, read, approve / reject / revoke / resend, activate, and
the contracts an active mandate shows. Thin: parse, call one service function, return."""

from __future__ import annotations

from chalicelib.errors import NotFound
from chalicelib.handlers.http import Api, Reply, RequestContext
from chalicelib.models.mandates import (
    Activation,
    ActivationRequest,
    Mandate,
    MandateContracts,
    MandateList,
    MandatePath,
    MandateQuery,
    MandateRequest,
    StateChangeRequest,
)
from chalicelib.services import mandates

api = Api(__name__)

STAFF = ("partner", "admin")


def _mandate_id(ctx: RequestContext) -> str:
    not_found = NotFound("no such mandate", code="mandate_not_found")
    return ctx.path(MandatePath, not_found).mandate_id


@api.route("/v1/mandates", methods=("POST",), roles=("portal", "partner"))
def submit_mandate(ctx: RequestContext) -> Reply:
    mandate = mandates.submit_mandate(ctx.principal, ctx.body(MandateRequest), ctx.route)
    return Reply(mandate, status=201)


@api.route("/v1/mandates", roles=("portal", "partner", "admin"))
def list_mandates(ctx: RequestContext) -> MandateList:
    return mandates.list_mandates(ctx.principal, ctx.query(MandateQuery), ctx.route)


@api.route("/v1/mandates/{mandate_id}", roles=("portal", "partner", "admin"))
def get_mandate(ctx: RequestContext) -> Mandate:
    return mandates.get_mandate(ctx.principal, _mandate_id(ctx), ctx.route)


def _change(ctx: RequestContext, action: str) -> Mandate:
    return mandates.change_mandate(
        ctx.principal,
        _mandate_id(ctx),
        action,
        ctx.body(StateChangeRequest),
        ctx.route,
    )


@api.route("/v1/mandates/{mandate_id}/approve", methods=("POST",), roles=STAFF)
def approve_mandate(ctx: RequestContext) -> Mandate:
    return _change(ctx, "approve")


@api.route("/v1/mandates/{mandate_id}/reject", methods=("POST",), roles=STAFF)
def reject_mandate(ctx: RequestContext) -> Mandate:
    return _change(ctx, "reject")


@api.route("/v1/mandates/{mandate_id}/revoke", methods=("POST",), roles=STAFF)
def revoke_mandate(ctx: RequestContext) -> Mandate:
    return _change(ctx, "revoke")


@api.route("/v1/mandates/{mandate_id}/resend", methods=("POST",), roles=STAFF)
def resend_activation(ctx: RequestContext) -> Mandate:
    return _change(ctx, "resend")


@api.route("/v1/activations", methods=("POST",), roles=("portal",))
def activate_mandate(ctx: RequestContext) -> Activation:
    return mandates.activate(ctx.principal, ctx.body(ActivationRequest), ctx.route)


@api.route("/v1/mandates/{mandate_id}/contracts", roles=("portal",))
def mandate_contracts(ctx: RequestContext) -> MandateContracts:
    return mandates.mandate_contracts(ctx.principal, _mandate_id(ctx), ctx.route)
