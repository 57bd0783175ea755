"""Polisregister: wires blueprints and middleware, nothing else."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from chalice import Chalice

from chalicelib.config import get_settings
from chalicelib.handlers import blueprints
from chalicelib.handlers.http import one_error_shape
from chalicelib.observability import logger, metrics

app = Chalice(app_name="polisregister")

if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
    # Cold start in Lambda: a bad stage configuration fails here, naming the variable.
    get_settings()


app.register_middleware(one_error_shape, "http")


@app.middleware("all")
def observability(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Powertools, wired once: the invocation's request id on every log line, metrics flushed
    as EMF after the invocation."""
    get_settings()
    # SQS events carry the Lambda context; HTTP requests leave it on the app.
    candidates = (getattr(event, "context", None), getattr(app, "lambda_context", None))
    context = next((c for c in candidates if hasattr(c, "aws_request_id")), None)
    if context is not None:
        logger.append_keys(
            function_name=getattr(context, "function_name", None),
            function_request_id=getattr(context, "aws_request_id", None),
        )
    try:
        return get_response(event)
    finally:
        if metrics.metric_set:
            metrics.flush_metrics()
        logger.remove_keys(["function_name", "function_request_id"])


for blueprint in blueprints():
    app.register_blueprint(blueprint)

logger.debug("app wired")
