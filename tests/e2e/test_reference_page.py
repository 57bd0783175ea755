"""The contract and its reference page, served by the local run without a token, from its own
origin only."""

from __future__ import annotations

import re
import urllib.request
from urllib.parse import urljoin, urlsplit

import pytest

from scripts.openapi import COMMITTED
from tests.e2e.conftest import LocalRun

pytestmark = pytest.mark.e2e


def _fetch(url: str) -> tuple[int, dict[str, str], str]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, dict(response.headers), response.read().decode()


def test_the_contract_is_served_without_a_token_and_is_the_committed_file(local_run: LocalRun):
    # when anyone asks for it, without a token
    status, headers, body = _fetch(local_run.api_url + "/v1/openapi.json")

    # then it is the committed document
    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    assert body == COMMITTED.read_text(encoding="utf-8")


def test_the_reference_page_and_its_assets_come_from_this_origin_only(local_run: LocalRun):
    # when the page is loaded
    page_url = local_run.api_url + "/v1/docs"
    status, headers, page = _fetch(page_url)

    # then it is HTML under a policy that allows this origin only
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    policy = headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self';" in policy
    assert "style-src 'self';" in policy
    assert "unsafe" not in policy
    assert "http" not in policy  # no other origin anywhere in the policy
    assert "<script>" not in page  # no inline script: the policy would block it

    # and every script and style sheet it references is served here, by relative address
    references = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert len(references) >= 4
    origin = urlsplit(local_run.api_url).netloc
    for reference in references:
        url = urljoin(page_url, reference)
        assert urlsplit(url).netloc == origin, reference
        asset_status, asset_headers, asset = _fetch(url)
        assert asset_status == 200, reference
        assert asset_headers["Content-Type"].split(";")[0] in {"text/css", "text/javascript"}
        assert asset_headers["Content-Security-Policy"] == policy
        assert len(asset) > 100

    # and the page's own script loads the contract from this origin, with no validator call
    _, _, initialiser = _fetch(urljoin(page_url, "docs/reference.js"))
    assert re.findall(r"https?://", initialiser) == []
    assert 'url: "openapi.json"' in initialiser
    assert "validatorUrl: null" in initialiser


def test_a_file_that_is_not_an_asset_of_the_page_is_404_in_the_error_shape(local_run: LocalRun):
    # when a path outside the page's files is asked for
    request = urllib.request.Request(local_run.api_url + "/v1/docs/index.html")
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=30)

    # then it is our 404
    assert raised.value.code == 404
    assert raised.value.read().startswith(b'{"error": {"code": "asset_not_found"')
