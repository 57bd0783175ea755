"""Each test starts as a fresh Lambda process would: what one test leaves in the process's
globals must not show up in the next one's figures."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from chalicelib.observability import metrics
from tests.conftest import _fresh_process_state


def test_a_fresh_process_state_holds_no_metric_an_earlier_test_recorded() -> None:
    # given a metric recorded outside any invocation, as a service called directly records one
    # (nothing flushes it: only the handler's middleware does)
    metrics.add_metric(name="RowsAccepted", unit=MetricUnit.Count, value=3)

    # when the next test starts
    _fresh_process_state()

    # then its first invocation's metrics hold only its own figures
    assert not metrics.metric_set
