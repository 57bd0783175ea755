"""Every registered route × every role, no token, an expired token, a token signed with another
key: 401 or 403 as appropriate, never a 500.

The routes come from the app at test time, so a new route is covered automatically; its allowed
roles must be declared in `ALLOWED` (the test fails for a route missing there).
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import jwt
import pytest

from tests.conftest import TEST_ENV, bearer

pytestmark = pytest.mark.integration

PARTNER = "demo-volmacht"
ROLES = ("jsc", "portal", "partner", "admin")

# "METHOD path" -> roles allowed (None: public). docs/api.md.
ALLOWED: dict[str, frozenset[str] | None] = {
    "GET /v1/health": None,
    "GET /v1/clients": frozenset({"jsc", "admin"}),
    "POST /v1/clients/search": frozenset({"jsc", "admin"}),
    "GET /v1/clients/{client_id}": frozenset({"jsc", "admin"}),
    "GET /v1/policies/{partner_id}/{policy_number}": frozenset({"jsc", "admin", "partner"}),
    "POST /v1/coverage-checks": frozenset({"jsc", "admin"}),
    "GET /v1/deliveries": frozenset({"partner", "admin"}),
    "GET /v1/deliveries/{delivery_id}": frozenset({"partner", "admin"}),
    "GET /v1/deliveries/{delivery_id}/rejected-rows": frozenset({"partner", "admin"}),
    "GET /v1/deliveries/{delivery_id}/rejected-rows/link": frozenset({"partner", "admin"}),
    "POST /v1/deliveries/{delivery_id}/confirm": frozenset({"admin"}),
    "GET /v1/partners/quality": frozenset({"admin"}),
    "GET /v1/partners/{partner_id}/quality": frozenset({"partner", "admin"}),
    "POST /v1/mandates": frozenset({"portal", "partner"}),
    "GET /v1/mandates": frozenset({"portal", "partner", "admin"}),
    "GET /v1/mandates/{mandate_id}": frozenset({"portal", "partner", "admin"}),
    "POST /v1/mandates/{mandate_id}/approve": frozenset({"partner", "admin"}),
    "POST /v1/mandates/{mandate_id}/reject": frozenset({"partner", "admin"}),
    "POST /v1/mandates/{mandate_id}/revoke": frozenset({"partner", "admin"}),
    "POST /v1/mandates/{mandate_id}/resend": frozenset({"partner", "admin"}),
    "POST /v1/activations": frozenset({"portal"}),
    "GET /v1/mandates/{mandate_id}/contracts": frozenset({"portal"}),
    "GET /v1/audit": frozenset({"admin"}),
    "GET /v1/openapi.json": None,
    "GET /v1/docs": None,
    "GET /v1/docs/{asset}": None,
    "GET /console": None,
    "GET /console/{asset}": None,
}

PATH_VALUES = {
    "partner_id": PARTNER,
    "policy_number": "P-1",
    "client_id": "c_" + "0" * 24,
}


def registered_routes() -> list[str]:
    from app import app

    return sorted(f"{method} {path}" for path, entries in app.routes.items() for method in entries)


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES.get(m.group(1), "x0"), path)


def token(claims: dict[str, Any], secret: str | None = None) -> dict[str, str]:
    now = int(time.time())
    full = {"iss": "polisregister-local", "aud": "polisregister", "iat": now, **claims}
    encoded = jwt.encode(full, secret or TEST_ENV["JWT_SECRET"], algorithm="HS256")
    return {"Authorization": f"Bearer {encoded}"}


UNAUTHENTICATED: dict[str, dict[str, str]] = {
    "no token": {},
    "not a bearer token": {"Authorization": "Basic YWRtaW46YWRtaW4="},
    "garbage token": {"Authorization": "Bearer not.a.jwt"},
}


def unauthenticated_variants() -> dict[str, dict[str, str]]:
    exp = int(time.time()) + 600
    return {
        **UNAUTHENTICATED,
        "expired token": token({"sub": "u", "roles": ["admin"], "exp": int(time.time()) - 5}),
        "token signed with another key": token(
            {"sub": "u", "roles": ["admin"], "exp": exp}, secret="another-key-" + "x" * 32
        ),
    }


def call(api: Any, route: str, headers: dict[str, str]) -> Any:
    method, path = route.split(" ", 1)
    body = b"{}" if method in ("POST", "PUT", "PATCH") else b""
    return api.http.request(
        method, concrete(path), headers={**headers, "Content-Type": "application/json"}, body=body
    )


def test_every_registered_route_declares_its_allowed_roles() -> None:
    missing = [r for r in registered_routes() if r not in ALLOWED]
    assert missing == [], f"declare the allowed roles of {missing} in ALLOWED"


def test_every_route_answers_each_caller_with_the_right_status_and_never_500(api: Any) -> None:
    # given every registered route and every kind of caller
    problems: list[str] = []
    routes = registered_routes()
    assert len(routes) >= 5

    for route in routes:
        allowed = ALLOWED.get(route)
        public = allowed is None and route in ALLOWED

        # then a caller without a valid token gets 401 with a code on every protected route
        for label, headers in unauthenticated_variants().items():
            response = call(api, route, headers)
            expected = "not 401/500" if public else 401
            ok = (
                response.status_code not in (401, 500)
                if public
                else response.status_code == 401 and json.loads(response.body)["error"]["code"]
            )
            if not ok:
                problems.append(f"{route} · {label}: {response.status_code}, want {expected}")

        # and a valid token without any role is forbidden
        roleless = token({"sub": "u", "roles": [], "exp": int(time.time()) + 600})
        response = call(api, route, roleless)
        if not public and response.status_code != 403:
            problems.append(f"{route} · no role: {response.status_code}, want 403")

        # and each role is let through exactly when it is allowed
        for role in ROLES:
            response = call(api, route, bearer(role, PARTNER if role == "partner" else None))
            status = response.status_code
            json_body = response.headers.get("Content-Type", "").startswith("application/json")
            code = (
                json.loads(response.body or b"{}").get("error", {}).get("code")
                if json_body
                else None
            )
            if status == 500:
                problems.append(f"{route} · {role}: 500")
            elif public or role in (allowed or ()):
                if status == 401 or code == "role_not_allowed":
                    problems.append(f"{route} · {role}: {status} {code}, want allowed")
            elif (status, code) != (403, "role_not_allowed"):
                problems.append(f"{route} · {role}: {status} {code}, want 403 role_not_allowed")

    assert problems == [], "\n".join(problems)


def test_a_partner_may_not_read_another_partners_policy(api: Any) -> None:
    response = api.http.get("/v1/policies/demo-verzekeraar/P-1", headers=bearer("partner", PARTNER))
    assert response.status_code == 403
    assert json.loads(response.body)["error"]["code"] == "not_your_partner"
