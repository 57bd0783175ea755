"""`send_activation`: the mail queue's worker. It sends the activation e-mails
(chalicelib/services/activation.py) and the delivery notices to partners
(chalicelib/services/notices.py), each at most once per message."""

from __future__ import annotations

import json
import os

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from chalice import Blueprint
from chalice.app import SQSEvent

from chalicelib.handlers.sqs import process_batch
from chalicelib.models.delivery import DELIVERY_NOTICE, DeliveryNoticeMessage
from chalicelib.models.mandates import ActivationMessage
from chalicelib.services.activation import deliver_activation
from chalicelib.services.notices import deliver_notice

blueprint = Blueprint(__name__)


def handle_message(body: str) -> str:
    """One queue message. Raises when it should be retried (`process_batch` then reports it in
    `batchItemFailures`); an unreadable body raises too and so ends in the DLQ."""
    document = json.loads(body)
    if isinstance(document, dict) and document.get("kind") == DELIVERY_NOTICE:
        return deliver_notice(DeliveryNoticeMessage.model_validate(document))
    return deliver_activation(ActivationMessage.model_validate(document))


@blueprint.on_sqs_message(
    queue=os.environ.get("ACTIVATION_QUEUE_NAME", "polisregister-activation"),
    batch_size=10,
    name="send_activation",
)
def send_activation(event: SQSEvent) -> PartialItemFailureResponse:
    """Only the failed messages are reported (ReportBatchItemFailures); SQS deletes the rest."""
    return process_batch(event, lambda record, _remaining_ms: handle_message(record.body))
