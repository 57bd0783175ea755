"""The web console as the app serves it (in every stage): the page and its files from this
origin under a strict Content-Security-Policy, the sign-in configuration of the stage, and no
way to get a token from the app."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from app import app
from chalicelib.handlers.console import CONSOLE_DIR
from tests.conftest import app_over_fresh_moto

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with app_over_fresh_moto(tmp_path_factory.mktemp("chalice")) as client:
        yield client


def test_the_page_loads_only_scripts_and_styles_of_this_origin_under_a_strict_policy(api: Any):
    # when the console's page is loaded
    response = api.http.get("/console")

    # then it is HTML whose policy allows scripts, styles and calls to this origin only
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    policy = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy
    assert response.headers["Referrer-Policy"] == "no-referrer"

    # and it has no inline script or style: every script has a source here, by relative address
    page = response.body.decode()
    scripts = re.findall(r"<script([^>]*)>", page)
    assert scripts
    assert all('src="console/' in attributes for attributes in scripts)
    assert "<style" not in page
    assert " on" not in re.sub(r"<noscript>.*</noscript>", "", page).lower().replace(" only", ""), (
        "no inline event handler"
    )

    # and every file it references is served, under the same policy
    for reference in re.findall(r'(?:src|href)="(console/[^"]+)"', page):
        asset = api.http.get(f"/{reference}")
        assert asset.status_code == 200, reference
        assert asset.headers["Content-Security-Policy"] == policy
        assert asset.headers["X-Content-Type-Options"] == "nosniff"


def test_every_module_the_scripts_import_is_served(api: Any):
    # given the console's scripts
    for script in CONSOLE_DIR.glob("*.js"):
        # then each module they import is a file the app serves as JavaScript
        for imported in re.findall(r'from "\./([^"]+)"', script.read_text()):
            response = api.http.get(f"/console/{imported}")
            assert response.status_code == 200, (script.name, imported)
            assert response.headers["Content-Type"].startswith("text/javascript")


@pytest.mark.parametrize("name", ["index.html", "..%2Fapp.py", "main.js.map", "config.py"])
def test_a_file_that_is_not_a_script_or_style_of_the_console_is_404(api: Any, name: str):
    # when anything else under /console is asked for
    response = api.http.get(f"/console/{name}")

    # then it is our 404
    assert response.status_code == 404
    assert json.loads(response.body)["error"]["code"] == "asset_not_found"


def test_a_stage_that_signs_development_tokens_offers_the_development_sign_in(api: Any):
    # when the console asks how to sign in on the test stage
    response = api.http.get("/console/config.json")

    # then it is the development sign-in with the stage's partners, and nothing secret
    assert response.status_code == 200
    config = json.loads(response.body)
    assert config["sign_in"] == "development"
    assert config["partners"] == ["demo-volmacht", "demo-verzekeraar", "demo-intermediair"]
    assert "secret" not in response.body.decode().lower()


def test_the_app_itself_issues_no_token_in_any_stage(api: Any):
    # when the development sign-in's address is called on the app (what every stage deploys)
    posted = api.http.post(
        "/console/dev-token",
        body=json.dumps({"role": "admin"}),
        headers={"Content-Type": "application/json"},
    )

    # then no token comes back: only the local run serves that address
    assert posted.status_code in (404, 405)
    assert "token" not in json.loads(posted.body)
    # and no route of the app has it
    assert not [path for path in app.routes if "token" in path]
