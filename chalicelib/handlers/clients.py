"""POST /v1/clients/search (recognise a client; GET /v1/clients, deprecated, the same with the
search in its query string) and GET /v1/clients/{client_id} (the dossier)."""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.errors import NotFound
from chalicelib.handlers.http import Api, Deprecated, RequestContext
from chalicelib.models.clients import CandidateList, ClientPath, ClientQuery, Dossier
from chalicelib.services.dossier import get_dossier
from chalicelib.services.recognition import recognise

api = Api(__name__, tag="Clients")

ROLES = ("jsc", "admin")


@api.route(
    "/v1/clients/search",
    methods=("POST",),
    roles=ROLES,
    body=ClientQuery,
    errors={400: ("query_too_broad", "unknown_partner")},
)
def search_clients(ctx: RequestContext) -> CandidateList:
    """Recognise a client: the candidates that match one search (address, name + birth date,
    policy number, phone, e-mail or KvK number), best first. The search goes in the body, so
    a caller's name, birth date, address, phone or e-mail never appears in a URL (URLs end up
    in access logs and proxies). Audited."""
    return recognise(ctx.principal, ctx.route, ctx.body(ClientQuery))


@api.route(
    "/v1/clients",
    roles=ROLES,
    query=ClientQuery,
    errors={400: ("query_too_broad", "unknown_partner")},
    deprecated=Deprecated(
        reason="it puts the caller's personal data in the URL",
        successor="POST /v1/clients/search",
        since=datetime(2026, 12, 2, tzinfo=UTC),
        sunset=datetime(2027, 6, 1, tzinfo=UTC),
    ),
)
def find_clients(ctx: RequestContext) -> CandidateList:
    """Recognise a client, the search in the query string (deprecated: use POST
    /v1/clients/search, which takes the same fields in its body)."""
    return recognise(ctx.principal, ctx.route, ctx.query(ClientQuery))


@api.route(
    "/v1/clients/{client_id}",
    roles=ROLES,
    path_params=ClientPath,
    errors={404: ("client_not_found",)},
)
def client_dossier(ctx: RequestContext) -> Dossier:
    """A client's dossier: every policy and party the partners delivered for them. Audited."""
    path = ctx.path(ClientPath, NotFound("no client with this id", code="client_not_found"))
    return get_dossier(ctx.principal, ctx.route, path.client_id)
