"""Bearer-token authentication: who is calling and in which roles.

Verified in the API function itself rather than by an API Gateway authorizer, so that a missing,
expired or forged token is a 401 with our error body in every stage, including `chalice local`
(whose authorizer emulation answers 403 or 500 for those). Development stages verify HS256 with
`JWT_SECRET`; prod verifies RS256 against the Cognito user pool's JWKS and reads
`cognito:groups` as roles.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jwt

from chalicelib.config import Settings, get_settings
from chalicelib.errors import Unauthenticated

ROLES = frozenset({"jsc", "portal", "partner", "admin"})


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[str]
    partner_id: str | None = None

    def has_any(self, roles: frozenset[str] | set[str]) -> bool:
        return bool(self.roles & roles)

    @property
    def primary_role(self) -> str:
        for role in ("admin", "jsc", "partner", "portal"):
            if role in self.roles:
                return role
        return "none"


@lru_cache(maxsize=4)
def _jwks_client(url: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(url, cache_keys=True, lifespan=3600)


def _decode(token: str, settings: Settings) -> dict[str, Any]:
    if settings.jwt_secret:
        claims: dict[str, Any] = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=["HS256"],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "sub"]},
        )
        return claims
    assert settings.cognito_jwks_url  # guaranteed by Settings validation
    signing_key = _jwks_client(settings.cognito_jwks_url).get_signing_key_from_jwt(token)
    # Cognito ID tokens carry the app client in `aud`, access tokens in `client_id`.
    claims = jwt.decode(
        token,
        signing_key.key,
        algorithms=["RS256"],
        issuer=settings.jwt_issuer,
        options={"require": ["exp", "sub", "iss", "token_use"], "verify_aud": False},
    )
    use = claims.get("token_use")
    client = claims.get("aud") if use == "id" else claims.get("client_id")
    if use not in ("id", "access") or client != settings.jwt_audience:
        raise jwt.InvalidAudienceError("token is not for this app client")
    return claims


def authenticate(authorization: str | None, settings: Settings | None = None) -> Principal:
    settings = settings or get_settings()
    if not authorization:
        raise Unauthenticated("missing bearer token", code="missing_token")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("expected 'Authorization: Bearer <token>'", code="missing_token")
    try:
        claims = _decode(token.strip(), settings)
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("the token has expired", code="token_expired") from None
    except (jwt.PyJWTError, ValueError):
        raise Unauthenticated("the token is not valid", code="invalid_token") from None
    raw_roles = claims.get("roles", claims.get("cognito:groups", []))
    if isinstance(raw_roles, str):
        raw_roles = [raw_roles]
    roles = frozenset(str(r) for r in raw_roles) & ROLES
    partner_id = claims.get("partner_id") or claims.get("custom:partner_id")
    return Principal(
        subject=str(claims["sub"]),
        roles=roles,
        partner_id=str(partner_id) if partner_id else None,
    )


def issue_token(
    role: str,
    *,
    partner_id: str | None = None,
    subject: str | None = None,
    lifetime_seconds: int = 8 * 3600,
    settings: Settings | None = None,
) -> str:
    """A development token (HS256). Refused where no development secret is configured."""
    settings = settings or get_settings()
    if not settings.jwt_secret:
        raise RuntimeError("this stage has no development key: tokens come from Cognito")
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {sorted(ROLES)}")
    if role == "partner" and not partner_id:
        raise ValueError("a partner token needs a partner id")
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": subject or f"{role}-user",
        "roles": [role],
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + lifetime_seconds,
    }
    if partner_id:
        claims["partner_id"] = partner_id
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")
