"""POST /v1/coverage-checks: decide coverage with reasons (dekkingsbeoordeling)."""

from __future__ import annotations

from chalicelib.handlers.http import Api, RequestContext
from chalicelib.models.coverage import CoverageCheckRequest, CoverageCheckResponse
from chalicelib.services.coverage import check_coverage

api = Api(__name__)


@api.route("/v1/coverage-checks", methods=("POST",), roles=("jsc", "admin"))
def coverage_check(ctx: RequestContext) -> CoverageCheckResponse:
    return check_coverage(ctx.principal, ctx.route, ctx.body(CoverageCheckRequest))
