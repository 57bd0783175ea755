"""GET /v1/clients (recognise a client) and GET /v1/clients/{client_id} (the dossier)."""

from __future__ import annotations

from chalicelib.errors import NotFound
from chalicelib.handlers.http import Api, RequestContext
from chalicelib.models.clients import CandidateList, ClientPath, ClientQuery, Dossier
from chalicelib.services.dossier import get_dossier
from chalicelib.services.recognition import recognise

api = Api(__name__)

ROLES = ("jsc", "admin")


@api.route("/v1/clients", roles=ROLES)
def find_clients(ctx: RequestContext) -> CandidateList:
    return recognise(ctx.principal, ctx.route, ctx.query(ClientQuery))


@api.route("/v1/clients/{client_id}", roles=ROLES)
def client_dossier(ctx: RequestContext) -> Dossier:
    path = ctx.path(ClientPath, NotFound("no client with this id", code="client_not_found"))
    return get_dossier(ctx.principal, ctx.route, path.client_id)
