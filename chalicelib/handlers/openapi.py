"""The API contract, OpenAPI 3.1, generated from the route declarations (`Api.route` in
`http.py`) and the pydantic models they name, so it describes the code that serves it.

3.1 rather than 3.0: its schemas are JSON Schema 2020-12, which is what pydantic emits, so the
models go in unchanged (3.0 would need `nullable` rewrites of every optional field). API
Gateway cannot import 3.1, but it does not need to: Chalice builds the gateway's own definition
from the same routes. See docs/openapi.md.
"""

from __future__ import annotations

import json
import re
import typing
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from chalicelib.handlers.examples import MODEL_EXAMPLES, PATH_PARAMETERS, QUERY_PARAMETERS
from chalicelib.handlers.http import RouteSpec

OPENAPI_VERSION = "3.1.0"
TITLE = "Polisregister API"
VERSION = "1"
REF = "#/components/schemas/{model}"
SECURITY_SCHEME = "bearer"

DESCRIPTION = """\
The register of clients and policies of a Dutch legal-expenses insurer: recognising callers,
coverage decisions, delivery reports, mandates for the client portal and the audit log.

Every operation but the public ones needs `Authorization: Bearer <token>`; the roles that may
call an operation are in its description and in `x-roles`. Every error is
`{"error": {"code", "message", "details"?}}`; each response lists the codes it can carry.
"""

# Codes that any route of a kind can answer, by the HTTP status they come with.
AUTHENTICATED_ERRORS: dict[int, tuple[str, ...]] = {
    401: ("missing_token", "invalid_token", "token_expired"),
    403: ("role_not_allowed",),
}
QUERY_ERRORS: dict[int, tuple[str, ...]] = {
    400: ("invalid_query", "query_too_long", "repeated_parameter")
}
BODY_ERRORS: dict[int, tuple[str, ...]] = {
    400: ("invalid_json",),
    413: ("payload_too_large",),
    415: ("unsupported_media_type",),
    422: ("validation_failed",),
}
SERVER_ERRORS: dict[int, tuple[str, ...]] = {
    500: ("internal_error",),
    503: ("throttled", "unavailable"),
}

STATUS_TEXT = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    400: "Bad request: the query or body cannot be read",
    401: "No valid bearer token",
    403: "The token's role or partner may not do this",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict with the current state",
    413: "Body too large",
    415: "Unsupported media type",
    422: "The request breaks a rule",
    500: "Internal error",
    503: "Busy or unavailable: try again later",
}

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every error the API answers.",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "additionalProperties": False,
            "properties": {
                "code": {"type": "string", "description": "stable, machine-readable"},
                "message": {"type": "string", "description": "for people; may change"},
                "details": {
                    "description": "per-field problems (`field`, `message`) for invalid "
                    "input, the broken rules for a mandate request, or the state for a "
                    "conflict"
                },
            },
        }
    },
}

_PATH_PARAMETER = re.compile(r"{(\w+)}")


def routes() -> Iterator[RouteSpec]:
    """Every route the app serves, in the order of `APIS`."""
    # Imported here: the route table includes the route that serves this document, whose module
    # imports this one.
    from chalicelib.handlers import APIS

    for api in APIS:
        yield from api.routes


def response_model(route: RouteSpec) -> type[BaseModel] | None:
    """The declared response model, else the handler's return annotation if it is a model."""
    if route.response is not None:
        return route.response
    returned = typing.get_type_hints(route.handler).get("return")
    if isinstance(returned, type) and issubclass(returned, BaseModel):
        return returned
    return None


def error_codes(route: RouteSpec) -> dict[int, list[str]]:
    """Every error code the route can answer, by status: its own and the shared ones."""
    groups: list[Mapping[int, Iterable[str]]] = []
    if route.roles is not None:
        groups.append(AUTHENTICATED_ERRORS)
    if route.query is not None:
        groups.append(QUERY_ERRORS)
    if route.body is not None:
        groups.append(BODY_ERRORS)
    groups += [route.errors, SERVER_ERRORS]
    codes: dict[int, list[str]] = {}
    for group in groups:
        for status, found in group.items():
            listed = codes.setdefault(status, [])
            listed.extend(code for code in found if code not in listed)
    return dict(sorted(codes.items()))


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent or a string: drop the `null` branch of an optional field."""
    branches = schema.get("anyOf")
    if not branches:
        return schema
    kept = [b for b in branches if b.get("type") != "null"]
    rest = {k: v for k, v in schema.items() if k not in ("anyOf", "default")}
    if len(kept) == 1:
        return {**rest, **kept[0]}
    return {**rest, "anyOf": kept}


def _parameters(route: RouteSpec, schemas: dict[str, Any]) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = []
    declared = route.path_model.model_json_schema()["properties"] if route.path_model else {}
    for name in _PATH_PARAMETER.findall(route.path):
        description, example = PATH_PARAMETERS[name]
        schema = {k: v for k, v in declared.get(name, {}).items() if k != "title"}
        parameters.append(
            {
                "name": name,
                "in": "path",
                "required": True,
                "description": description,
                "schema": schema or {"type": "string", "minLength": 1},
                "example": example,
            }
        )
    if route.query is not None:
        model = schemas[route.query.__name__]
        described = QUERY_PARAMETERS[route.query]
        for name, field in model["properties"].items():
            schema = _without_null(dict(field))
            schema.pop("title", None)
            description, example = described[name]
            parameter: dict[str, Any] = {
                "name": name,
                "in": "query",
                "required": name in model.get("required", ()),
                "description": description,
                "schema": schema,
                "example": example,
            }
            parameters.append(parameter)
    return parameters


def _example(model: type[BaseModel], *, request: bool = False) -> Any:
    """A request example leaves out what a caller would not send; a response one shows it all."""
    return MODEL_EXAMPLES[model].model_dump(mode="json", exclude_none=request)


def _errors(route: RouteSpec) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status, codes in error_codes(route).items():
        responses[str(status)] = {
            "description": f"{STATUS_TEXT[status]}: {', '.join(f'`{c}`' for c in codes)}",
            "content": {
                "application/json": {
                    "schema": {
                        "allOf": [
                            {"$ref": REF.format(model="Error")},
                            {"properties": {"error": {"properties": {"code": {"enum": codes}}}}},
                        ]
                    },
                    "example": {"error": {"code": codes[0], "message": STATUS_TEXT[status]}},
                }
            },
        }
    return responses


def _operation(route: RouteSpec, schemas: dict[str, Any]) -> dict[str, Any]:
    doc = (route.handler.__doc__ or route.handler.__name__).strip()
    first, _, more = doc.partition("\n\n")
    first = " ".join(first.split())
    if route.roles is None:
        who = "Public: no token needed."
    else:
        who = f"Roles: {', '.join(f'`{r}`' for r in sorted(route.roles))}."
    operation: dict[str, Any] = {
        "operationId": route.handler.__name__,
        "summary": first.split(": ")[0].split(". ")[0].rstrip("."),
        "description": "\n\n".join(p for p in (first, " ".join(more.split()), who) if p),
        "tags": list(route.tags),
        "x-roles": sorted(route.roles) if route.roles is not None else [],
        "security": [{SECURITY_SCHEME: []}] if route.roles is not None else [],
    }
    if route.deprecated is not None:
        operation["deprecated"] = True
        operation["description"] += (
            f"\n\nDeprecated: {route.deprecated.reason}; use {route.deprecated.successor}. "
            f"Answered until {route.deprecated.sunset:%Y-%m-%d}; every answer carries the "
            "`Deprecation`, `Sunset` and `Link` (successor) headers."
        )
    parameters = _parameters(route, schemas)
    if parameters:
        operation["parameters"] = parameters
    if route.body is not None:
        operation["requestBody"] = {
            "required": bool(route.body.model_json_schema().get("required")),
            "content": {
                "application/json": {
                    "schema": {"$ref": REF.format(model=route.body.__name__)},
                    "example": _example(route.body, request=True),
                }
            },
        }
    model = response_model(route)
    success: dict[str, Any] = {"description": STATUS_TEXT[route.status]}
    if model is not None:
        success["content"] = {
            "application/json": {
                "schema": {"$ref": REF.format(model=model.__name__)},
                "example": _example(model),
            }
        }
    else:
        success["content"] = {
            media_type: {"schema": {"type": "object"} if media_type.endswith("json") else {}}
            for media_type in route.media_types
        }
    operation["responses"] = {str(route.status): success, **_errors(route)}
    if route.see_other:
        operation["responses"]["303"] = {
            "description": route.see_other,
            "headers": {"Location": {"schema": {"type": "string", "format": "uri"}}},
        }
    return operation


def _model_schemas(routes: list[RouteSpec]) -> dict[str, Any]:
    models: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {}
    for route in routes:
        for model, mode in (
            (route.query, "validation"),
            (route.body, "validation"),
            (response_model(route), "serialization"),
        ):
            if model is not None:
                models[(model, mode)] = None  # type: ignore[index]
    _, definitions = models_json_schema(list(models), ref_template=REF)
    schemas: dict[str, Any] = definitions.get("$defs", {})
    for model, mode in models:
        if model in MODEL_EXAMPLES and model.__name__ in schemas:
            schemas[model.__name__]["examples"] = [_example(model, request=mode == "validation")]
    return schemas


def build_document() -> dict[str, Any]:
    """The whole OpenAPI document."""
    declared = list(routes())
    schemas = _model_schemas(declared)
    paths: dict[str, dict[str, Any]] = {}
    for route in declared:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, schemas)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": TITLE, "version": VERSION, "description": DESCRIPTION},
        "tags": [{"name": tag} for tag in dict.fromkeys(t for r in declared for t in r.tags)],
        "paths": paths,
        "components": {
            "schemas": {**dict(sorted(schemas.items())), "Error": ERROR_SCHEMA},
            "securitySchemes": {
                SECURITY_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "Cognito in prod (roles from `cognito:groups`); on the local "
                    "run `make token ROLE=<admin|jsc|portal|partner>`.",
                }
            },
        },
    }


@lru_cache(maxsize=1)
def document_json() -> str:
    """The document as served and committed (docs/openapi.json): stable key order, indented."""
    return json.dumps(build_document(), indent=2, ensure_ascii=False) + "\n"
