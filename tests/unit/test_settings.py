"""The stage configuration is validated at cold start, naming the variable that is wrong."""

from __future__ import annotations

import pytest

from chalicelib.config import ConfigurationError, load_settings

pytestmark = pytest.mark.unit


def test_a_valid_test_stage_loads_with_its_partners():
    settings = load_settings()
    assert settings.partners == ("demo-volmacht", "demo-verzekeraar", "demo-intermediair")
    assert settings.retention_months == 24


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("RETENTION_MONTHS", "0", "RETENTION_MONTHS"),
        ("FULL_DELIVERY_MAX_REMOVAL_PCT", "120", "FULL_DELIVERY_MAX_REMOVAL_PCT"),
        ("WAITING_PERIOD_MONTHS", "three", "WAITING_PERIOD_MONTHS"),
        ("PARTNERS", "Demo Volmacht", "PARTNERS"),
        ("CLIENT_ID_KEY", "short", "CLIENT_ID_KEY"),
        ("PARTNER_CONTACTS", "demo-volmacht=not-an-address", "PARTNER_CONTACTS"),
        ("PARTNER_CONTACTS", "demo-volmacht", "PARTNER_CONTACTS"),
        ("NOTICE_REJECTED_ROWS_PCT", "101", "NOTICE_REJECTED_ROWS_PCT"),
    ],
)
def test_a_bad_value_fails_fast_and_names_the_variable(monkeypatch, variable, value, named):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError, match=named):
        load_settings()


def test_prod_refuses_a_development_key(monkeypatch):
    monkeypatch.setenv("STAGE", "prod")
    monkeypatch.setenv("COGNITO_JWKS_URL", "https://cognito.example/jwks.json")
    with pytest.raises(ConfigurationError, match="JWT_SECRET is a development key"):
        load_settings()


def test_prod_needs_the_cognito_keys(monkeypatch):
    monkeypatch.setenv("STAGE", "prod")
    monkeypatch.delenv("JWT_SECRET")
    with pytest.raises(ConfigurationError, match="COGNITO_JWKS_URL is required in prod"):
        load_settings()


def test_partner_contacts_are_read_per_partner(monkeypatch):
    monkeypatch.setenv("PARTNER_CONTACTS", " demo-volmacht = data@volmacht.example ,")
    assert load_settings().partner_contacts == {"demo-volmacht": "data@volmacht.example"}


def test_a_contact_of_a_partner_that_is_not_configured_is_refused(monkeypatch):
    monkeypatch.setenv("PARTNER_CONTACTS", "someone-else=data@example.nl")
    with pytest.raises(ConfigurationError, match="PARTNER_CONTACTS names partners not in"):
        load_settings()
