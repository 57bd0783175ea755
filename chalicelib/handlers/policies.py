"""GET /v1/policies/{partner_id}/{policy_number}: one policy with its parties."""

from __future__ import annotations

from chalicelib.errors import NotFound
from chalicelib.handlers.http import Api, RequestContext
from chalicelib.models.clients import PolicyPath, PolicyView
from chalicelib.services.dossier import get_policy

api = Api(__name__, tag="Clients")


@api.route(
    "/v1/policies/{partner_id}/{policy_number}",
    roles=("jsc", "admin", "partner"),
    path_params=PolicyPath,
    errors={
        400: ("invalid_policy_number",),
        403: ("not_your_partner",),
        404: ("policy_not_found",),
    },
)
def policy(ctx: RequestContext) -> PolicyView:
    """One policy with its parties (a partner sees only its own policies). Audited."""
    path = ctx.path(PolicyPath, NotFound("no such policy", code="policy_not_found"))
    return get_policy(ctx.principal, ctx.route, path.partner_id, path.policy_number)
