"""A local run prepared for showing the console: the demo portfolio plus one held full delivery
(demo-intermediair re-delivers only its first 10 policies, so confirming would end the rest).
Shared by `make screenshots` and `make bench-console`."""

from __future__ import annotations

import io
import json
import os
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from scripts.demo_data import DEMO_SEED, generate_rows, write_csv
from scripts.local_run_process import StartedRun, local_run_on_free_ports
from scripts.token import local_token

HELD_PARTNER = "demo-intermediair"
HELD_KEPT_POLICIES = 10


def api_get(info: dict[str, Any], path: str) -> Any:
    request = urllib.request.Request(
        info["api_url"] + path, headers={"Authorization": f"Bearer {local_token('admin')}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def hold_a_full_delivery(info: dict[str, Any], timeout_s: float = 60) -> dict[str, Any]:
    """Upload a smaller full file for HELD_PARTNER and wait until it is held for review."""
    import boto3

    body = io.BytesIO()
    write_csv(body, generate_rows(HELD_KEPT_POLICIES, seed=DEMO_SEED, partner_id=HELD_PARTNER))
    key = f"incoming/{HELD_PARTNER}/full/smaller-portfolio.csv"
    boto3.client(
        "s3",
        endpoint_url=info["aws_endpoint_url"],
        region_name=info["region"],
        aws_access_key_id="test",
        aws_secret_access_key="test",
    ).put_object(Bucket=info["bucket"], Key=key, Body=body.getvalue())
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for delivery in api_get(info, f"/v1/deliveries?partner_id={HELD_PARTNER}")["deliveries"]:
            if delivery["object_key"] == key and delivery["status"] == "held_for_review":
                return dict(delivery)
        time.sleep(0.5)
    raise RuntimeError(f"{key} was not held within {timeout_s:.0f} s")


@contextmanager
def demo_run(demo_policies: int) -> Iterator[StartedRun]:
    """A local run of its own (free ports, a temporary run directory) with the demo portfolio
    and a held delivery; stopped at the end."""
    with (
        tempfile.TemporaryDirectory(prefix="console-demo-") as run_dir,
        local_run_on_free_ports(Path(run_dir), os.environ, demo_policies) as started,
    ):
        hold_a_full_delivery(started.info)
        yield started
