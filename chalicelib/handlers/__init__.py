"""Every blueprint of the app, in one list (app.py registers them)."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.handlers import (
    activation_worker,
    audit,
    clients,
    coverage,
    deliveries,
    health,
    ingest,
    mandates,
    policies,
)

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
)
