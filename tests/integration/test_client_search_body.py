"""POST /v1/clients/search: the search in a JSON body, so that a caller's personal data is
never in a URL; the deprecated GET /v1/clients answers the same from its query string."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urljoin

import pytest

from tests.conftest import bearer
from tests.integration.ddb_calls import deliver
from tests.integration.test_recognition import (
    VERZEKERAAR,
    VOLMACHT,
    body,
    find,
    verzekeraar_rows,
    volmacht_rows,
)

pytestmark = pytest.mark.integration

SEARCHES: list[dict[str, Any]] = [
    {"postcode": "1234 ab", "house_number": "12a", "name": "van der berg"},
    {"postcode": "1234AB", "house_number": 12, "house_number_addition": "A"},
    {"name": "Berg, van der", "birth_date": "1980-05-17"},
    {"phone": "+31 6 1234 5678"},
    {"email": "JAN.vdBerg@Example.nl"},
    {"policy_number": "p-100", "partner_id": "demo-volmacht"},
    {"kvk": "12345678"},
    {"q": "1234AB 12A"},
    {"q": "van der Berg 17 mei 1980"},
]


@pytest.fixture
def delivered(aws: dict[str, str]) -> dict[str, str]:
    deliver(aws, VOLMACHT, volmacht_rows())
    deliver(aws, VERZEKERAAR, verzekeraar_rows())
    return aws


def search(api: Any, document: Any, role: str = "jsc") -> Any:
    return api.http.post(
        "/v1/clients/search",
        body=json.dumps(document),
        headers={**bearer(role), "Content-Type": "application/json"},
    )


def candidate_ids(answer: dict[str, Any]) -> list[str]:
    return [c["client_id"] for c in answer["candidates"]]


@pytest.mark.parametrize("document", SEARCHES, ids=lambda s: "+".join(s))
def test_a_search_in_the_body_finds_what_the_query_string_finds(api, delivered, document):
    # given two partners' deliveries, and the search as a query string (the deprecated route)
    by_query = body(find(api, **{k: str(v) for k, v in document.items()}))

    # when the same search goes in a POST body
    response = search(api, document)

    # then the same candidates come back in the same order, and at least one
    assert response.status_code == 200, response.body
    assert candidate_ids(body(response)) == candidate_ids(by_query)
    assert candidate_ids(by_query)


def test_a_body_search_is_audited_under_its_own_route_with_hashed_values(api, delivered):
    # when the call centre searches by e-mail address in the body
    assert search(api, {"email": "jan.vdberg@example.nl"}).status_code == 200

    # then the audit names the POST route and keeps the value only hashed
    response = api.http.get("/v1/audit", headers=bearer("admin"))
    entries = body(response)["entries"]
    [entry] = [e for e in entries if e["route"] == "POST /v1/clients/search"]
    assert set(entry["query"]) == {"email"}
    assert "vdberg" not in response.body.decode()


@pytest.mark.parametrize(
    ("document", "status", "code"),
    [
        ({"surname": "Berg"}, 422, "validation_failed"),
        ({"postcode": "12345", "house_number": "1"}, 422, "validation_failed"),
        ({"q": ["Berg", "1980"]}, 422, "validation_failed"),
        ({"name": "Berg"}, 400, "query_too_broad"),
        ({}, 400, "query_too_broad"),
        ([{"name": "Berg"}], 400, "invalid_json"),
    ],
    ids=["unknown field", "bad postcode", "a list", "name alone", "empty", "not an object"],
)
def test_a_bad_body_search_is_a_clear_client_error(api, delivered, document, status, code):
    response = search(api, document)
    assert (response.status_code, body(response)["error"]["code"]) == (status, code)


def test_a_partner_cannot_search_clients_in_the_body_either(api, delivered):
    response = search(api, {"policy_number": "p-100"}, role="portal")
    assert response.status_code == 403


def test_the_query_route_is_marked_deprecated_in_the_api_description(api):
    spec = body(api.http.get("/v1/openapi.json"))
    assert spec["paths"]["/v1/clients"]["get"]["deprecated"] is True
    assert "deprecated" not in spec["paths"]["/v1/clients/search"]["post"]


@pytest.mark.parametrize(
    "query", [{"email": "jan.vdberg@example.nl"}, {"name": "Berg"}], ids=["found", "too_broad"]
)
def test_every_answer_of_the_query_route_names_its_successor_and_its_sunset(api, delivered, query):
    # when a caller still searches in the query string, found or refused
    response = find(api, **query)

    # then the answer says the route is deprecated since the POST shipped, until when it is
    # answered, and what to call instead
    headers = {k.lower(): v for k, v in response.headers.items()}
    assert headers["deprecation"] == "@1796169600"  # 2026-12-02 00:00 UTC
    assert headers["sunset"] == "Tue, 01 Jun 2027 00:00:00 GMT"
    # (relative, so that it resolves to /api/v1/clients/search behind API Gateway's stage too)
    assert headers["link"] == '<clients/search>; rel="successor-version"'
    assert urljoin("https://x.test/api/v1/clients?email=a", "clients/search") == (
        "https://x.test/api/v1/clients/search"
    )


def test_the_body_search_carries_no_deprecation_headers(api, delivered):
    response = search(api, {"email": "jan.vdberg@example.nl"})
    assert response.status_code == 200
    assert not {"deprecation", "sunset"} & {k.lower() for k in response.headers}
