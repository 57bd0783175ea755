"""A token that verifies is still refused when its claims do not fit: wrong types, an empty
subject, an expiry beyond the longest lifetime we issue, a partner role without a partner.
Each is `401 invalid_token` (or `token_expired`), never an unhandled error."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from chalicelib.auth import MAX_TOKEN_LIFETIME_SECONDS, authenticate, issue_token
from chalicelib.config import load_settings
from chalicelib.errors import Unauthenticated
from tests.support.tokens import signed_text

pytestmark = pytest.mark.unit


class FromNow(int):
    """A time claim given relative to the moment the token is signed (stable test ids)."""

    def __repr__(self) -> str:
        return f"now{int(self):+d}"


def signed(**claims: Any) -> str:
    """A correctly signed development token with the given claims over sensible defaults;
    a claim given as None is left out."""
    settings = load_settings()
    now = int(time.time())
    base: dict[str, Any] = {
        "sub": "jsc-user",
        "roles": ["jsc"],
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + 600,
    }
    base.update({k: now + v if isinstance(v, FromNow) else v for k, v in claims.items()})
    return signed_text(json.dumps({k: v for k, v in base.items() if v is not None}))


def refusal(token: str) -> str:
    with pytest.raises(Unauthenticated) as refused:
        authenticate(f"Bearer {token}")
    return refused.value.code


@pytest.mark.parametrize(
    "claims",
    [
        {"roles": 7},
        {"roles": {"admin": True}},
        {"roles": [["admin"]]},
        {"roles": [1, 2]},
        {"cognito:groups": 3, "roles": None},
        {"sub": 12345},
        {"sub": ["admin-user"]},
        {"sub": ""},
        {"sub": "   "},
        {"sub": "x" * 129},
        {"sub": "line\nbreak"},
        {"partner_id": 17, "roles": ["partner"]},
        {"partner_id": ["demo-volmacht"], "roles": ["partner"]},
        {"partner_id": "Demo Volmacht", "roles": ["partner"]},
        {"partner_id": "", "roles": ["partner"]},
        {"roles": ["partner"]},
        {"exp": 1e300},
        {"exp": "9999999999"},
        {"exp": True},
        {"exp": [FromNow(600)]},
        {"exp": FromNow(MAX_TOKEN_LIFETIME_SECONDS + 3600)},
        {"iat": FromNow(-3 * MAX_TOKEN_LIFETIME_SECONDS), "exp": FromNow(600)},
        {"iat": FromNow(3600)},
        {"iat": "yesterday"},
        {"nbf": FromNow(3600)},
        {"nbf": {"not": "before"}},
        {"aud": [1, 2]},
        {"iss": ["polisregister-local"]},
    ],
    ids=repr,
)
def test_given_a_verified_token_with_claims_that_do_not_fit_when_authenticating_then_it_is_invalid(
    claims: dict[str, Any],
) -> None:
    assert refusal(signed(**claims)) == "invalid_token"


def test_given_roles_null_then_the_token_is_invalid_rather_than_roleless() -> None:
    settings = load_settings()
    payload = {
        "sub": "someone",
        "roles": None,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "exp": int(time.time()) + 600,
    }
    assert refusal(signed_text(json.dumps(payload))) == "invalid_token"


@pytest.mark.parametrize("exp", ["Infinity", "-Infinity", "NaN", "1e400"])
def test_given_a_non_finite_expiry_then_the_token_is_invalid(exp: str) -> None:
    # Python's JSON reader accepts these; PyJWT's int() of them overflows or fails.
    settings = load_settings()
    payload = (
        f'{{"sub":"a","roles":["jsc"],"iss":"{settings.jwt_issuer}",'
        f'"aud":"{settings.jwt_audience}","exp":{exp}}}'
    )
    assert refusal(signed_text(payload)) == "invalid_token"


def test_given_an_expired_but_well_formed_token_then_it_is_token_expired() -> None:
    assert refusal(signed(iat=FromNow(-7200), exp=FromNow(-3600))) == "token_expired"


@pytest.mark.parametrize(
    ("claims", "roles", "partner_id"),
    [
        ({}, {"jsc"}, None),
        ({"roles": "admin"}, {"admin"}, None),
        ({"roles": ["partner"], "partner_id": "demo-volmacht"}, {"partner"}, "demo-volmacht"),
        ({"roles": ["auditor", "jsc"]}, {"jsc"}, None),
        ({"roles": []}, set(), None),
        ({"roles": None}, set(), None),  # no roles claim at all: a principal without rights
    ],
    ids=repr,
)
def test_given_well_formed_claims_then_the_principal_carries_them(
    claims: dict[str, Any], roles: set[str], partner_id: str | None
) -> None:
    principal = authenticate(f"Bearer {signed(**claims)}")
    assert principal.roles == frozenset(roles)
    assert principal.partner_id == partner_id
    assert principal.subject == "jsc-user"


def test_given_a_fractional_expiry_in_range_then_the_token_is_accepted() -> None:
    # RFC 7519 allows non-integer NumericDates.
    assert authenticate(f"Bearer {signed(exp=time.time() + 600.5)}").subject == "jsc-user"


def test_a_development_token_cannot_be_issued_for_longer_than_we_accept() -> None:
    with pytest.raises(ValueError, match="at most 24 hours"):
        issue_token("admin", lifetime_seconds=MAX_TOKEN_LIFETIME_SECONDS + 1)
    token = issue_token("admin", lifetime_seconds=MAX_TOKEN_LIFETIME_SECONDS)
    assert authenticate(f"Bearer {token}").roles == frozenset({"admin"})
