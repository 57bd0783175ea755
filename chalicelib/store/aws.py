"""Lazily created AWS clients: nothing connects at import time, so moto can patch every call."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from chalicelib.config import get_settings

_RETRIES = Config(
    retries={"mode": "standard", "max_attempts": 8}, connect_timeout=5, read_timeout=30
)
_cache: dict[str, Any] = {}


def client(service: str) -> Any:
    key = f"client:{service}"
    if key not in _cache:
        settings = get_settings()
        _cache[key] = boto3.client(
            service,  # type: ignore[call-overload]
            region_name=settings.aws_region,
            endpoint_url=settings.aws_endpoint_url,
            config=_RETRIES,
        )
    return _cache[key]


def resource(service: str) -> Any:
    key = f"resource:{service}"
    if key not in _cache:
        settings = get_settings()
        _cache[key] = boto3.resource(
            service,  # type: ignore[call-overload]
            region_name=settings.aws_region,
            endpoint_url=settings.aws_endpoint_url,
            config=_RETRIES,
        )
    return _cache[key]


def reset_clients() -> None:
    """Forget every client (tests start a fresh moto backend; the local run changes endpoint)."""
    _cache.clear()
