"""The administrators' configuration: one settings model, validated at cold start.

Values come from environment variables, which `.chalice/config.json` sets per stage.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Annotated, Final, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PARTNER_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
# A partner's contact address: one address, no display name, no list.
CONTACT_ADDRESS = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[A-Za-z]{2,}$")
# Stages on a developer's machine or in the tests: only they may use the development keys
# committed in .chalice/config.json (stage `local`) and the demo partners.
DEVELOPMENT_STAGES: Final = frozenset({"local", "test"})
# Part of every committed development key, so that no deployed stage can start with one.
DEVELOPMENT_KEY_MARK: Final = "not-for-production"
DEMO_PARTNER_PREFIX: Final = "demo-"


class ConfigurationError(RuntimeError):
    """The stage configuration is invalid; the message names the variables."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", frozen=True)

    stage: Literal["local", "dev", "acc", "prod", "test"] = "local"
    app_name: str = "polisregister"
    aws_region: str = Field(default="eu-west-1", validation_alias="AWS_DEFAULT_REGION")
    # Only the local run and tests set it: every adapter then talks to the embedded AWS.
    aws_endpoint_url: str | None = None

    table_name: str = "polisregister"
    bucket_name: str = "polisregister-portfolio"
    ingest_queue_url: str = ""
    activation_queue_url: str = ""

    partners: Annotated[tuple[str, ...], NoDecode] = (
        "demo-volmacht",
        "demo-verzekeraar",
        "demo-intermediair",
    )

    retention_months: int = Field(default=24, ge=1, le=120)
    # A policy delivered again unchanged is not written again while its stored expiry is at most
    # this many months earlier than a write would set (docs/configuration.md, "Retention").
    retention_refresh_months: int = Field(default=9, ge=0, le=119)
    full_delivery_max_removal_pct: float = Field(default=20, ge=0, le=100)
    waiting_period_months: int = Field(default=3, ge=0, le=24)
    claim_notification_months: int = Field(default=12, ge=1, le=120)
    min_claim_amount_eur: float = Field(default=175, ge=0)
    activation_token_ttl_hours: int = Field(default=72, ge=1, le=24 * 30)

    ses_sender: str = "noreply@polisregister.example"
    portal_base_url: str = "http://127.0.0.1:8000/portal"

    # Delivery notices: each partner's contact address ("partner=address,..."; a partner
    # without one gets no e-mail), and the share of rejected rows above which an accepted
    # delivery is reported to it (rejected and held deliveries always are).
    partner_contacts: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    notice_rejected_rows_pct: float = Field(default=5, ge=0, le=100)

    # Pseudonymisation key for client ids (see docs/architecture.md). Never change it in a stage.
    client_id_key: str = Field(default="local-client-id-key-not-for-production", min_length=16)

    # Authentication. `jwt_secret` (HS256) is for local and test only; deployed stages verify
    # the Cognito user pool's JWKS.
    jwt_secret: str | None = None
    jwt_issuer: str = "polisregister-local"
    jwt_audience: str = "polisregister"
    cognito_jwks_url: str | None = None
    # The web console's sign-in on deployed stages (docs/console.md): the user pool's hosted
    # sign-in (https://<prefix>.auth.<region>.amazoncognito.com) and the console's own address,
    # registered as the app client's callback. Without both the console cannot sign anyone in.
    cognito_domain: str | None = Field(default=None, pattern=r"^https://[a-z0-9.-]+/?$")
    console_url: str | None = Field(default=None, pattern=r"^https://\S+$")

    # Ingest limits: bounded memory whatever a partner uploads.
    max_line_bytes: int = Field(default=64 * 1024, ge=1024)
    max_uncompressed_mb: int = Field(default=2048, ge=1)
    max_report_errors: int = Field(default=200, ge=1, le=1000)
    ingest_batch_rows: int = Field(default=500, ge=25)
    ingest_min_remaining_ms: int = Field(default=60_000, ge=0)
    ingest_lease_seconds: int = Field(default=960, ge=60)
    # Partners run in parallel, each partner's deliveries one at a time (docs/decisions.md):
    # a delivery whose partner is busy goes back on the queue for this long (SQS's limit: 900).
    ingest_wait_seconds: int = Field(default=60, ge=0, le=900)
    # A failed ingest message comes back after this, doubling per receive up to 900 s, not after
    # the ingest queue's visibility timeout (chalicelib/rules/retries.py).
    failed_message_retry_seconds: int = Field(default=60, ge=0, le=900)
    # DynamoDB requests one invocation keeps in flight at once (batch writes, ordering reads).
    ingest_write_concurrency: int = Field(default=8, ge=1, le=64)

    # An API request's calls to AWS (docs/configuration.md, "Calls to AWS"): the API function
    # lives 30 s, so each call gets few attempts with short timeouts, and no attempt starts
    # that could not end within API_AWS_DEADLINE_SECONDS of the request's start. The ingest
    # and the mail worker keep their patient clients (9 attempts, 30 s reads).
    api_aws_max_attempts: int = Field(default=3, ge=1, le=10)
    api_aws_connect_timeout_seconds: float = Field(default=1, gt=0, le=30)
    api_aws_read_timeout_seconds: float = Field(default=2, gt=0, le=30)
    api_aws_deadline_seconds: float = Field(default=15, gt=0, le=900)

    log_level: str = "INFO"

    @field_validator("partners", mode="before")
    @classmethod
    def _split_partners(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(p.strip() for p in value.split(",") if p.strip())
        return value

    @field_validator("partners")
    @classmethod
    def _valid_partner_ids(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        # None is allowed: a deployed stage before its first partner is onboarded.
        bad = [p for p in value if not PARTNER_ID.match(p)]
        if bad:
            raise ValueError(f"partner ids must match {PARTNER_ID.pattern}: {bad}")
        return value

    @field_validator("partner_contacts", mode="before")
    @classmethod
    def _split_contacts(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        contacts: dict[str, str] = {}
        for entry in (part.strip() for part in value.split(",")):
            if not entry:
                continue
            partner, sep, address = entry.partition("=")
            if not sep:
                raise ValueError(f"expected partner=address, got {entry!r}")
            contacts[partner.strip()] = address.strip()
        return contacts

    @field_validator("partner_contacts")
    @classmethod
    def _valid_contacts(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [f"{p}={a}" for p, a in value.items() if not CONTACT_ADDRESS.match(a)]
        if bad:
            raise ValueError(f"not an e-mail address: {bad}")
        return value

    @model_validator(mode="after")
    def _contacts_of_known_partners(self) -> Settings:
        unknown = sorted(set(self.partner_contacts) - set(self.partners))
        if unknown:
            raise ValueError(f"PARTNER_CONTACTS names partners not in PARTNERS: {unknown}")
        return self

    @model_validator(mode="after")
    def _keys_fit_the_stage(self) -> Settings:
        if self.retention_refresh_months >= self.retention_months:
            raise ValueError("RETENTION_REFRESH_MONTHS must be less than RETENTION_MONTHS")
        if self.api_aws_deadline_seconds < (
            self.api_aws_connect_timeout_seconds + self.api_aws_read_timeout_seconds
        ):
            raise ValueError(
                "API_AWS_DEADLINE_SECONDS must leave room for one attempt (connect + read timeout)"
            )
        if self.jwt_secret is not None and len(self.jwt_secret) < 32:
            raise ValueError("JWT_SECRET must be at least 32 characters")
        if self.stage in DEVELOPMENT_STAGES:
            if not self.jwt_secret and not self.cognito_jwks_url:
                raise ValueError("set JWT_SECRET (development) or COGNITO_JWKS_URL")
            return self
        # A deployed stage: every key comes from its stack, never from the repository.
        if self.jwt_secret:
            raise ValueError(
                f"JWT_SECRET is a development key and must not be set in {self.stage}: "
                "deployed stages accept Cognito tokens only"
            )
        if not self.cognito_jwks_url:
            raise ValueError(f"COGNITO_JWKS_URL is required in {self.stage}")
        if (
            "client_id_key" not in self.model_fields_set
            or DEVELOPMENT_KEY_MARK in self.client_id_key
            or len(self.client_id_key) < 32
        ):
            raise ValueError(
                f"CLIENT_ID_KEY of {self.stage} must be the stack's secret (at least 32 "
                "characters), not a development key"
            )
        demo = [p for p in self.partners if p.startswith(DEMO_PARTNER_PREFIX)]
        if demo:
            raise ValueError(
                f"PARTNERS of {self.stage} name demo partners, which exist only locally: {demo}"
            )
        return self


def load_settings() -> Settings:
    """Build and validate the settings; a bad stage fails with the offending variables named."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']).upper() or 'SETTINGS'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigurationError(f"invalid stage configuration: {problems}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()


def reset_settings() -> None:
    """For tests and the local run: forget the cached settings after changing the environment."""
    get_settings.cache_clear()
