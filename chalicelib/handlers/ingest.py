"""The ingest function: SQS (fed by S3 ObjectCreated notifications) → IngestService."""

from __future__ import annotations

import os

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from chalice import Blueprint
from chalice.app import SQSEvent

from chalicelib.config import get_settings
from chalicelib.handlers.sqs import process_batch
from chalicelib.services.ingest import IngestService

blueprint = Blueprint(__name__)


@blueprint.on_sqs_message(
    queue=os.environ.get("INGEST_QUEUE_NAME", "polisregister-ingest"), batch_size=1, name="ingest"
)
def ingest(event: SQSEvent) -> PartialItemFailureResponse:
    service = IngestService()
    return process_batch(
        event,
        lambda record, remaining_ms: service.handle_message(record.body, remaining_ms),
        min_remaining_ms=get_settings().ingest_min_remaining_ms,
        # The queue's 90 minutes are sized for the longest run, not for a retry.
        retry_soon_after_failure=True,
    )
