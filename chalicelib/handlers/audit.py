"""GET /v1/audit: who looked up what, when (admins only)."""

from __future__ import annotations

from chalicelib.handlers.http import Api, RequestContext
from chalicelib.models.audit import AuditList, AuditQuery
from chalicelib.services.audit import list_audit

api = Api(__name__, tag="Audit")


@api.route("/v1/audit", roles=["admin"], query=AuditQuery)
def audit(ctx: RequestContext) -> AuditList:
    """Who looked up what, when: one day (default today, UTC), one actor, or both."""
    return list_audit(ctx.query(AuditQuery))
