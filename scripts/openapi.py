"""Write the API contract to docs/openapi.json (`make openapi`), or with `--check` exit 1 when the
committed file is not what the code generates."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from chalicelib.handlers.openapi import document_json
from scripts.local_env import ROOT

COMMITTED = ROOT / "docs" / "openapi.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    parser.add_argument("--out", type=Path, default=COMMITTED)
    args = parser.parse_args(argv)
    generated = document_json()
    if args.check:
        if not args.out.exists() or args.out.read_text(encoding="utf-8") != generated:
            print(f"{args.out} is out of date: run `make openapi`", file=sys.stderr)
            return 1
        return 0
    args.out.write_text(generated, encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
