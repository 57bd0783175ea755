"""Every blueprint of the app, in one list (app.py registers them)."""

from __future__ import annotations

import importlib

from chalice import Blueprint

# Modules that define `api` (an http.Api) or `blueprint` (SQS handlers).
HANDLER_MODULES = (
    "health",
    "deliveries",
    "ingest",
    "mandates",
    "activation_worker",
    "clients",
    "policies",
    "coverage",
    "audit",
    "reference",
)


def blueprints() -> list[Blueprint]:
    found: list[Blueprint] = []
    for name in HANDLER_MODULES:
        module = importlib.import_module(f"chalicelib.handlers.{name}")
        api = getattr(module, "api", None)
        found.append(api.blueprint if api is not None else module.blueprint)
    return found
