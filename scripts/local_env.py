"""Shared helpers of the local-run scripts: the local stage's environment and `.run/local.json`.

The local stage's configuration is `.chalice/config.json` (stage `local`), the same file
`chalice local --stage local` reads; the local run adds where the embedded AWS is and fake
credentials. `RUN_DIR` (default `.run/` in the repository) holds `local.json` and the logs, so
tests can start a run of their own without touching a developer's.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHALICE_CONFIG = ROOT / ".chalice" / "config.json"
LOCAL_STAGE = "local"
DEFAULT_REGION = "eu-west-1"
RUN_INFO = "local.json"
# Where the embedded AWS lists the e-mails its SES sent (scripts/embedded_aws.py).
SENT_MAIL_PATH = "/_local/ses/sent"

# The embedded AWS accepts any credentials; never use the developer's real ones against it.
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


class LocalRunNotFound(RuntimeError):
    """No local run is described in the run directory."""


def chalice_config() -> dict[str, Any]:
    config: dict[str, Any] = json.loads(CHALICE_CONFIG.read_text(encoding="utf-8"))
    return config


def stage_environment(stage: str = LOCAL_STAGE) -> dict[str, str]:
    """The stage's environment variables as Chalice merges them: top level, then the stage."""
    config = chalice_config()
    if stage not in config.get("stages", {}):
        raise KeyError(f"stage {stage!r} is not in {CHALICE_CONFIG}")
    env = {k: str(v) for k, v in config.get("environment_variables", {}).items()}
    env.update(
        {k: str(v) for k, v in config["stages"][stage].get("environment_variables", {}).items()}
    )
    return env


def local_environment(
    *,
    aws_endpoint_url: str,
    region: str = DEFAULT_REGION,
    ingest_queue_url: str = "",
    activation_queue_url: str = "",
    api_url: str | None = None,
) -> dict[str, str]:
    """Everything a process of the local run needs in its environment."""
    env = stage_environment(LOCAL_STAGE)
    env.update(FAKE_CREDENTIALS)
    env.update(
        {
            "AWS_ENDPOINT_URL": aws_endpoint_url,
            "AWS_DEFAULT_REGION": region,
            "AWS_REGION": region,
            "INGEST_QUEUE_URL": ingest_queue_url,
            "ACTIVATION_QUEUE_URL": activation_queue_url,
        }
    )
    if api_url:
        env["PORTAL_BASE_URL"] = f"{api_url}/portal"
    return env


def apply_environment(env: dict[str, str]) -> None:
    """Put `env` into this process and forget cached settings and AWS clients."""
    from chalicelib.config import reset_settings
    from chalicelib.store.aws import reset_clients

    os.environ.pop("AWS_PROFILE", None)
    os.environ.update(env)
    reset_settings()
    reset_clients()


def run_dir() -> Path:
    return Path(os.environ.get("RUN_DIR") or ROOT / ".run").resolve()


def run_info_path(directory: Path | None = None) -> Path:
    return (directory or run_dir()) / RUN_INFO


def read_run_info(directory: Path | None = None) -> dict[str, Any]:
    """The running local run's `local.json`; LocalRunNotFound when none is running."""
    path = run_info_path(directory)
    try:
        info: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LocalRunNotFound(f"{path} not found: start the local run with `make run`") from None
    return info


def write_run_info(info: dict[str, Any], directory: Path | None = None) -> Path:
    """Write `local.json` atomically (a reader never sees half a file)."""
    path = run_info_path(directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def environment_from_run_info(info: dict[str, Any]) -> dict[str, str]:
    return local_environment(
        aws_endpoint_url=info["aws_endpoint_url"],
        region=info.get("region", DEFAULT_REGION),
        ingest_queue_url=info.get("ingest_queue_url", ""),
        activation_queue_url=info.get("activation_queue_url", ""),
        api_url=info.get("api_url"),
    )
