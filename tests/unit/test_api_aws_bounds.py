"""An API request's calls to AWS end well before the API function's timeout in every stage of
.chalice/config.json, so a slow or silent DynamoDB gives the register's 503 `unavailable`, not
API Gateway's bare 502/504 (docs/configuration.md, "Calls to AWS")."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.retries.standard import ExponentialBackoff

from chalicelib.config import ConfigurationError, Settings, load_settings
from chalicelib.store.aws import one_more_call_seconds, worst_call_seconds, worst_request_seconds
from scripts.local_env import ROOT
from tests.unit.test_stage_keys import FROM_THE_STACK, _stage_environment

pytestmark = pytest.mark.unit

CONFIG = json.loads((ROOT / ".chalice" / "config.json").read_text())
# The function must still write its 503 and its log line after the calls gave up.
ROOM_TO_ANSWER_SECONDS = 5


def api_function_timeout(stage: str) -> int:
    """The API function's timeout as Chalice resolves it: the stage's setting for the function,
    the stage's, the function's, the project's."""
    stage_config = CONFIG["stages"][stage]
    for scope in (
        stage_config.get("lambda_functions", {}).get("api_handler", {}),
        stage_config,
        CONFIG.get("lambda_functions", {}).get("api_handler", {}),
        CONFIG,
    ):
        if "lambda_timeout" in scope:
            return int(scope["lambda_timeout"])
    return 60  # Chalice's default


def stage_settings(monkeypatch: pytest.MonkeyPatch, stage: str) -> Settings:
    variables: dict[str, Any] = dict(CONFIG["stages"][stage]["environment_variables"])
    if stage != "local":
        variables.update(FROM_THE_STACK)
    _stage_environment(monkeypatch, variables)
    return load_settings()


@pytest.mark.parametrize("stage", sorted(CONFIG["stages"]))
def test_an_api_requests_calls_to_aws_end_well_before_the_function_does(
    monkeypatch: pytest.MonkeyPatch, stage: str
) -> None:
    # given the stage's configuration as committed
    variables = CONFIG["stages"][stage]["environment_variables"]
    assert "API_AWS_DEADLINE_SECONDS" in variables, "each stage sets its bounds explicitly"
    settings = stage_settings(monkeypatch, stage)
    limit = api_function_timeout(stage) - ROOM_TO_ANSWER_SECONDS

    # then one call with every attempt timing out and every backoff at its longest ends in time
    assert worst_call_seconds(settings) <= limit
    # and so do all of one request's calls together, however many it makes
    assert worst_request_seconds(settings) <= limit


# What the calls before a send that may fail take at most in a normal request (a confirm
# reads and writes its delivery first).
ROOM_FOR_THE_CALLS_BEFORE_SECONDS = 2


@pytest.mark.parametrize("stage", sorted(CONFIG["stages"]))
def test_a_send_that_keeps_time_back_for_its_undo_still_gets_an_attempt(
    monkeypatch: pytest.MonkeyPatch, stage: str
) -> None:
    # given the stage's configuration, and a request that keeps time back for an undo
    # (confirming a held delivery: put it back on hold when its resume cannot be queued)
    settings = stage_settings(monkeypatch, stage)
    attempt = settings.api_aws_connect_timeout_seconds + settings.api_aws_read_timeout_seconds

    # then the send before the undo still has time for one attempt after the calls before it
    left_for_the_send = settings.api_aws_deadline_seconds - one_more_call_seconds(settings)
    assert left_for_the_send >= ROOM_FOR_THE_CALLS_BEFORE_SECONDS + attempt


def test_the_worst_case_waits_as_long_as_botocore_backs_off_at_most() -> None:
    # given botocore's own backoff, with its random factor at its largest, for throttling
    class Throttled:
        def is_throttling_error_from_context(self, context: Any) -> bool:
            return True

    class Attempt:
        def __init__(self, number: int) -> None:
            self.attempt_number = number
            self.http_response = None
            self.parsed_response = {}

    backoff = ExponentialBackoff(
        random=lambda: 1.0, service_name="dynamodb", throttling_detector=Throttled()
    )
    attempts, connect, read = 5, 1.0, 2.0
    settings = Settings(
        api_aws_max_attempts=attempts,
        api_aws_connect_timeout_seconds=connect,
        api_aws_read_timeout_seconds=read,
    )
    waits = [backoff.delay_amount(Attempt(n)) for n in range(1, attempts)]
    # DynamoDB may ask (x-amz-retry-after) for up to 5 s more per wait
    retry_after = 5 * (attempts - 1)

    assert worst_call_seconds(settings) == attempts * (connect + read) + sum(waits) + retry_after


def test_a_deadline_that_leaves_no_room_for_one_attempt_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("API_AWS_READ_TIMEOUT_SECONDS", "10")
    monkeypatch.setenv("API_AWS_DEADLINE_SECONDS", "5")

    with pytest.raises(ConfigurationError, match="API_AWS_DEADLINE_SECONDS"):
        load_settings()
