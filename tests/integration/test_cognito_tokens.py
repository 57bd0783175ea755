"""Prod verifies Cognito tokens against the user pool's JWKS (served here on loopback)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from chalicelib.auth import _jwks_client, authenticate
from chalicelib.config import load_settings, reset_settings
from chalicelib.errors import Unauthenticated
from tests.support.silent import SilentEndpoint, answered_within

pytestmark = pytest.mark.integration

ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_TEST"
CLIENT_ID = "app-client-123"


def private_key() -> Any:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


POOL_KEY = private_key()
OTHER_KEY = private_key()
JWKS_FETCHES: list[float] = []


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(POOL_KEY.public_key()))
    body = json.dumps({"keys": [{**public, "kid": "pool", "alg": "RS256", "use": "sig"}]}).encode()

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            JWKS_FETCHES.append(time.monotonic())
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Jwks)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"
    server.shutdown()


@pytest.fixture
def prod(monkeypatch: pytest.MonkeyPatch, jwks_url: str) -> Any:
    monkeypatch.setenv("STAGE", "prod")
    monkeypatch.delenv("JWT_SECRET")
    monkeypatch.setenv("COGNITO_JWKS_URL", jwks_url)
    monkeypatch.setenv("JWT_ISSUER", ISSUER)
    monkeypatch.setenv("JWT_AUDIENCE", CLIENT_ID)
    # what prod's stack sets: its own client-id key, and partners that are not the demo ones
    monkeypatch.setenv("CLIENT_ID_KEY", "prod-stack-secret-" + "k" * 32)
    monkeypatch.setenv("PARTNERS", "volmacht-noord")
    _jwks_client.cache_clear()
    return load_settings()


def cognito_token(key: Any = POOL_KEY, **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "sub": "user-1",
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "token_use": "id",
        "cognito:groups": ["jsc"],
        "iat": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "pool"})


def test_an_id_token_of_the_pool_gives_the_groups_as_roles(prod):
    principal = authenticate(f"Bearer {cognito_token()}", prod)
    assert principal.roles == frozenset({"jsc"})
    assert principal.subject == "user-1"


def test_an_access_token_names_the_app_client_in_client_id(prod):
    token = cognito_token(token_use="access", aud=None, client_id=CLIENT_ID)
    assert authenticate(f"Bearer {token}", prod).roles == frozenset({"jsc"})


def test_a_partner_user_carries_its_partner_id_attribute(prod):
    token = cognito_token(**{"cognito:groups": ["partner"], "custom:partner_id": "volmacht-noord"})
    principal = authenticate(f"Bearer {token}", prod)
    assert principal.partner_id == "volmacht-noord"


@pytest.mark.parametrize(
    ("token", "code"),
    [
        (lambda: cognito_token(aud="another-client"), "invalid_token"),
        (
            lambda: cognito_token(iss="https://cognito-idp.eu-west-1.amazonaws.com/other"),
            "invalid_token",
        ),
        (lambda: cognito_token(token_use=None), "invalid_token"),
        (lambda: cognito_token(key=OTHER_KEY), "invalid_token"),
        (lambda: cognito_token(exp=int(time.time()) - 10), "token_expired"),
        (
            lambda: jwt.encode(
                {"sub": "x", "roles": ["admin"], "exp": int(time.time()) + 60},
                "local-development-secret-not-for-production",
                algorithm="HS256",
            ),
            "invalid_token",
        ),
    ],
    ids=["other-app-client", "other-issuer", "no-token-use", "other-key", "expired", "dev-hs256"],
)
def test_a_token_not_from_this_pool_and_client_is_refused(prod, token, code):
    with pytest.raises(Unauthenticated) as refused:
        authenticate(f"Bearer {token()}", prod)
    assert refused.value.code == code


def test_tokens_naming_unknown_keys_do_not_make_every_request_fetch_the_key_set(prod):
    # given the pool's keys fetched once
    assert authenticate(f"Bearer {cognito_token()}", prod).subject == "user-1"
    fetched = len(JWKS_FETCHES)

    # when many requests carry tokens that name keys the pool does not have
    for n in range(20):
        token = jwt.encode(
            {"sub": "x", "exp": int(time.time()) + 60}, OTHER_KEY, "RS256", {"kid": f"k{n}"}
        )
        with pytest.raises(Unauthenticated):
            authenticate(f"Bearer {token}", prod)

    # then the key set was fetched again at most once, and valid tokens still verify
    assert len(JWKS_FETCHES) - fetched <= 1
    assert authenticate(f"Bearer {cognito_token()}", prod).subject == "user-1"


# PyJWT waits 30 s for a key set by default: the API function would end before its answer.
PYJWT_DEFAULT_TIMEOUT_SECONDS = 30


def test_a_silent_key_set_endpoint_gives_503_unavailable_before_the_function_ends(
    monkeypatch: pytest.MonkeyPatch, prod: Any, tmp_path: Any
) -> None:
    from chalice.test import Client

    from app import app

    # given a key-set endpoint that accepts and never answers, and an API whose calls to AWS
    # get one attempt of at most 0.2 + 0.2 s
    with SilentEndpoint() as silent:
        monkeypatch.setenv("COGNITO_JWKS_URL", f"{silent.url}/.well-known/jwks.json")
        monkeypatch.setenv("API_AWS_CONNECT_TIMEOUT_SECONDS", "0.2")
        monkeypatch.setenv("API_AWS_READ_TIMEOUT_SECONDS", "0.2")
        _jwks_client.cache_clear()
        reset_settings()

        # when a request with a pool token arrives (the keys are not cached yet)
        def ask() -> Any:
            with Client(app, project_dir=str(tmp_path)) as client:
                return client.http.get(
                    "/v1/policies/volmacht-noord/P-1",
                    headers={"Authorization": f"Bearer {cognito_token()}"},
                )

        response = answered_within(PYJWT_DEFAULT_TIMEOUT_SECONDS / 2, ask)

    # then it is the register's 503 in the error shape, well before PyJWT's 30 s would end
    assert response.status_code == 503
    assert response.json_body["error"]["code"] == "unavailable"
    assert silent.connections == 1
