"""GET /v1/health: public liveness check (no data, no auth)."""

from __future__ import annotations

from pydantic import BaseModel

from chalicelib.config import get_settings
from chalicelib.handlers.http import Api, RequestContext

api = Api(__name__, tag="Service")


class Health(BaseModel):
    status: str
    stage: str


@api.route("/v1/health", roles=None)
def health(ctx: RequestContext) -> Health:
    """Liveness: the API answers, and names its stage."""
    return Health(status="ok", stage=get_settings().stage)
