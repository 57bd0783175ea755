"""How the console signs in per stage, its policy, the local run's development sign-in, and a
guard on the console's scripts: delivered values reach the page only as text."""

from __future__ import annotations

import json
import re

import jwt
import pytest

from chalicelib.config import Settings
from chalicelib.handlers.console import CONSOLE_DIR, content_security_policy, sign_in_config
from scripts.local_api import dev_token_response
from scripts.token import local_settings

pytestmark = pytest.mark.unit

DEPLOYED = {
    "stage": "prod",
    "jwt_secret": None,
    "cognito_jwks_url": "https://cognito-idp.eu-west-1.amazonaws.com/pool/.well-known/jwks.json",
    "client_id_key": "k" * 40,
    "jwt_audience": "app-client-id",
    "partners": (),
}
DOMAIN = "https://polisregister-prod-123456789012.auth.eu-west-1.amazoncognito.com"
CONSOLE = "https://abc123.execute-api.eu-west-1.amazonaws.com/api/console"


def test_a_deployed_stage_signs_in_through_the_hosted_sign_in_with_the_code_flow():
    # given a deployed stage with its hosted sign-in and console address
    settings = Settings.model_validate(
        {**DEPLOYED, "cognito_domain": DOMAIN, "console_url": CONSOLE}
    )

    # when the console asks how to sign in
    config = sign_in_config(settings)

    # then it is Cognito's authorisation endpoint for this app client, back to the console
    assert config == {
        "sign_in": "cognito",
        "stage": "prod",
        "authorize_url": f"{DOMAIN}/oauth2/authorize",
        "token_url": f"{DOMAIN}/oauth2/token",
        "logout_url": f"{DOMAIN}/logout",
        "client_id": "app-client-id",
        "redirect_uri": CONSOLE,
        "scope": "openid email",
    }
    # and the page may call the token endpoint's origin, and nothing else outside this one
    policy = content_security_policy(settings)
    assert f"connect-src 'self' {DOMAIN};" in policy
    assert policy.count("https://") == 1


def test_a_deployed_stage_without_the_console_address_says_sign_in_is_not_set_up():
    # given a deployed stage whose ConsoleUrl was not set yet
    settings = Settings.model_validate({**DEPLOYED, "cognito_domain": DOMAIN})

    # then the console offers no sign-in rather than a broken one
    assert sign_in_config(settings) == {"sign_in": "unavailable", "stage": "prod"}


@pytest.mark.parametrize(
    "domain", ["http://insecure.example", "https://evil.example/path", "javascript:alert(1)"]
)
def test_a_hosted_sign_in_address_that_is_not_an_https_origin_stops_the_stage(domain: str):
    with pytest.raises(ValueError, match="cognito_domain"):
        Settings.model_validate({**DEPLOYED, "cognito_domain": domain})


def test_the_local_run_issues_a_development_token_for_the_picked_role_and_partner():
    # when the console's development sign-in asks for a partner token
    status, body = dev_token_response(
        json.dumps({"role": "partner", "partner_id": "demo-volmacht", "subject": "sanne"}).encode()
    )

    # then it is a token of the local stage for that partner, naming the user
    assert status == 200
    settings = local_settings()
    claims = jwt.decode(
        json.loads(body)["token"],
        settings.jwt_secret,
        algorithms=["HS256"],
        audience=settings.jwt_audience,
    )
    assert claims["roles"] == ["partner"]
    assert claims["partner_id"] == "demo-volmacht"
    assert claims["sub"] == "sanne"
    assert claims["exp"] - claims["iat"] == 8 * 3600


@pytest.mark.parametrize(
    "request_body",
    [
        {"role": "portal"},  # no screens for the portal: not a console role
        {"role": "root"},
        {"role": "partner"},  # a partner needs its partner
        {"role": "partner", "partner_id": "not-a-local-partner"},
        {"role": "jsc", "lifetime_seconds": 9 * 3600},
        {"role": "jsc", "subject": "<script>"},
        {"role": "jsc", "extra": 1},
    ],
)
def test_the_development_sign_in_refuses_what_it_cannot_issue(request_body: dict[str, object]):
    status, body = dev_token_response(json.dumps(request_body).encode())
    assert status == 422
    assert json.loads(body)["error"]["code"] == "validation_failed"
    assert "token" not in json.loads(body)


def test_the_development_sign_in_refuses_a_body_that_is_not_json():
    status, body = dev_token_response(b"role=admin")
    assert status == 422
    assert "token" not in json.loads(body)


# What could turn delivered text into markup or code: none of it in the console's scripts.
MARKUP_SINKS = re.compile(
    r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|"
    r"setAttribute\(\s*[\"']on|srcdoc|javascript:"
)


def test_the_console_scripts_put_delivered_values_into_the_page_as_text_only():
    scripts = list(CONSOLE_DIR.glob("*.js"))
    assert len(scripts) >= 5
    for script in scripts:
        found = MARKUP_SINKS.findall(script.read_text(encoding="utf-8"))
        assert found == [], (script.name, found)


def test_the_console_doc_names_every_module_the_console_loads():
    # given the console's scripts and what docs/console.md says it is built of
    doc = (CONSOLE_DIR.parents[1] / "docs" / "console.md").read_text(encoding="utf-8")

    # then every script is named there
    assert [s.name for s in sorted(CONSOLE_DIR.glob("*.js")) if f"`{s.name}`" not in doc] == []
