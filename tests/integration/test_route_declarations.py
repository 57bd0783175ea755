"""The contract is generated from what each route declares (`Api.route(path=, query=, body=)`);
these tests check each handler parses exactly the models its route declares, so the contract
cannot describe one model while the handler reads another."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from pydantic import BaseModel

from chalicelib.auth import Principal
from chalicelib.errors import DomainError, NotFound
from chalicelib.handlers.examples import PATH_PARAMETERS
from chalicelib.handlers.http import RequestContext, RouteSpec
from chalicelib.handlers.openapi import routes

pytestmark = pytest.mark.integration


class _Parsed(Exception):
    """Raised by the recording context once the handler asks for its query or body."""


class _FakeRequest:
    def __init__(self) -> None:
        self.method = "GET"
        self.path = "/"
        self.context: dict[str, str] = {}
        self.query_params = None
        self.raw_body = b""
        self.headers: dict[str, str] = {}


class RecordingContext(RequestContext):
    """Records which models the handler parses; path parameters parse to the examples."""

    def __init__(self, route: RouteSpec) -> None:
        principal = Principal(
            subject="declarations-test",
            roles=frozenset({"admin", "jsc", "portal", "partner"}),
            partner_id="demo-volmacht",
        )
        names = [n for n in PATH_PARAMETERS if "{" + n + "}" in route.path]
        super().__init__(_FakeRequest(), principal, {n: PATH_PARAMETERS[n][1] for n in names})
        self.parsed: dict[str, type[BaseModel]] = {}

    def path(self, model: type[Any], not_found: NotFound) -> Any:
        self.parsed["path"] = model
        return model.model_validate(self.path_params)

    def query(self, model: type[Any]) -> Any:
        self.parsed["query"] = model
        raise _Parsed

    def body(self, model: type[Any]) -> Any:
        self.parsed["body"] = model
        raise _Parsed


@pytest.mark.parametrize("route", list(routes()), ids=lambda r: f"{r.method} {r.path}")
def test_each_handler_parses_exactly_the_models_its_route_declares(
    route: RouteSpec, aws: dict[str, str]
) -> None:
    # given a context that records what the handler parses
    context = RecordingContext(route)

    # when the handler runs (over an empty moto table: it ends in a domain error or an answer)
    with contextlib.suppress(_Parsed, DomainError):
        route.handler(context)

    # then it parsed the declared path, query and body models, and no other
    kinds = {"path": route.path_model, "query": route.query, "body": route.body}
    declared = {kind: model for kind, model in kinds.items() if model is not None}
    assert context.parsed == declared
