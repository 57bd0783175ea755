"""`send_activation`: the activation queue's worker (chalicelib/services/activation.py)."""

from __future__ import annotations

import os

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from chalice import Blueprint
from chalice.app import SQSEvent

from chalicelib.handlers.sqs import process_batch
from chalicelib.services.activation import handle_message

blueprint = Blueprint(__name__)


@blueprint.on_sqs_message(
    queue=os.environ.get("ACTIVATION_QUEUE_NAME", "polisregister-activation"),
    batch_size=10,
    name="send_activation",
)
def send_activation(event: SQSEvent) -> PartialItemFailureResponse:
    """Only the failed messages are reported (ReportBatchItemFailures); SQS deletes the rest."""
    return process_batch(event, lambda record, _remaining_ms: handle_message(record.body))
