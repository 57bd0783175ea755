"""The API contract: generated from the route declarations, committed as docs/openapi.json,
valid OpenAPI 3.1, complete for every route, with examples that fit their own schemas."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from chalicelib.handlers.openapi import build_document, document_json, error_codes, routes
from scripts.openapi import COMMITTED
from scripts.openapi import main as openapi_main

pytestmark = pytest.mark.unit

DOCUMENT = build_document()


DOCUMENT_URI = "urn:polisregister:openapi"
REGISTRY: Registry = Registry().with_resource(DOCUMENT_URI, DRAFT202012.create_resource(DOCUMENT))


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    """A validator for `schema` whose #/components/... references resolve in the document."""
    anchored = json.loads(
        json.dumps(schema).replace('"#/components/', f'"{DOCUMENT_URI}#/components/')
    )
    return Draft202012Validator(anchored, registry=REGISTRY)


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in DOCUMENT["paths"].items()
        for method, operation in item.items()
    ]


def test_the_committed_document_is_what_the_code_generates():
    # given the committed docs/openapi.json
    committed = COMMITTED.read_text(encoding="utf-8")

    # then it is byte for byte the generated document (`make openapi` rewrites it)
    assert committed == document_json(), "docs/openapi.json is out of date: run `make openapi`"


def test_the_drift_check_fails_on_a_stale_file(tmp_path):
    # given a committed file that differs from the code
    stale = tmp_path / "openapi.json"
    stale.write_text(document_json().replace("Polisregister API", "Old API"), encoding="utf-8")

    # when checked, then it fails; once rewritten, it passes
    assert openapi_main(["--check", "--out", str(stale)]) == 1
    assert openapi_main(["--out", str(stale)]) == 0
    assert openapi_main(["--check", "--out", str(stale)]) == 0


def test_the_document_is_valid_openapi_3_1():
    validate(DOCUMENT)
    assert DOCUMENT["openapi"].startswith("3.1.")


def test_every_route_of_the_app_is_an_operation_of_the_document():
    # given the app as Chalice serves it
    from app import app

    served = {(path, method.lower()) for path, entry in app.routes.items() for method in entry}

    # then the document has exactly those operations
    assert {(path, method) for path, method, _ in _operations()} == served


def test_every_operation_names_its_roles_and_security():
    for route in routes():
        operation = DOCUMENT["paths"][route.path][route.method.lower()]
        if route.roles is None:
            assert operation["security"] == []
            assert operation["x-roles"] == []
            assert "Public" in operation["description"]
        else:
            assert operation["security"] == [{"bearer": []}]
            assert operation["x-roles"] == sorted(route.roles)
            for role in route.roles:
                assert f"`{role}`" in operation["description"]


def test_every_error_response_lists_its_codes_in_the_error_shape():
    for route in routes():
        responses = DOCUMENT["paths"][route.path][route.method.lower()]["responses"]
        for status, codes in error_codes(route).items():
            schema = responses[str(status)]["content"]["application/json"]["schema"]
            assert schema["allOf"][0] == {"$ref": "#/components/schemas/Error"}
            assert schema["allOf"][1]["properties"]["error"]["properties"]["code"]["enum"] == codes
            # a body with one of the codes fits the schema, one with another code does not
            validator = _validator(schema)
            assert validator.is_valid({"error": {"code": codes[0], "message": "x"}})
            assert not validator.is_valid({"error": {"code": "not_a_code", "message": "x"}})
            assert not validator.is_valid({"code": codes[0], "message": "x"})


def test_routes_with_a_token_answer_401_and_403_and_every_route_500_and_503():
    for path, method, operation in _operations():
        statuses = set(operation["responses"])
        assert {"500", "503"} <= statuses, (method, path)
        if operation["security"]:
            assert {"401", "403"} <= statuses, (method, path)


def test_every_response_and_request_model_has_an_example_that_fits_its_own_schema():
    # given every model the operations refer to as a body or a response
    referenced: set[str] = set()
    for _, _, operation in _operations():
        bodies = [operation.get("requestBody", {}).get("content", {})]
        bodies += [response.get("content", {}) for response in operation["responses"].values()]
        for content in bodies:
            for media in content.values():
                ref = media.get("schema", {}).get("$ref", "")
                if ref and not ref.endswith("/Error"):
                    referenced.add(ref)
                    # the operation's own example fits too
                    assert _validator({"$ref": ref}).is_valid(media["example"]), ref
    assert len(referenced) >= 15

    # then each has an example, and every example validates against the model's schema
    for ref in sorted(referenced):
        schema = DOCUMENT["components"]["schemas"][ref.rsplit("/", 1)[1]]
        assert schema.get("examples"), f"{ref} has no example"
        validator = _validator({"$ref": ref})
        for example in schema["examples"]:
            errors = [e.message for e in validator.iter_errors(example)]
            assert errors == [], (ref, errors)


def test_a_broken_example_is_caught_by_the_schema():
    # given the candidate list example with a field of the wrong type
    example = json.loads(
        json.dumps(DOCUMENT["components"]["schemas"]["CandidateList"]["examples"][0])
    )
    example["candidates"][0]["match"]["score"] = "high"

    # then its schema rejects it (the example test can fail)
    assert not _validator({"$ref": "#/components/schemas/CandidateList"}).is_valid(example)


def test_query_parameters_carry_descriptions_examples_and_no_null():
    for _, _, operation in _operations():
        for parameter in operation.get("parameters", []):
            assert parameter["description"]
            assert "example" in parameter
            assert "null" not in json.dumps(parameter["schema"])
