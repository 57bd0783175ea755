"""Bad input on the recognition, coverage and audit routes: a 400/413/422 with a code and a
message (and the offending field), never a 500, and never the offending value echoed back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import app_over_fresh_moto, bearer

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One moto backend for the module: bad input is refused before any read, so the tests
    cannot disturb each other, and the suite stays fast."""
    with app_over_fresh_moto(tmp_path_factory.mktemp("chalice")) as client:
        yield client


VALID_CHECK = {
    "partner_id": "demo-volmacht",
    "policy_number": "P-1",
    "event_date": "2024-06-01",
    "reported_date": "2024-06-02",
    "legal_area": "wonen",
    "claim_amount_eur": 500,
}


def error_of(response: Any) -> dict[str, Any]:
    error: dict[str, Any] = json.loads(response.body)["error"]
    assert error["code"]
    assert error["message"]
    return error


def post_check(api: Any, body: bytes) -> Any:
    return api.http.post(
        "/v1/coverage-checks",
        body=body,
        headers={**bearer("jsc"), "Content-Type": "application/json"},
    )


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("name=Berg&birth_date=1980-02-30", "birth_date"),
        ("name=Berg&birth_date=17-05-1980", "birth_date"),
        ("postcode=12345&house_number=1", "postcode"),
        ("postcode=1234AB&house_number=twaalf", ""),
        ("phone=call-me", "phone"),
        ("email=jan-at-example", "email"),
        ("kvk=1234", "kvk"),
        ("policy_number=P%201%3B", "policy_number"),
        ("nickname=Jan", "nickname"),
    ],
)
def test_a_malformed_recognition_query_is_400_naming_the_field(
    api: Any, query: str, field: str
) -> None:
    response = api.http.get(f"/v1/clients?{query}", headers=bearer("jsc"))
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid_query"
    assert any(field in d["field"] for d in error["details"])
    assert "1980-02-30" not in response.body.decode()


def test_an_oversized_query_string_is_400(api: Any) -> None:
    response = api.http.get(
        f"/v1/clients?name={'a' * 3000}&birth_date=1980-01-01", headers=bearer("jsc")
    )
    assert response.status_code == 400
    assert error_of(response)["code"] == "query_too_long"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"event_date": "2024-13-01"}, "event_date"),
        ({"event_date": "01-06-2024"}, "event_date"),
        ({"event_date": 20240601}, "event_date"),
        ({"reported_date": "yesterday"}, "reported_date"),
        ({"legal_area": "strafrecht"}, "legal_area"),
        ({"legal_area": ["wonen"]}, "legal_area"),
        ({"claim_amount_eur": "500"}, "claim_amount_eur"),
        ({"claim_amount_eur": True}, "claim_amount_eur"),
        ({"claim_amount_eur": -1}, "claim_amount_eur"),
        ({"policy_number": 12345}, "policy_number"),
        ({"policy_number": "P 1;DROP"}, "policy_number"),
        ({"client_id": "someone"}, "client_id"),
        ({"partner_id": None}, "partner_id"),
        ({"colour": "blue"}, "colour"),
        ({"event_date": "2024-06-03"}, ""),  # reported before the event
    ],
)
def test_a_coverage_check_with_wrong_values_or_types_is_422_naming_the_field(
    api: Any, changes: dict[str, Any], field: str
) -> None:
    response = post_check(api, json.dumps({**VALID_CHECK, **changes}).encode())
    assert response.status_code == 422, response.body
    error = error_of(response)
    assert error["code"] == "validation_failed"
    assert any(field in d["field"] for d in error["details"])


def test_a_coverage_check_for_an_event_after_today_is_422(api: Any) -> None:
    body = {**VALID_CHECK, "event_date": "2150-01-01"}
    del body["reported_date"]
    response = post_check(api, json.dumps(body).encode())
    assert response.status_code == 422
    assert error_of(response)["code"] == "event_after_report"


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'"text"', b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_is_400(api: Any, body: bytes) -> None:
    response = post_check(api, body)
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_json"


def test_a_deeply_nested_body_is_400_not_a_crash(api: Any) -> None:
    response = post_check(api, b'{"a":' * 5000 + b"1" + b"}" * 5000)
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_json"


def test_an_empty_body_is_an_empty_object_whose_missing_fields_are_named(api: Any) -> None:
    response = post_check(api, b"")
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "validation_failed"
    assert {"partner_id", "policy_number"} <= {d["field"] for d in error["details"]}


def test_an_oversized_body_is_refused_as_too_large(api: Any) -> None:
    body = json.dumps({**VALID_CHECK, "policy_number": "P" * 70_000}).encode()
    response = post_check(api, body)
    assert response.status_code == 413
    assert error_of(response)["code"] == "payload_too_large"


@pytest.mark.parametrize("query", ["date=2024-02-30", "date=today", "limit=0", "limit=100000",
                                   "limit=many", "actor=", "cursor=x%23y",
                                   "cursor=bm90LWEtY3Vyc29y", "cursor=" + "A" * 201])  # fmt: skip
def test_a_malformed_audit_query_is_400(api: Any, query: str) -> None:
    response = api.http.get(f"/v1/audit?{query}", headers=bearer("admin"))
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_query"


def test_a_malformed_policy_number_in_the_path_is_400(api: Any) -> None:
    response = api.http.get("/v1/policies/demo-volmacht/P%20%3B1", headers=bearer("jsc"))
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_policy_number"
