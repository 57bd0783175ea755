"""The API fuzzed against its own contract (schemathesis): every operation of the document the
local run serves, with a token of each role and with none, valid and invalid input. No answer
may be a 5xx, every answer must conform to the document (status, media type, body schema), and
every 4xx must be `{"error": {"code", "message"}}`.

`make test` runs a few examples per operation; `make fuzz EXAMPLES=n` runs n per operation.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from scripts.openapi import COMMITTED
from scripts.token import local_token
from tests.e2e.conftest import LocalRun

pytestmark = pytest.mark.e2e

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))
CALLERS = ("admin", "jsc", "portal", "partner", "no token")
PARTNER = "demo-volmacht"
SUMMARY_KEY = "polisregister/fuzz-summary"


def error_shape(ctx: Any, response: Any, case: Any) -> bool:
    """Every 4xx, documented or not, is `{"error": {"code", "message", "details"?}}`."""
    if 400 <= response.status_code < 500:
        body = json.loads(response.content)
        assert isinstance(body, dict), body
        assert list(body) == ["error"], body
        error = body["error"]
        assert isinstance(error.get("code"), str), body
        assert error["code"], body
        assert isinstance(error.get("message"), str), body
        assert set(error) <= {"code", "message", "details"}, body
    return True


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    error_shape,
]


class Tally:
    """What the run sent and got, per operation (reported at the end of the session)."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self.callers: Counter[str] = Counter()

    def add(self, operation: str, caller: str, status: int) -> None:
        self.requests[operation] += 1
        self.statuses[status] += 1
        self.callers[caller] += 1

    def summary(self) -> dict[str, Any]:
        return {
            "operations": len(self.requests),
            "requests": sum(self.requests.values()),
            "examples_per_operation": {
                "min": min(self.requests.values(), default=0),
                "max": max(self.requests.values(), default=0),
                "setting": EXAMPLES,
            },
            "by_caller": dict(sorted(self.callers.items())),
            "by_status": {str(k): v for k, v in sorted(self.statuses.items())},
            "server_errors": sum(v for k, v in self.statuses.items() if k >= 500),
        }


@pytest.fixture(scope="module")
def tally(request: pytest.FixtureRequest) -> Iterator[Tally]:
    found = Tally()
    yield found
    request.config.cache.set(SUMMARY_KEY, found.summary())


@pytest.fixture(scope="module")
def tokens() -> dict[str, str]:
    return {
        caller: local_token(caller, PARTNER if caller == "partner" else None)
        for caller in CALLERS
        if caller != "no token"
    }


@pytest.fixture(scope="module")
def served_contract(local_run: LocalRun) -> Any:
    """The document the local run serves (not the committed file: the one the app answers)."""
    return schemathesis.openapi.from_url(local_run.api_url + "/v1/openapi.json")


def _operations() -> list[str]:
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    return [
        f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item
    ]


@pytest.mark.parametrize("operation", _operations())
def test_every_operation_answers_as_its_contract_says(
    operation: str,
    served_contract: Any,
    local_run: LocalRun,
    tokens: dict[str, str],
    tally: Tally,
) -> None:
    # given generated requests for the operation, valid and invalid
    method, path = operation.split(" ", 1)
    definition = served_contract[path][method]
    requests = st.one_of(
        definition.as_strategy(GenerationMode.POSITIVE),
        definition.as_strategy(GenerationMode.NEGATIVE),
    )

    def send_as(caller: str) -> None:
        headers = {"Authorization": f"Bearer {tokens[caller]}"} if caller in tokens else {}

        @given(case=requests)
        @settings(
            max_examples=max(1, EXAMPLES // len(CALLERS)),
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def sent(case: Any) -> None:
            response = case.call(base_url=local_run.api_url, headers=headers, timeout=30)
            tally.add(operation, caller, response.status_code)
            # then no 5xx, the answer conforms to the document, and a 4xx is in the error shape
            case.validate_response(response, checks=CHECKS, headers=headers)

        sent()

    # when each kind of caller sends them: a token of each role, and none
    for caller in CALLERS:
        send_as(caller)
