"""The API contract and its reference page, public: `GET /v1/openapi.json`, and `GET /v1/docs`
with its assets. The page is Swagger UI from the `swagger-ui-bundle-v2` package, served from
this origin (nothing is loaded from elsewhere: the Content-Security-Policy says so)."""

from __future__ import annotations

from functools import lru_cache

from chalice import Response
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

from chalicelib.errors import NotFound
from chalicelib.handlers.http import Api, RequestContext
from chalicelib.handlers.openapi import document_json

api = Api(__name__, tag="Service")

# The files the page loads, with their media types; anything else is 404.
ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "index.css": "text/css; charset=utf-8",
}
INITIALISER = "reference.js"
# Scripts, styles and data from this origin alone; images also as data: URIs (Swagger UI's icons).
# Checked in headless Chromium: the page and its expanded operations render with no violation.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "public, max-age=3600",
}

# Relative addresses: the page works under any stage prefix (/api/v1/docs behind API Gateway).
PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Polisregister API reference</title>
<link rel="stylesheet" href="docs/swagger-ui.css">
<link rel="stylesheet" href="docs/index.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="docs/swagger-ui-bundle.js"></script>
<script src="docs/reference.js"></script>
</body>
</html>
"""

# Swagger UI's own options: no validator badge (it would call an outside service), the
# contract from this origin, the token kept only while the page is open.
INITIALISER_JS = """window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    persistAuthorization: false,
    displayOperationId: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
});
"""


def _page(body: str, content_type: str) -> Response:
    return Response(
        body=body, status_code=200, headers={**PAGE_HEADERS, "Content-Type": content_type}
    )


@lru_cache(maxsize=len(ASSETS))
def _asset(name: str) -> str:
    return (swagger_ui_path / name).read_text(encoding="utf-8")


@api.route("/v1/openapi.json", roles=None, media_types=("application/json",))
def openapi_document(ctx: RequestContext) -> Response:
    """The API contract (OpenAPI 3.1), generated from the routes that serve it."""
    return Response(
        body=document_json(),
        status_code=200,
        headers={"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-cache"},
    )


@api.route("/v1/docs", roles=None, media_types=("text/html",))
def reference_page(ctx: RequestContext) -> Response:
    """The API reference page (Swagger UI): every operation, its models and examples."""
    return _page(PAGE, "text/html; charset=utf-8")


@api.route(
    "/v1/docs/{asset}",
    roles=None,
    media_types=("text/css", "text/javascript"),
    errors={404: ("asset_not_found",)},
)
def reference_asset(ctx: RequestContext) -> Response:
    """A script or style sheet of the reference page."""
    name = ctx.path_params["asset"]
    if name == INITIALISER:
        return _page(INITIALISER_JS, "text/javascript; charset=utf-8")
    if name not in ASSETS:
        raise NotFound("no such file", code="asset_not_found")
    return _page(_asset(name), ASSETS[name])
