"""Polisregister: wires blueprints and middleware, nothing else."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from chalice import Chalice

from chalicelib.config import get_settings
from chalicelib.handlers import blueprints
from chalicelib.observability import logger

app = Chalice(app_name="polisregister")

if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
    # Cold start in Lambda: a bad stage configuration fails here, naming the variable.
    get_settings()


@app.middleware("all")
def observability(event: Any, get_response: Callable[[Any], Any]) -> Any:
    get_settings()
    return get_response(event)


for blueprint in blueprints():
    app.register_blueprint(blueprint)

logger.debug("app wired")
