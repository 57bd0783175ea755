"""A policy number of nothing but zeros after its letter prefix (`VK00000`, `P00000`, `0000`) is
a number an insurer may really issue, and the delivery stores it: the search finds it under the
same partition the ingest wrote (the number itself, since dropping the prefix and the leading
zeros leaves nothing), instead of answering `400 query_too_broad` (docs/api.md)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.conftest import bearer
from tests.integration.ddb_calls import deliver
from tests.support.ingest import person

pytestmark = pytest.mark.integration

PARTNER = "demo-volmacht"


def search(api: Any, **params: str) -> Any:
    return api.http.get(f"/v1/clients?{urlencode(params)}", headers=bearer("jsc"))


@pytest.mark.parametrize(
    ("delivered", "asked"),
    [
        ("VK00000", "VK00000"),
        ("vk00000", "vk 00000"),
        ("0000", "0000"),
        ("P-0000", "p-0000"),
        # separators do not count, as in every other policy number
        ("VK-00000", "VK00000"),
        ("VK00000", "VK-00000"),
        ("VK.0000", "VK 0000"),
    ],
)
def test_a_stored_policy_number_of_zeros_after_its_prefix_is_found_by_its_number(
    api: Any, aws: dict[str, str], delivered: str, asked: str
) -> None:
    # given a delivered policy whose number is only zeros after its letter prefix, beside one
    # of another client
    deliver(aws, PARTNER, [person(delivered, ANAAM="Nul"), person("VK00001", HUISNR="2")])

    # when the legal service centre searches that number, as structured field and as free text
    by_field = search(api, policy_number=asked)
    by_text = search(api, q=asked.replace(" ", ""))

    # then both find that policy's client, matched on the policy number
    for response in (by_field, by_text):
        assert response.status_code == 200, response.body
        (candidate,) = json.loads(response.body)["candidates"]
        assert candidate["name"]["surname"] == "Nul"
        assert candidate["match"]["on"] == ["policy_number"]
        assert [p["policy_number"] for p in candidate["policies"]] == [delivered.upper()]
