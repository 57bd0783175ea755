"""POST /v1/coverage-checks: decide coverage with reasons (dekkingsbeoordeling)."""

from __future__ import annotations

from chalicelib.handlers.http import Api, RequestContext
from chalicelib.models.coverage import CoverageCheckRequest, CoverageCheckResponse
from chalicelib.services.coverage import check_coverage

api = Api(__name__, tag="Coverage")


@api.route(
    "/v1/coverage-checks",
    methods=("POST",),
    roles=("jsc", "admin"),
    body=CoverageCheckRequest,
    errors={422: ("unknown_partner", "event_after_report")},
)
def coverage_check(ctx: RequestContext) -> CoverageCheckResponse:
    """Decide whether a policy covers a legal question, with the outcome of every rule in Dutch
    and English (and how to object when it does not). Audited."""
    return check_coverage(ctx.principal, ctx.route, ctx.body(CoverageCheckRequest))
