"""The README's first hour, through the real ingest: after the demo portfolio of `make run`, the
README's "20 new policies" file comes back `accepted`."""

from __future__ import annotations

import io
import re
import shlex
from pathlib import Path

import pytest

from scripts import demo_data
from scripts.demo_data import DEMO_POLICIES_PER_PARTNER, DEMO_SEED, generate_rows, write_csv
from scripts.local_env import ROOT
from tests.support.ingest import drain, report, upload

pytestmark = pytest.mark.integration

PARTNER = "demo-volmacht"


def _readme_demo_data_arguments() -> list[str]:
    """The arguments of the README's `scripts.demo_data` command (continued lines joined)."""
    readme = re.sub(r"\\\n\s*", " ", (ROOT / "README.md").read_text(encoding="utf-8"))
    [line] = [line for line in readme.splitlines() if "-m scripts.demo_data " in line]
    words = shlex.split(line)
    return words[words.index("scripts.demo_data") + 1 :]


def test_the_readmes_new_policies_file_comes_back_accepted_after_the_demo_portfolio(
    aws, tmp_path: Path
):
    # given the demo portfolio that make run loads for demo-volmacht (bad rows included)
    demo = io.BytesIO()
    write_csv(
        demo,
        generate_rows(DEMO_POLICIES_PER_PARTNER, seed=DEMO_SEED, partner_id=PARTNER, bad_rows=True),
    )
    upload(f"incoming/{PARTNER}/full/demo-portfolio.csv", demo.getvalue())
    drain(aws["ingest_queue_url"])

    # when the README's command writes the new-policies file and it is uploaded as a mutation
    arguments = _readme_demo_data_arguments()
    out = tmp_path / "new-policies.csv"
    arguments[arguments.index("--out") + 1] = str(out)
    assert demo_data.main(arguments) == 0
    upload(f"incoming/{PARTNER}/mutation/new-policies.csv", out.read_bytes())
    drain(aws["ingest_queue_url"])

    # then its report says accepted: every row stored, none rejected
    result = report(PARTNER)[-1]
    assert result["object_key"].endswith("/mutation/new-policies.csv")
    assert result["status"] == "accepted", result["error_counts"]
    assert result["rows_rejected"] == 0
    assert result["policies_written"] == 20
