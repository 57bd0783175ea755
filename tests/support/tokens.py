"""Bearer tokens with any claims, signed with the test stage's development key: what a caller
who holds a valid key but an odd (or hostile) encoder could send."""

from __future__ import annotations

import json
from typing import Any

import jwt

from chalicelib.config import load_settings


def signed_text(payload: str) -> str:
    """A token whose payload is exactly `payload` (PyJWT's encoder refuses some odd claims)."""
    secret = load_settings().jwt_secret
    assert secret
    header = jwt.utils.base64url_encode(b'{"alg":"HS256","typ":"JWT"}')
    signing_input = header + b"." + jwt.utils.base64url_encode(payload.encode())
    hmac = jwt.algorithms.HMACAlgorithm(jwt.algorithms.HMACAlgorithm.SHA256)
    signature = hmac.sign(signing_input, hmac.prepare_key(secret))
    return (signing_input + b"." + jwt.utils.base64url_encode(signature)).decode()


def signed_claims(claims: dict[str, Any]) -> str:
    """A token carrying `claims` over this stage's issuer and audience (unless overridden)."""
    settings = load_settings()
    return signed_text(
        json.dumps({"iss": settings.jwt_issuer, "aud": settings.jwt_audience, **claims})
    )
