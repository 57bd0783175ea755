"""The README and what `make run` prints tell the same story: the same commands for the "20 new
policies" file, which writes nothing into the repository root."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scripts import run_local
from scripts.local_env import LOCAL_STAGE, ROOT, stage_environment
from scripts.run_local import NEW_POLICIES_FILE, LocalRun

pytestmark = pytest.mark.unit

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _one_line_each(text: str) -> str:
    """Shell text with continued lines joined (also inside comments) and spaces collapsed."""
    return re.sub(r"[ \t]+", " ", re.sub(r"\\\n[#\s]*", " ", text))


def _printed_commands(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    for name in ("AWS_PORT", "API_PORT", "DEMO_POLICIES", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(run_local.shutil, "which", lambda name: f"/usr/bin/{name}")
    run = LocalRun()
    run.resources = {"bucket": stage_environment(LOCAL_STAGE)["BUCKET_NAME"]}
    text = run.next_steps(tmp_path / "local.json")
    return [
        line.strip()
        for line in text.splitlines()
        if "scripts.demo_data" in line or "scripts.upload" in line or " s3 cp " in line
    ]


def test_make_run_prints_the_readmes_commands_for_the_new_policies_file(monkeypatch, tmp_path):
    # when make run (default ports, the aws CLI installed) prints its next steps
    commands = _printed_commands(monkeypatch, tmp_path)

    # then the demo-data, upload and aws CLI commands are the README's, word for word
    assert len(commands) == 3
    readme = _one_line_each(README)
    for command in commands:
        assert command in readme


def test_the_new_policies_file_is_written_into_the_run_directory_not_the_repository(
    monkeypatch, tmp_path
):
    commands = _printed_commands(monkeypatch, tmp_path)

    assert NEW_POLICIES_FILE.startswith(".run/")
    assert all(NEW_POLICIES_FILE in command for command in commands)
    assert "--out new-policies.csv" not in _one_line_each(README)


def test_the_aws_cli_command_carries_credentials_and_a_region(monkeypatch, tmp_path):
    [aws] = [c for c in _printed_commands(monkeypatch, tmp_path) if " s3 cp " in c]

    assert aws.startswith("AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test aws ")
    assert "--region eu-west-1" in aws
