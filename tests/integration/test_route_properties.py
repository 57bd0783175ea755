"""Property: whatever a client sends to any route, the answer is never a 5xx, and every error
carries our shape `{"error": {"code", "message"}}`.

For every route of the app's route table and every method it has (plus one it has not), hypothesis
generates path parameters, query strings (repeated keys, arrays, unicode, huge numbers, far
dates), bodies (JSON objects built from the request models' field names, other JSON, raw bytes),
content types and bearer tokens (a valid one of each role, tokens whose claims are odd but
correctly signed, garbage, none).

`make test` runs a bounded, reproducible number of examples per route. A longer, random run:

    API_FUZZ_EXAMPLES=400 .venv/bin/python -m pytest tests/integration/test_route_properties.py

`API_FUZZ_REPORT=<file>` writes the figures of a run (requests per route, 5xx, foreign error
shapes, seconds) as JSON.
"""

from __future__ import annotations

import json
import os
import string
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.models.audit import AuditQuery
from chalicelib.models.clients import ClientQuery
from chalicelib.models.coverage import CoverageCheckRequest
from chalicelib.models.delivery import DeliveriesQuery
from chalicelib.models.mandates import (
    ActivationRequest,
    Grantee,
    LegalRepresentative,
    MandateQuery,
    MandateRequest,
    Signature,
    StateChangeRequest,
)
from chalicelib.models.mandates import Address as MandateAddress
from tests.conftest import app_over_fresh_moto, bearer
from tests.support.tokens import signed_claims

pytestmark = pytest.mark.integration

LONG_RUN_EXAMPLES = os.environ.get("API_FUZZ_EXAMPLES", "").strip()
EXAMPLES = int(LONG_RUN_EXAMPLES or 12)
ALL_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")
FIGURES: dict[str, Counter[str]] = {}


def _route_table() -> list[tuple[str, str]]:
    from app import app

    pairs: list[tuple[str, str]] = []
    for path, methods in sorted(app.routes.items()):
        pairs += [(path, method) for method in sorted(methods)]
        pairs.append((path, next(m for m in ALL_METHODS if m not in methods)))
    return pairs


ROUTES = _route_table()


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with app_over_fresh_moto(tmp_path_factory.mktemp("chalice")) as client:
        yield client
    report = os.environ.get("API_FUZZ_REPORT")
    if report:
        Path(report).write_text(json.dumps(FIGURES, indent=2, sort_keys=True))


# --- values ---------------------------------------------------------------------------------

FIELD_NAMES = sorted(
    {
        name
        for model in (
            AuditQuery,
            ClientQuery,
            CoverageCheckRequest,
            DeliveriesQuery,
            MandateQuery,
            MandateRequest,
            StateChangeRequest,
            ActivationRequest,
            Grantee,
            LegalRepresentative,
            Signature,
            MandateAddress,
        )
        for name in model.model_fields
    }
)
hex_id = st.text("0123456789abcdef", min_size=24, max_size=24)
plausible_text = st.one_of(
    st.sampled_from(
        [
            "demo-volmacht",
            "demo-verzekeraar",
            "P-1",
            "VOL9100000001",
            "wonen",
            "verkeer",
            "someone_else",
            "policyholder",
            "nl",
            "1077XL",
            "232",
            "Broek, van den",
            "jan@example.nl",
            "0612345678",
            "12345678",
            "eid",
            "admin-user",
        ]
    ),
    hex_id.map(lambda h: "c_" + h),
    hex_id.map(lambda h: "m_" + h),
)
extreme_dates = st.one_of(
    st.dates().map(str),
    st.sampled_from(
        ["9999-12-31", "9998-06-30", "0001-01-01", "99991231", "2024-02-30", "2199-12-31"]
    ),
)
numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, -1, 10**400, 1e308, 2**63]),
)
odd_text = st.one_of(
    st.text(max_size=40),
    st.text(max_size=3000).filter(lambda t: len(t) > 200),
    st.sampled_from(["", " ", "\x00", "é", "😀", "=1+1", "../..", "%00", "null", "[]"]),
)
scalar = st.one_of(plausible_text, extreme_dates, numbers, odd_text, st.booleans(), st.none())
json_value = st.recursive(
    scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=8), inner, max_size=5),
    ),
    max_leaves=12,
)
query_value = st.one_of(
    plausible_text, extreme_dates, numbers.map(str), odd_text, st.sampled_from(["1e3", "١٢"])
)
query_key = st.one_of(
    st.sampled_from(FIELD_NAMES),
    st.sampled_from(FIELD_NAMES).map(lambda k: k + "[]"),
    st.text(max_size=10),
)


@st.composite
def query_strings(draw: st.DrawFn) -> str:
    pairs = draw(st.lists(st.tuples(query_key, query_value), max_size=5))
    if draw(st.booleans()):  # repeat one parameter
        pairs += pairs[:1]
    return urlencode(pairs)


@st.composite
def path_values(draw: st.DrawFn) -> str:
    value = draw(
        st.one_of(plausible_text, hex_id, st.text("0123456789abcdef", min_size=32, max_size=32))
        | odd_text
        | st.integers().map(str)
    )
    return quote(value, safe="") or "x"


bodies = st.one_of(
    st.dictionaries(st.sampled_from(FIELD_NAMES), json_value, max_size=10).map(
        lambda d: json.dumps(d).encode()
    ),
    json_value.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=200),
    st.sampled_from([b"", b"{", b"NaN", b'{"a": Infinity}', b"[" * 5000, b"{}" * 40_000]),
)
content_types = st.one_of(
    st.sampled_from(
        [
            None,
            "application/json",
            "application/json; charset=utf-8",
            "text/plain",
            "application/x-www-form-urlencoded",
            "application/octet-stream",
            "multipart/form-data; boundary=x",
            "",
            "*/*",
            "application/problem+json",
        ]
    ),
    st.text(string.ascii_letters + "/;=+-. ", max_size=30),
)


def _valid_bearer(role: str) -> str:
    partner = "demo-volmacht" if role == "partner" else None
    return bearer(role, partner)["Authorization"]


@st.composite
def odd_claims(draw: st.DrawFn) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": draw(st.one_of(st.just("someone"), json_value)),
        "exp": draw(st.one_of(st.just(now + 600), st.just(1e300), json_value)),
    }
    for name in ("roles", "cognito:groups", "partner_id", "custom:partner_id", "iat", "nbf"):
        if draw(st.booleans()):
            claims[name] = draw(
                st.one_of(st.sampled_from([["admin"], ["partner"], "jsc"]), json_value)
            )
    return "Bearer " + signed_claims(claims)


valid_bearers = st.sampled_from(["admin", "jsc", "portal", "partner"]).map(_valid_bearer)
# Half of the requests carry a valid token, so that they reach the parsing behind the roles.
authorizations = st.one_of(
    valid_bearers,
    valid_bearers,
    odd_claims(),
    st.sampled_from([None, "", "Bearer", "Bearer ", "Basic YTpi", "Bearer a.b.c", "bearer x"])
    | st.text(string.printable, max_size=60).map(lambda t: "Bearer " + t),
)


# --- the property -----------------------------------------------------------------------------


def _concrete(path: str, draw: st.DrawFn) -> str:
    parts = [draw(path_values()) if p.startswith("{") else p for p in path.split("/")]
    return "/".join(parts)


@pytest.mark.parametrize(("route", "method"), ROUTES, ids=[f"{m} {p}" for p, m in ROUTES])
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not LONG_RUN_EXAMPLES,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_request_to_any_route_gets_a_5xx_or_an_error_without_our_shape(
    api: Any, route: str, method: str, data: st.DataObject
) -> None:
    path = _concrete(route, data.draw)
    query = data.draw(query_strings())
    headers: dict[str, str] = {}
    authorization = data.draw(authorizations)
    if authorization is not None:
        headers["Authorization"] = authorization
    content_type = data.draw(content_types)
    if content_type is not None:
        headers["Content-Type"] = content_type
    body = data.draw(bodies) if method != "GET" else b""

    response = api.http.request(
        method, f"{path}?{query}" if query else path, headers=headers, body=body
    )

    figures = FIGURES.setdefault(f"{method} {route}", Counter())
    figures["requests"] += 1
    figures[f"status_{response.status_code}"] += 1
    figures["5xx"] += response.status_code >= 500
    try:
        document = json.loads(response.body)
    except ValueError:
        document = None
    ours = (
        isinstance(document, dict)
        and isinstance(document.get("error"), dict)
        and isinstance(document["error"].get("code"), str)
        and isinstance(document["error"].get("message"), str)
    )
    figures["foreign_error_shape"] += response.status_code >= 400 and not ours
    assert response.status_code < 500, response.body[:500]
    if response.status_code >= 400:
        assert ours, response.body[:500]
    elif route.startswith(("/v1/docs", "/console")):  # the reference page, the console, and
        # their scripts, style sheets and icon
        media_type = response.headers["Content-Type"].split(";")[0]
        assert media_type in {"text/html", "text/javascript", "text/css", "image/svg+xml"}
    else:
        assert document is not None
