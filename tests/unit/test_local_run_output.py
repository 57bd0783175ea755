"""What `make run` tells a newcomer while it starts: its progress lines reach the terminal, and
a demo that is not loaded in time is said to be loading, with how to see when it is done."""

from __future__ import annotations

import logging

import pytest
from chalice import Chalice

from scripts import pump, run_local
from scripts.run_local import LocalRun

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("logger", "level", "line"),
    [
        (run_local.log, logging.INFO, "loading the demo: 1 of 3 deliveries final"),
        (pump.log, logging.WARNING, "ingest reported 1 of 1 messages failed; they are retried"),
    ],
)
def test_the_runs_and_the_pumps_lines_reach_the_terminal_once_the_app_is_loaded(
    caplog: pytest.LogCaptureFixture, logger: logging.Logger, level: int, line: str
) -> None:
    # given the app's Chalice object, which gives the logger of its name a handler at ERROR
    # (the pump imports the app)
    Chalice(app_name="polisregister")

    # when the local run says where the demo load stands, or the pump warns of failed messages
    with caplog.at_level(logging.INFO):
        logger.log(level, line)

    # then the line is in the run's output like every other
    assert line in caplog.text


def test_a_demo_still_loading_after_the_timeout_is_said_with_how_to_follow_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given a run whose demo was not final within DEMO_TIMEOUT
    monkeypatch.setenv("DEMO_TIMEOUT", "120")
    run = LocalRun()
    run._demo_reports = {"demo-volmacht": {"partner_id": "demo-volmacht"}}
    run._demo_pending = {"demo-verzekeraar": "k1", "demo-intermediair": "k2"}

    # when it says so
    text = run._demo_still_loading()

    # then it names the state, what the newcomer waits for and the call that shows it
    assert "still being ingested after 120 s (1 of 3 deliveries final)" in text
    assert "Demo portfolio loaded" in text
    assert f"{run.api_url}/v1/deliveries" in text
