"""Polisregister: wires blueprints and middleware, nothing else."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from chalice import Chalice, ConvertToMiddleware

from chalicelib.config import get_settings
from chalicelib.handlers import BLUEPRINTS
from chalicelib.handlers.http import one_error_shape
from chalicelib.observability import logger, metrics

app = Chalice(app_name="polisregister")

if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
    # Cold start in Lambda: a bad stage configuration fails here, naming the variable.
    get_settings()

# Powertools' own decorator, as Chalice middleware: the invocation's context (function name,
# request id, cold start) on every log line, for HTTP and SQS invocations alike.
app.register_middleware(ConvertToMiddleware(logger.inject_lambda_context))


app.register_middleware(one_error_shape, "http")


@app.middleware("all")
def flush_metrics(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Metrics go out as EMF after the invocation, only when there are any (Powertools'
    `log_metrics` would warn on every request that records none)."""
    get_settings()
    try:
        return get_response(event)
    finally:
        if metrics.metric_set:
            metrics.flush_metrics()


for blueprint in BLUEPRINTS:
    app.register_blueprint(blueprint)

logger.debug("app wired")
