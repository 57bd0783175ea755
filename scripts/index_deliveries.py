"""Once, after deploying the release that lists every partner's deliveries with one index query:
give the delivery records stored before it their listing keys, so that the administrators'
listing and held screen show them too (docs/deploy.md, "3. Deploy"). Safe to run again: a record
that has its keys is left alone.

    .venv/bin/python -m scripts.index_deliveries --table <TableName output> --region eu-west-1

It reads the whole table once (a Scan: run it outside the delivery window) with the caller's
AWS credentials, and prints how many records it gave their keys.
"""

from __future__ import annotations

import argparse
import os
import secrets


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--table", required=True, help="the stack's table name")
    parser.add_argument("--region", default=os.environ.get("AWS_DEFAULT_REGION", "eu-west-1"))
    args = parser.parse_args(argv)
    # The store reads its table and region from the settings. A development stage's settings
    # suffice: this script signs and checks no token, so the key it needs is a throwaway.
    os.environ.update(
        {
            "STAGE": "local",
            "TABLE_NAME": args.table,
            "AWS_DEFAULT_REGION": args.region,
            "JWT_SECRET": secrets.token_urlsafe(32),
        }
    )
    from chalicelib.store.deliveries import DynamoDeliveries

    given = DynamoDeliveries().index_older_records()
    print(f"{given} delivery records given their listing keys")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
