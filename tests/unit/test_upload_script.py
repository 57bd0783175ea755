"""`scripts/upload.py`: the exit status after `--wait` follows the delivery's report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scripts import upload

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("status", "code"),
    [("rejected", 1), ("accepted", 0), ("accepted_with_errors", 0), ("held_for_review", 0)],
)
def test_only_a_rejected_delivery_is_a_failing_exit(status: str, code: int) -> None:
    assert upload.exit_code_for({"status": status, "delivery_id": "d_1"}) == code


def test_the_help_explains_the_exit_status_of_wait(capsys: pytest.CaptureFixture[str]) -> None:
    # when --help is asked for
    with pytest.raises(SystemExit) as exited:
        upload.main(["--help"])
    # then it says a rejected delivery exits 1
    assert exited.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "exit 1 if the delivery was rejected" in text
    assert "status is 1 when its status is 'rejected'" in text


@pytest.fixture
def local_run(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """main() without a local run: no run info, no environment, no bucket. The report that
    `wait_for_report` returns is the list's single element."""
    reports: list[dict[str, Any]] = []
    monkeypatch.setattr(upload, "read_run_info", lambda: {})
    monkeypatch.setattr(upload, "environment_from_run_info", lambda info: {})
    monkeypatch.setattr(upload, "apply_environment", lambda env: None)
    monkeypatch.setattr(upload, "upload", lambda path, **kw: ("bucket", f"incoming/{path.name}"))
    monkeypatch.setattr(upload, "wait_for_report", lambda *args: reports[0])
    return reports


@pytest.mark.parametrize(("status", "code"), [("rejected", 1), ("accepted", 0)])
def test_waiting_prints_the_report_and_exits_by_its_status(
    local_run: list[dict[str, Any]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    status: str,
    code: int,
) -> None:
    # given a delivery whose report has `status`
    delivery = tmp_path / "delivery.csv"
    delivery.write_text("PP_POLNR\n", encoding="utf-8")
    local_run.append({"delivery_id": "d_1", "status": status})
    # when the upload waits for it
    exit_code = upload.main([str(delivery), "--partner", "demo-volmacht", "--wait"])
    # then the report is printed and the exit status follows it
    assert json.loads(capsys.readouterr().out) == {"delivery_id": "d_1", "status": status}
    assert exit_code == code
