"""Bearer-token authentication: who is calling and in which roles.

Verified in the API function itself rather than by an API Gateway authorizer, so that a missing,
expired or forged token is a 401 with our error body in every stage, including `chalice local`
(whose authorizer emulation answers 403 or 500 for those). The local stage and the tests verify
HS256 with `JWT_SECRET`; the deployed stages (dev, acc, prod) verify RS256 against the Cognito
user pool's JWKS and read `cognito:groups` as roles.

A signature proves who issued a token, not that its claims make sense: after verification the
claims are parsed by `TokenClaims` (types, lengths, an expiry within the longest lifetime we
issue, a partner for the partner role), and a token whose claims do not fit is
`401 invalid_token` like a forged one.
"""

from __future__ import annotations

import math
import time
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any

import jwt
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic.dataclasses import dataclass

from chalicelib.config import PARTNER_ID, Settings, get_settings
from chalicelib.errors import DomainError, Unauthenticated

if TYPE_CHECKING:
    from jwt.types import Options  # PyJWT >= 2.10; only its type is used

ROLES = frozenset({"jsc", "portal", "partner", "admin"})

# The longest token lifetime anyone issues: Cognito's ID and access tokens live at most one day
# (its maximum setting), and `issue_token` refuses more. A token claiming a later expiry was not
# issued by us as configured, whatever its signature says.
MAX_TOKEN_LIFETIME_SECONDS = 24 * 3600
# Clock skew tolerated between the issuer and this function (iat and nbf slightly in the future).
CLOCK_SKEW_SECONDS = 60
MAX_ROLES = 32

# A subject names the caller in the audit log and in an index key: printable, bounded.
Subject = Annotated[
    str,
    StringConstraints(
        min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]*\S[^\x00-\x1f\x7f]*$"
    ),
]
PartnerId = Annotated[str, StringConstraints(pattern=PARTNER_ID.pattern)]
RoleName = Annotated[StrictStr, StringConstraints(max_length=64)]
NumericDate = StrictInt | StrictFloat


@dataclass(frozen=True)
class Principal:
    """The caller, as the API sees it after authentication."""

    subject: Subject
    roles: frozenset[str]
    partner_id: PartnerId | None = None

    def has_any(self, roles: frozenset[str] | set[str]) -> bool:
        return bool(self.roles & roles)

    @property
    def primary_role(self) -> str:
        for role in ("admin", "jsc", "partner", "portal"):
            if role in self.roles:
                return role
        return "none"


class TokenExpired(ValueError):
    """The claims are well formed but the token's lifetime is over."""


class TokenClaims(BaseModel):
    """The claims of a verified token that we use, with the types and bounds they must have.
    Development tokens carry `roles` and `partner_id`; Cognito tokens `cognito:groups` and
    `custom:partner_id`. Unknown roles (other Cognito groups) are ignored; other claims too."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    sub: Annotated[StrictStr, Subject]
    exp: NumericDate
    iat: NumericDate | None = None
    nbf: NumericDate | None = None
    roles: RoleName | list[RoleName] | None = Field(default=None, max_length=MAX_ROLES)
    groups: RoleName | list[RoleName] | None = Field(
        default=None, alias="cognito:groups", max_length=MAX_ROLES
    )
    partner_id: Annotated[StrictStr, PartnerId] | None = None
    custom_partner_id: Annotated[StrictStr, PartnerId] | None = Field(
        default=None, alias="custom:partner_id"
    )

    @model_validator(mode="before")
    @classmethod
    def _present_claims_are_not_null(cls, data: Any) -> Any:
        # A claim that is present must carry a value: `"roles": null` is a malformed token,
        # not a token without roles.
        if isinstance(data, dict):
            nulls = [
                k
                for k in (
                    "roles",
                    "cognito:groups",
                    "partner_id",
                    "custom:partner_id",
                    "iat",
                    "nbf",
                )
                if k in data and data[k] is None
            ]
            if nulls:
                raise ValueError(f"claims without a value: {', '.join(nulls)}")
        return data

    def role_set(self) -> frozenset[str]:
        raw = self.roles if self.roles is not None else self.groups
        if raw is None:
            return frozenset()
        return frozenset([raw] if isinstance(raw, str) else raw) & ROLES

    def check_lifetime(self, now: float) -> None:
        """Raise ValueError for a lifetime we never issue, TokenExpired for one that is over."""
        for name in ("exp", "iat", "nbf"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and 0 <= value < 2**53):
                raise ValueError(f"{name} is not a time")
        if self.exp > now + MAX_TOKEN_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS:
            raise ValueError("the token claims a longer lifetime than any we issue")
        if self.iat is not None:
            if self.iat > now + CLOCK_SKEW_SECONDS:
                raise ValueError("the token was issued in the future")
            if self.exp - self.iat > MAX_TOKEN_LIFETIME_SECONDS:
                raise ValueError("the token claims a longer lifetime than any we issue")
        if self.nbf is not None and self.nbf > now + CLOCK_SKEW_SECONDS:
            raise ValueError("the token is not valid yet")
        if self.exp <= now:
            raise TokenExpired("the token has expired")

    def principal(self) -> Principal:
        roles = self.role_set()
        partner_id = self.partner_id or self.custom_partner_id
        if "partner" in roles and partner_id is None:
            raise ValueError("a partner token must name its partner")
        return Principal(subject=self.sub, roles=roles, partner_id=partner_id)


class AuthenticationUnavailable(DomainError):
    """The identity provider's keys cannot be fetched: not the caller's fault."""

    status = 503
    code = "unavailable"


# A token naming a key the pool does not have makes the client fetch the key set again; were
# that done for every such token, anyone could make every request wait on a fetch from
# Cognito. PyJWT (>= 2.15) fetches again for an unknown key at most once per cooldown.
JWKS_REFETCH_COOLDOWN_SECONDS = 60


@lru_cache(maxsize=4)
def _jwks_client(url: str, timeout: float) -> jwt.PyJWKClient:
    """The key set is fetched inside a request (cold start, hourly, an unknown key): with
    PyJWT's default 30 s a silent endpoint would outlive the API function; `timeout` is one
    attempt of the request's calls to AWS (docs/configuration.md, "Calls to AWS")."""
    return jwt.PyJWKClient(
        url,
        cache_keys=True,
        lifespan=3600,
        cooldown_duration=JWKS_REFETCH_COOLDOWN_SECONDS,
        timeout=timeout,
    )


# Expiry, issue and not-before times are checked by `TokenClaims.check_lifetime`, after the
# types are known (PyJWT converts them with int(), which lets "9999999999" and 1e300 through).
def _options(*required: str, verify_aud: bool = True) -> Options:
    return {
        "require": list(required),
        "verify_aud": verify_aud,
        "verify_exp": False,
        "verify_iat": False,
        "verify_nbf": False,
    }


def _decode(token: str, settings: Settings) -> dict[str, Any]:
    if settings.jwt_secret:
        claims: dict[str, Any] = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=["HS256"],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options=_options("exp", "sub"),
        )
        return claims
    assert settings.cognito_jwks_url  # guaranteed by Settings validation
    try:
        key_set = _jwks_client(
            settings.cognito_jwks_url,
            settings.api_aws_connect_timeout_seconds + settings.api_aws_read_timeout_seconds,
        )
        signing_key = key_set.get_signing_key_from_jwt(token)
    except jwt.PyJWKClientConnectionError:
        raise AuthenticationUnavailable(
            "tokens cannot be verified right now, try again shortly"
        ) from None
    # Cognito ID tokens carry the app client in `aud`, access tokens in `client_id`.
    claims = jwt.decode(
        token,
        signing_key.key,
        algorithms=["RS256"],
        issuer=settings.jwt_issuer,
        options=_options("exp", "sub", "iss", "token_use", verify_aud=False),
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
    invalid = Unauthenticated("the token is not valid", code="invalid_token")
    try:
        raw = _decode(token.strip(), settings)
    # PyJWT reads the header and claims of a token before it fails; odd values there (a list
    # where a string belongs, a number too large for a float) surface as TypeError/OverflowError.
    except (jwt.PyJWTError, ValueError, TypeError, OverflowError, RecursionError):
        raise invalid from None
    try:
        claims = TokenClaims.model_validate(raw)
        claims.check_lifetime(time.time())
        return claims.principal()
    except TokenExpired:
        raise Unauthenticated("the token has expired", code="token_expired") from None
    except (ValidationError, ValueError):
        raise invalid from None


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
    if not 0 < lifetime_seconds <= MAX_TOKEN_LIFETIME_SECONDS:
        raise ValueError(f"a token lives at most {MAX_TOKEN_LIFETIME_SECONDS // 3600} hours")
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
