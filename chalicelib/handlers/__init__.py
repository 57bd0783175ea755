"""Every blueprint of the app, in one list (app.py registers them)."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.handlers import (
    activation_worker,
    audit,
    clients,
    console,
    coverage,
    deliveries,
    health,
    ingest,
    mandates,
    policies,
    quality,
    reference,
)
from chalicelib.handlers.http import Api

BLUEPRINTS: tuple[Blueprint, ...] = (
    health.api.blueprint,
    deliveries.api.blueprint,
    ingest.blueprint,
    mandates.api.blueprint,
    activation_worker.blueprint,
    clients.api.blueprint,
    policies.api.blueprint,
    coverage.api.blueprint,
    audit.api.blueprint,
    quality.api.blueprint,
    reference.api.blueprint,
    console.api.blueprint,
)

# The HTTP routes, in the order the API contract lists them (chalicelib/handlers/openapi.py).
APIS: tuple[Api, ...] = (
    health.api,
    clients.api,
    policies.api,
    coverage.api,
    deliveries.api,
    quality.api,
    mandates.api,
    audit.api,
    reference.api,
    console.api,
)
