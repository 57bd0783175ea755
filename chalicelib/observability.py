"""Powertools Logger, Tracer and Metrics, created once. The Logger's service name differs from
the Chalice app name: with the same name, Chalice's own logger and Powertools both emit every
line. Log lines carry ids and counts, never personal data."""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "polisregister-svc")

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE, disabled=os.environ.get("AWS_EXECUTION_ENV") is None)
metrics = Metrics(
    service=SERVICE, namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Polisregister")
)
