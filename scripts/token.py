"""Print a bearer token for the local stage: `make token ROLE=<role> [PARTNER=<partner_id>]`.

Signed with the local stage's JWT_SECRET from `.chalice/config.json`, so the local API accepts it:

    curl -H "Authorization: Bearer $(make -s token ROLE=admin)" http://127.0.0.1:8000/v1/deliveries
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from pydantic import ValidationError

from chalicelib.auth import MAX_TOKEN_LIFETIME_SECONDS, ROLES, issue_token
from chalicelib.config import ConfigurationError, Settings
from scripts.local_env import LOCAL_STAGE, stage_environment


def local_settings() -> Settings:
    """The local stage's settings from .chalice/config.json; this process's environment is
    neither read for the stage's values nor changed."""
    names = set(Settings.model_fields)
    values = {k.lower(): v for k, v in stage_environment(LOCAL_STAGE).items() if k.lower() in names}
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        raise ConfigurationError(f"invalid local stage configuration: {exc}") from None


def local_token(role: str, partner_id: str | None = None, **kwargs: Any) -> str:
    """A bearer token the local run accepts (used by `make token` and the end-to-end tests)."""
    return issue_token(role, partner_id=partner_id, settings=local_settings(), **kwargs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print a bearer token for the local stage.")
    parser.add_argument("--role", default="", help=f"one of {', '.join(sorted(ROLES))}")
    parser.add_argument("--partner", default=None, help="partner id (required for role partner)")
    parser.add_argument("--subject", default=None, help="the user the token names (sub)")
    max_hours = MAX_TOKEN_LIFETIME_SECONDS // 3600
    parser.add_argument(
        "--hours", type=float, default=8, help=f"lifetime in hours (default 8, at most {max_hours})"
    )
    args = parser.parse_args(argv)

    roles = ", ".join(sorted(ROLES))
    if not args.role:
        print(f"error: give a role: make token ROLE=<{'|'.join(sorted(ROLES))}>", file=sys.stderr)
        return 2
    if args.role not in ROLES:
        print(f"error: unknown role {args.role!r}; use one of: {roles}", file=sys.stderr)
        return 2
    try:
        settings = local_settings()
    except ConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.role == "partner" and not args.partner:
        print(
            "error: a partner token needs a partner: make token ROLE=partner PARTNER=<id>, "
            f"one of: {', '.join(settings.partners)}",
            file=sys.stderr,
        )
        return 2
    if not 0 < args.hours <= max_hours:
        print(f"error: a token lives more than 0 and at most {max_hours} hours", file=sys.stderr)
        return 2
    if args.partner and args.partner not in settings.partners:
        print(
            f"error: unknown partner {args.partner!r}; the local stage has: "
            f"{', '.join(settings.partners)}",
            file=sys.stderr,
        )
        return 2
    token = local_token(
        args.role,
        args.partner,
        subject=args.subject,
        lifetime_seconds=max(60, int(args.hours * 3600)),
    )
    print(token)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
