"""The web console (docs/console.md): static files written in this repository
(`chalicelib/console/`), served by the API from its own origin, so the console needs no CORS and
its Content-Security-Policy allows scripts, styles and calls from this origin alone.

`GET /console` is the page; `GET /console/{asset}` its scripts and style sheet, and
`config.json`, which says how to sign in on this stage: development tokens where the stage
signs them (local, test), the Cognito hosted sign-in elsewhere. The development token endpoint
is not here: only the local run serves it (scripts/local_api.py), so no deployed API has it."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from chalice import Response

from chalicelib.config import Settings, get_settings
from chalicelib.errors import NotFound
from chalicelib.handlers.http import Api, RequestContext

api = Api(__name__, tag="Console")

CONSOLE_DIR = Path(__file__).resolve().parent.parent / "console"
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
PAGE = "index.html"
CONFIG = "config.json"


def content_security_policy(settings: Settings) -> str:
    """This origin only; on a Cognito stage the page also calls the hosted sign-in's token
    endpoint (authorisation code with PKCE is exchanged by the browser)."""
    connect = "'self'"
    if settings.cognito_domain:
        parts = urlsplit(settings.cognito_domain)
        connect += f" {parts.scheme}://{parts.netloc}"
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        f"connect-src {connect}; font-src 'none'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )


def _headers(content_type: str, cache: str) -> dict[str, str | list[str]]:
    return {
        "Content-Type": content_type,
        "Content-Security-Policy": content_security_policy(get_settings()),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": cache,
    }


@lru_cache(maxsize=32)
def _file(name: str) -> str:
    return (CONSOLE_DIR / name).read_text(encoding="utf-8")


def asset_names() -> frozenset[str]:
    """The files the page may load: the scripts and style sheets of the console directory."""
    return frozenset(p.name for p in CONSOLE_DIR.iterdir() if p.suffix in MEDIA_TYPES)


def sign_in_config(settings: Settings) -> dict[str, object]:
    """How the console signs in on this stage; no secret in it (the app client is public)."""
    if settings.jwt_secret:
        return {"sign_in": "development", "stage": settings.stage, "partners": settings.partners}
    if not (settings.cognito_domain and settings.console_url):
        return {"sign_in": "unavailable", "stage": settings.stage}
    domain = settings.cognito_domain.rstrip("/")
    return {
        "sign_in": "cognito",
        "stage": settings.stage,
        "authorize_url": f"{domain}/oauth2/authorize",
        "token_url": f"{domain}/oauth2/token",
        "logout_url": f"{domain}/logout",
        "client_id": settings.jwt_audience,
        "redirect_uri": settings.console_url,
        "scope": "openid email",
    }


@api.route("/console", roles=None, media_types=("text/html",))
def console_page(ctx: RequestContext) -> Response:
    """The web console for the legal service centre, partners and administrators."""
    return Response(
        body=_file(PAGE), status_code=200, headers=_headers("text/html; charset=utf-8", "no-cache")
    )


@api.route(
    "/console/{asset}",
    roles=None,
    media_types=("text/javascript", "text/css", "image/svg+xml", "application/json"),
    errors={404: ("asset_not_found",)},
)
def console_asset(ctx: RequestContext) -> Response:
    """A script or style sheet of the console, or its sign-in configuration (`config.json`)."""
    name = ctx.path_params["asset"]
    if name == CONFIG:
        body = json.dumps(sign_in_config(get_settings()))
        return Response(
            body=body,
            status_code=200,
            headers=_headers("application/json; charset=utf-8", "no-store"),
        )
    if name not in asset_names():
        raise NotFound("no such file", code="asset_not_found")
    return Response(
        body=_file(name),
        status_code=200,
        headers=_headers(MEDIA_TYPES[Path(name).suffix], "no-cache"),
    )
