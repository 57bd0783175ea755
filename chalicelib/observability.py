"""Powertools Logger and Metrics, created once. The Logger's service name differs from the
Chalice app name: with the same name, Chalice's own logger and Powertools both emit every line.
Log lines carry ids and counts, never personal data.

No Powertools Tracer: the functions' active tracing (infra/template.yaml) records every
invocation, and a Tracer's subsegments would need the X-Ray SDK in the deployment package."""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "polisregister-svc")

logger = Logger(service=SERVICE)
metrics = Metrics(
    service=SERVICE, namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Polisregister")
)
