"""GET /v1/policies/{partner_id}/{policy_number}: one policy with its parties."""

from __future__ import annotations

from chalicelib.handlers.http import Api, RequestContext
from chalicelib.models.clients import PolicyView
from chalicelib.services.dossier import get_policy

api = Api(__name__)


@api.route("/v1/policies/{partner_id}/{policy_number}", roles=("jsc", "admin", "partner"))
def policy(ctx: RequestContext) -> PolicyView:
    params = ctx.path_params
    return get_policy(ctx.principal, ctx.route, params["partner_id"], params["policy_number"])
