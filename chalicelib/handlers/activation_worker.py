"""`send_activation`: the activation queue's worker (chalicelib/services/activation.py)."""

from __future__ import annotations

import os
from typing import Any

from chalice import Blueprint
from chalice.app import SQSEvent

from chalicelib.handlers.sqs import RemainingMs, process_batch
from chalicelib.services.activation import handle_message

blueprint = Blueprint(__name__)


@blueprint.on_sqs_message(
    queue=os.environ.get("ACTIVATION_QUEUE_NAME", "polisregister-activation"),
    batch_size=10,
    name="send_activation",
)
def send_activation(event: SQSEvent) -> dict[str, Any]:
    """Only the failed messages are reported (ReportBatchItemFailures); SQS deletes the rest."""
    return process_batch(event, _handle)


def _handle(body: str, _remaining_ms: RemainingMs) -> None:
    handle_message(body)
