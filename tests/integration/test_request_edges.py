"""Every value a client can send is bounded, and every answer our code gives has the shape
`{"error": {"code", "message"}}`: far-future dates, repeated query parameters, path parameters
that no stored object can have, bodies and content types that are not JSON, wrong methods."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import app_over_fresh_moto, bearer

pytestmark = pytest.mark.integration

CLIENT = "c_" + "0" * 24
MANDATE = "m_" + "0" * 24


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One moto backend for the module: these requests are refused before they write."""
    with app_over_fresh_moto(tmp_path_factory.mktemp("chalice")) as client:
        yield client


def error_of(response: Any) -> dict[str, Any]:
    error: dict[str, Any] = json.loads(response.body)["error"]
    assert error["code"]
    assert error["message"]
    return error


def post(api: Any, path: str, body: Any, role: str = "jsc", **headers: str) -> Any:
    partner = "demo-volmacht" if role == "partner" else None
    return api.http.post(
        path,
        body=json.dumps(body).encode() if not isinstance(body, bytes) else body,
        headers={**bearer(role, partner), "Content-Type": "application/json", **headers},
    )


CHECK = {
    "partner_id": "demo-volmacht",
    "policy_number": "P-1",
    "event_date": "2024-06-01",
    "legal_area": "wonen",
}


@pytest.mark.parametrize(
    "dates",
    [
        {"event_date": "9999-12-31", "reported_date": "9999-12-31"},
        {"event_date": "9998-06-30", "reported_date": "9999-12-31"},
        {"event_date": "2024-06-01", "reported_date": "9999-12-31"},
        {"event_date": "0001-01-01", "reported_date": "2024-06-01"},
    ],
    ids=repr,
)
def test_given_a_coverage_check_with_dates_beyond_any_real_case_then_it_is_422_naming_the_date(
    api: Any, dates: dict[str, str]
) -> None:
    response = post(api, "/v1/coverage-checks", {**CHECK, **dates})
    assert response.status_code == 422, response.body
    error = error_of(response)
    assert error["code"] == "validation_failed"
    assert {d["field"] for d in error["details"]} & {"event_date", "reported_date"}


@pytest.mark.parametrize("valid_until", ["9999-12-31", "9998-06-30", "2200-01-01"])
def test_given_a_mandate_valid_until_the_end_of_the_calendar_then_it_is_422(
    api: Any, valid_until: str
) -> None:
    body = {"client_id": CLIENT, "grantee_kind": "policyholder", "valid_until": valid_until}
    response = post(api, "/v1/mandates", body, role="portal")
    assert response.status_code == 422, response.body
    assert [d["field"] for d in error_of(response)["details"]] == ["valid_until"]


@pytest.mark.parametrize("field", ["request_date", "birth_date", "signed_on"])
def test_given_any_other_mandate_date_beyond_the_range_then_it_is_422(api: Any, field: str) -> None:
    body: dict[str, Any] = {"client_id": CLIENT, "grantee_kind": "policyholder"}
    if field == "request_date":
        body["request_date"] = "9999-12-31"
    elif field == "birth_date":
        body["requester"] = {"birth_date": "0001-01-01"}
    else:
        body["signature"] = {"signed_on": "9999-12-31"}
    response = post(api, "/v1/mandates", body, role="portal")
    assert response.status_code == 422, response.body
    assert field in error_of(response)["details"][0]["field"]


@pytest.mark.parametrize(
    ("path", "role"),
    [
        ("/v1/audit?date=9999-12-31", "admin"),
        ("/v1/audit?date=0001-01-01", "admin"),
        ("/v1/audit?limit=1&limit=2", "admin"),
        ("/v1/deliveries?limit=5&limit=5", "admin"),
        (f"/v1/mandates?client_id={CLIENT}&client_id={CLIENT}", "admin"),
        ("/v1/clients?policy_number=P1&policy_number=P2", "jsc"),
        ("/v1/deliveries?partner_id[]=demo-volmacht", "admin"),
        ("/v1/deliveries?limit=99999999999999999999999999", "admin"),
        ("/v1/audit?actor=%F0%9F%98%80&limit=%D9%A1", "admin"),
    ],
)
def test_given_an_odd_query_string_then_it_is_400_with_a_code(
    api: Any, path: str, role: str
) -> None:
    response = api.http.get(path, headers=bearer(role))
    assert response.status_code == 400, response.body
    assert error_of(response)["code"] in {"invalid_query", "repeated_parameter"}


def test_given_a_repeated_parameter_then_the_error_names_it(api: Any) -> None:
    response = api.http.get("/v1/deliveries?limit=1&limit=2", headers=bearer("admin"))
    error = error_of(response)
    assert error["code"] == "repeated_parameter"
    assert error["details"] == [{"field": "limit", "message": "give this parameter once"}]


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/v1/policies/" + "a" * 3000 + "/P1", "policy_not_found"),
        ("/v1/policies/Demo%20Volmacht/P1", "policy_not_found"),
        ("/v1/clients/" + "c" * 3000, "client_not_found"),
        ("/v1/deliveries/" + "f" * 33, "delivery_not_found"),
        ("/v1/mandates/m_" + "z" * 24, "mandate_not_found"),
        ("/v1/mandates/" + "m" * 3000 + "/contracts", "mandate_not_found"),
    ],
)
def test_given_a_path_parameter_no_stored_object_can_have_then_it_is_404(
    api: Any, path: str, code: str
) -> None:
    role = "portal" if path.endswith("/contracts") else "admin"
    response = api.http.get(path, headers=bearer(role))
    assert response.status_code == 404, response.body
    assert error_of(response)["code"] == code


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "multipart/form-data"])
def test_given_a_get_with_any_content_type_then_it_is_answered(api: Any, content_type: str) -> None:
    response = api.http.get("/v1/health", headers={"Content-Type": content_type})
    assert response.status_code == 200
    assert json.loads(response.body)["status"] == "ok"


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/octet-stream"]
)
def test_given_a_body_that_is_not_declared_json_then_it_is_415_in_our_shape(
    api: Any, content_type: str
) -> None:
    response = post(api, "/v1/coverage-checks", CHECK, **{"Content-Type": content_type})
    assert response.status_code == 415, response.body
    assert error_of(response)["code"] == "unsupported_media_type"


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "application/merge-patch+json"]
)
def test_given_a_json_body_with_a_json_media_type_then_it_is_read(
    api: Any, content_type: str
) -> None:
    body = {**CHECK, "event_date": "9999-12-31"}
    response = post(api, "/v1/coverage-checks", body, **{"Content-Type": content_type})
    assert response.status_code == 422  # read and validated, not refused for its type


def test_given_an_empty_post_of_any_content_type_then_it_is_an_empty_object(api: Any) -> None:
    response = api.http.post(
        f"/v1/mandates/{MANDATE}/approve",
        body=b"",
        headers={**bearer("admin"), "Content-Type": "text/plain"},
    )
    assert response.status_code == 404
    assert error_of(response)["code"] == "mandate_not_found"


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
def test_given_a_number_json_does_not_have_then_the_body_is_invalid_json(
    api: Any, constant: bytes
) -> None:
    body = b'{"partner_id": "demo-volmacht", "claim_amount_eur": ' + constant + b"}"
    response = post(api, "/v1/coverage-checks", body)
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_json"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/v1/health", "GET"),
        ("DELETE", "/v1/mandates", "POST, GET"),
        ("PATCH", f"/v1/mandates/{MANDATE}/approve", "POST"),
    ],
)
def test_given_a_method_the_path_does_not_have_then_it_is_405_in_our_shape(
    api: Any, method: str, path: str, allowed: str
) -> None:
    response = api.http.request(method, path, headers=bearer("admin"))
    assert response.status_code == 405
    error = error_of(response)
    assert error["code"] == "method_not_allowed"
    assert method in error["message"]
    assert response.headers["Allow"] == allowed
