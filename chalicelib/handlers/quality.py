"""Partner data-quality scorecards: a partner reads its own, administrators all, ranked."""

from __future__ import annotations

from chalicelib.errors import NotFound
from chalicelib.handlers.http import Api, RequestContext
from chalicelib.models.quality import PartnerRanking, Scorecard, ScorecardPath
from chalicelib.services import quality

api = Api(__name__, tag="Quality")


@api.route("/v1/partners/quality", roles={"admin"})
def ranking(ctx: RequestContext) -> PartnerRanking:
    """Every partner's latest full delivery scored, worst first: whom to call first."""
    return quality.partner_ranking()


@api.route(
    "/v1/partners/{partner_id}/quality",
    roles={"partner", "admin"},
    path_params=ScorecardPath,
    errors={403: ("other_partner", "no_partner_in_token"), 404: ("partner_not_found",)},
)
def partner_scorecard(ctx: RequestContext) -> Scorecard:
    """A partner's data quality: per field completeness and validity of its latest full
    delivery, the trend over its full deliveries, the most frequent errors, and how many of its
    clients each query form can find."""
    not_found = NotFound("no such partner", code="partner_not_found")
    path = ctx.path(ScorecardPath, not_found)
    return quality.partner_scorecard(ctx.principal, path.partner_id)
