"""Only the `local` stage of .chalice/config.json carries committed development keys and the
demo partners; a deployed stage (dev, acc, prod) gets its keys from its stack, and its settings
refuse a development key or a demo partner at cold start."""

from __future__ import annotations

import json
import secrets

import pytest

from chalicelib.config import ConfigurationError, load_settings
from scripts.local_env import ROOT

pytestmark = pytest.mark.unit

STAGES = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]
DEPLOYED = sorted(stage for stage in STAGES if stage != "local")
LOCAL = STAGES["local"]["environment_variables"]
# What infra/template.yaml sets on every function of a deployed stage.
FROM_THE_STACK = {
    "COGNITO_JWKS_URL": "https://cognito-idp.eu-west-1.amazonaws.com/pool/.well-known/jwks.json",
    "JWT_ISSUER": "https://cognito-idp.eu-west-1.amazonaws.com/pool",
    "JWT_AUDIENCE": "app-client-id",
    "CLIENT_ID_KEY": secrets.token_urlsafe(48),
}


def _stage_environment(monkeypatch: pytest.MonkeyPatch, variables: dict[str, str]) -> None:
    for name in ("JWT_SECRET", "CLIENT_ID_KEY", "COGNITO_JWKS_URL", "PARTNERS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)


def test_there_are_deployed_stages_to_check() -> None:
    assert DEPLOYED == ["acc", "dev", "prod"]


@pytest.mark.parametrize("stage", DEPLOYED)
def test_a_deployed_stage_commits_no_key_and_no_demo_partner(stage: str) -> None:
    variables = STAGES[stage]["environment_variables"]

    assert "JWT_SECRET" not in variables
    assert "CLIENT_ID_KEY" not in variables
    assert not [p for p in variables.get("PARTNERS", "").split(",") if p.startswith("demo-")]


@pytest.mark.parametrize("stage", DEPLOYED)
def test_a_deployed_stage_starts_with_the_keys_its_stack_adds(monkeypatch, stage: str) -> None:
    _stage_environment(monkeypatch, {**STAGES[stage]["environment_variables"], **FROM_THE_STACK})

    settings = load_settings()

    assert settings.stage == stage
    assert settings.jwt_secret is None
    assert settings.partners == ()


@pytest.mark.parametrize("stage", DEPLOYED)
@pytest.mark.parametrize(
    ("variable", "named"),
    [("JWT_SECRET", "JWT_SECRET"), ("CLIENT_ID_KEY", "CLIENT_ID_KEY"), ("PARTNERS", "demo")],
)
def test_a_deployed_stage_refuses_the_local_stages_keys_and_demo_partners(
    monkeypatch, stage: str, variable: str, named: str
) -> None:
    # given a deployed stage with one value of the local stage (a committed development key,
    # or the demo partners)
    variables = {**STAGES[stage]["environment_variables"], **FROM_THE_STACK}
    _stage_environment(monkeypatch, {**variables, variable: LOCAL[variable]})

    # when its function starts, then it refuses, naming what is wrong
    with pytest.raises(ConfigurationError, match=named):
        load_settings()


@pytest.mark.parametrize("stage", DEPLOYED)
def test_a_deployed_stage_refuses_to_run_without_the_stacks_client_id_key(monkeypatch, stage):
    variables = {**STAGES[stage]["environment_variables"], **FROM_THE_STACK}
    del variables["CLIENT_ID_KEY"]
    _stage_environment(monkeypatch, variables)

    with pytest.raises(ConfigurationError, match="CLIENT_ID_KEY"):
        load_settings()


def test_the_local_stage_runs_with_its_development_keys_and_the_demo_partners(monkeypatch):
    _stage_environment(monkeypatch, LOCAL)

    settings = load_settings()

    assert settings.jwt_secret == LOCAL["JWT_SECRET"]
    assert settings.partners == ("demo-volmacht", "demo-verzekeraar", "demo-intermediair")
