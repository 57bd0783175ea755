"""Build a stage's deployable SAM template and deployment.zip, then lint and scan them.

    python -m scripts.package --stage prod            # what `make package STAGE=prod` runs

1. `chalice package --stage <stage> --merge-template infra/template.yaml build/<stage>`
2. set the template's parameter defaults from the stage in .chalice/config.json (Stage,
   SenderAddress, RetentionDays), so the package deploys the configuration it was built from
3. `cfn-lint` (fails on errors) and `checkov` (fails on any unsuppressed finding), from the
   separate tools venv `.venv-tools` that the Makefile installs
4. print the deployment zip's size and fail if it reaches Lambda's 50 MB limit
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
MERGE_TEMPLATE = ROOT / "infra" / "template.yaml"
CHALICE_CONFIG = ROOT / ".chalice" / "config.json"
CHALICE = Path(sys.executable).parent / "chalice"
TOOLS_BIN = ROOT / ".venv-tools" / "bin"
DEPLOYABLE_STAGES = ("dev", "acc", "prod")
ZIP_LIMIT_BYTES = 50 * 1024 * 1024
UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024


class PackagingError(RuntimeError):
    """The package cannot be built or does not pass its checks."""


def stage_variables(stage: str) -> dict[str, str]:
    config = json.loads(CHALICE_CONFIG.read_text(encoding="utf-8"))
    try:
        variables: dict[str, str] = config["stages"][stage]["environment_variables"]
    except KeyError:
        raise PackagingError(f"stage {stage!r} is not in .chalice/config.json") from None
    return variables


# DynamoDB's default per-table write quota (units/s), which the warm throughput reaches.
PROD_WARM_WRITE_UNITS = 40_000


def parameter_defaults(stage: str) -> dict[str, str | int]:
    """The template parameters that follow from the stage's configuration."""
    variables = stage_variables(stage)
    retention_months = int(variables.get("RETENTION_MONTHS", "24"))
    return {
        "Stage": stage,
        "SenderAddress": variables["SES_SENDER"],
        # 24 months -> 730 days; the lifecycle never deletes before the table's items expire.
        "RetentionDays": retention_months * 365 // 12 + (1 if retention_months % 12 else 0),
        # prod's table serves the first month-start storm at the per-table default quota at
        # once (warm throughput); dev and acc are left as DynamoDB creates a table.
        "WarmWriteUnitsPerSecond": PROD_WARM_WRITE_UNITS if stage == "prod" else 0,
    }


def _template_path(out_dir: Path) -> Path:
    for name in ("sam.yaml", "sam.json"):
        if (out_dir / name).exists():
            return out_dir / name
    raise PackagingError(f"chalice package wrote no template into {out_dir}")


def _set_parameter_defaults(template_path: Path, stage: str) -> None:
    template: dict[str, Any] = yaml.safe_load(template_path.read_text(encoding="utf-8"))
    parameters = template["Parameters"]
    for name, value in parameter_defaults(stage).items():
        parameters[name]["Default"] = value
    # A package deploys only the stage it was built for.
    parameters["Stage"]["AllowedValues"] = [stage]
    template_path.write_text(
        yaml.safe_dump(template, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )


def build(stage: str, out_dir: Path) -> Path:
    """Run `chalice package` with the merge template into `out_dir`; return the template path."""
    if stage not in DEPLOYABLE_STAGES:
        raise PackagingError(f"only {', '.join(DEPLOYABLE_STAGES)} are deployable, not {stage!r}")
    stage_variables(stage)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "eu-west-1")}
    command = [
        str(CHALICE),
        "--project-dir",
        str(ROOT),
        "package",
        "--stage",
        stage,
        "--merge-template",
        str(MERGE_TEMPLATE),
        str(out_dir),
    ]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise PackagingError(f"chalice package failed:\n{result.stdout}\n{result.stderr}")
    template_path = _template_path(out_dir)
    _set_parameter_defaults(template_path, stage)
    return template_path


def check_zip(zip_path: Path) -> int:
    """Print the deployment zip's size; fail at Lambda's limits. Returns the size in bytes."""
    size = zip_path.stat().st_size
    with zipfile.ZipFile(zip_path) as archive:
        unzipped = sum(info.file_size for info in archive.infolist())
    print(
        f"deployment zip: {size / 1024 / 1024:.1f} MB zipped (limit 50 MB), "
        f"{unzipped / 1024 / 1024:.1f} MB unzipped (limit 250 MB)"
    )
    if size >= ZIP_LIMIT_BYTES:
        raise PackagingError(f"{zip_path} is {size} bytes: at or over Lambda's 50 MB limit")
    if unzipped >= UNZIPPED_LIMIT_BYTES:
        raise PackagingError(f"{zip_path} unzips to {unzipped} bytes: over Lambda's 250 MB limit")
    return size


def _tool(name: str) -> str:
    path = TOOLS_BIN / name
    if not path.exists():
        raise PackagingError(f"{path} is missing: run `make package` (it installs .venv-tools)")
    return str(path)


def lint(template_path: Path) -> None:
    """cfn-lint: errors fail, warnings are printed. checkov: every finding fails unless the
    template suppresses it with a reason (Metadata.checkov.skip)."""
    cfn_lint = subprocess.run([_tool("cfn-lint"), str(template_path)], check=False)
    # cfn-lint exit code is a bit mask: 2 errors, 4 warnings, 8 informational.
    if cfn_lint.returncode & 2 or cfn_lint.returncode == 1:
        raise PackagingError(f"cfn-lint reported errors in {template_path}")
    print("cfn-lint: no errors")
    checkov = subprocess.run(
        [
            _tool("checkov"),
            "--file",
            str(template_path),
            "--framework",
            "cloudformation",
            "--compact",
            "--quiet",
            "--skip-download",
        ],
        check=False,
    )
    if checkov.returncode != 0:
        raise PackagingError(f"checkov reported unsuppressed findings in {template_path}")
    print("checkov: no unsuppressed findings")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Package a stage for CloudFormation.")
    parser.add_argument("--stage", required=True, choices=DEPLOYABLE_STAGES)
    parser.add_argument("--out", type=Path, help="output directory (default build/<stage>)")
    parser.add_argument("--skip-checks", action="store_true", help="skip cfn-lint and checkov")
    args = parser.parse_args(argv)
    out_dir: Path = args.out or ROOT / "build" / args.stage
    try:
        template_path = build(args.stage, out_dir)
        print(f"template: {template_path}")
        check_zip(out_dir / "deployment.zip")
        if not args.skip_checks:
            lint(template_path)
    except PackagingError as exc:
        print(f"package failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
