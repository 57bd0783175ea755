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
from chalicelib.rules.mandates import VIOLATION_CODES
from chalicelib.services import mandates

api = Api(__name__, tag="Mandates")

STAFF = ("partner", "admin")
NOT_OWN_CLIENT = {403: ("not_partners_client",)}
# Submit, approve and resend: a partner grants access only to its own contracts.
GRANTING = {403: ("not_partners_client", "contract_of_other_partner")}
MANDATE_ERRORS = {**NOT_OWN_CLIENT, 404: ("mandate_not_found",)}
CHANGE_ERRORS = {**MANDATE_ERRORS, 409: ("invalid_state",)}
GRANTING_CHANGE_ERRORS = {**CHANGE_ERRORS, **GRANTING}


def _mandate_id(ctx: RequestContext) -> str:
    not_found = NotFound("no such mandate", code="mandate_not_found")
    return ctx.path(MandatePath, not_found).mandate_id


@api.route(
    "/v1/mandates",
    methods=("POST",),
    roles=("portal", "partner"),
    body=MandateRequest,
    response=Mandate,
    status=201,
    errors={
        **GRANTING,
        422: ("holder_unknown", "holder_not_policyholder", *VIOLATION_CODES),
    },
)
def submit_mandate(ctx: RequestContext) -> Reply:
    """Request a mandate: the form as the portal or a partner took it. A rule of the mandate
    table that the request breaks is a 422 naming the rule (`details` lists every one)."""
    mandate = mandates.submit_mandate(ctx.principal, ctx.body(MandateRequest), ctx.route)
    return Reply(mandate, status=201)


@api.route(
    "/v1/mandates", roles=("portal", "partner", "admin"), query=MandateQuery, errors=NOT_OWN_CLIENT
)
def list_mandates(ctx: RequestContext) -> MandateList:
    """The mandates of one holder."""
    return mandates.list_mandates(ctx.principal, ctx.query(MandateQuery), ctx.route)


@api.route(
    "/v1/mandates/{mandate_id}",
    roles=("portal", "partner", "admin"),
    path_params=MandatePath,
    errors=MANDATE_ERRORS,
)
def get_mandate(ctx: RequestContext) -> Mandate:
    """One mandate with its history."""
    return mandates.get_mandate(ctx.principal, _mandate_id(ctx), ctx.route)


def _change(ctx: RequestContext, action: str) -> Mandate:
    return mandates.change_mandate(
        ctx.principal,
        _mandate_id(ctx),
        action,
        ctx.body(StateChangeRequest),
        ctx.route,
    )


@api.route(
    "/v1/mandates/{mandate_id}/approve",
    methods=("POST",),
    roles=STAFF,
    path_params=MandatePath,
    body=StateChangeRequest,
    errors=GRANTING_CHANGE_ERRORS,
)
def approve_mandate(ctx: RequestContext) -> Mandate:
    """Approve a submitted mandate: the grantee is e-mailed an activation link."""
    return _change(ctx, "approve")


@api.route(
    "/v1/mandates/{mandate_id}/reject",
    methods=("POST",),
    roles=STAFF,
    path_params=MandatePath,
    body=StateChangeRequest,
    errors=CHANGE_ERRORS,
)
def reject_mandate(ctx: RequestContext) -> Mandate:
    """Reject a submitted mandate."""
    return _change(ctx, "reject")


@api.route(
    "/v1/mandates/{mandate_id}/revoke",
    methods=("POST",),
    roles=STAFF,
    path_params=MandatePath,
    body=StateChangeRequest,
    errors=CHANGE_ERRORS,
)
def revoke_mandate(ctx: RequestContext) -> Mandate:
    """Revoke a mandate that is submitted, approved or active."""
    return _change(ctx, "revoke")


@api.route(
    "/v1/mandates/{mandate_id}/resend",
    methods=("POST",),
    roles=STAFF,
    path_params=MandatePath,
    body=StateChangeRequest,
    errors=GRANTING_CHANGE_ERRORS,
)
def resend_activation(ctx: RequestContext) -> Mandate:
    """E-mail a new activation link for an approved mandate (the earlier link stops working)."""
    return _change(ctx, "resend")


@api.route(
    "/v1/activations",
    methods=("POST",),
    roles=("portal",),
    body=ActivationRequest,
    errors={
        404: ("token_unknown", "mandate_not_found"),
        409: ("token_superseded", "token_used", "token_expired", "invalid_state"),
    },
)
def activate_mandate(ctx: RequestContext) -> Activation:
    """Activate a mandate with the token from the e-mailed link: once, before it expires."""
    return mandates.activate(ctx.principal, ctx.body(ActivationRequest), ctx.route)


@api.route(
    "/v1/mandates/{mandate_id}/contracts",
    roles=("portal",),
    path_params=MandatePath,
    errors={
        403: ("mandate_revoked", "mandate_expired", "mandate_not_active"),
        404: ("mandate_not_found",),
    },
)
def mandate_contracts(ctx: RequestContext) -> MandateContracts:
    """The contracts an active mandate shows the grantee now."""
    return mandates.mandate_contracts(ctx.principal, _mandate_id(ctx), ctx.route)
