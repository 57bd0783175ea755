"""The audit log on moto: every lookup, view and check leaves an entry without personal data in
clear; admins read it by day or by actor with one key query."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest

from chalicelib.auth import Principal
from chalicelib.config import get_settings
from chalicelib.rules.dates import expires_at
from chalicelib.services.audit import record_audit
from tests.conftest import bearer
from tests.integration.ddb_calls import DynamoCalls, ddb_calls_fixture, deliver  # noqa: F401
from tests.support.ingest import all_items, person

pytestmark = pytest.mark.integration

PARTNER = "demo-volmacht"


@pytest.fixture
def register(aws: dict[str, str]) -> dict[str, str]:
    deliver(aws, PARTNER, [person("A-1", ANAAM="Berg", GEBDAT="19800517", PCODE="1234AB")])
    return aws


def audit_items() -> list[dict[str, Any]]:
    return [i for i in all_items() if i.get("type") == "audit"]


def entries(api: Any, **query: str) -> list[dict[str, Any]]:
    response = api.http.get(f"/v1/audit?{urlencode(query)}", headers=bearer("admin"))
    assert response.status_code == 200, response.body
    return list(json.loads(response.body)["entries"])


def test_a_lookup_is_audited_with_personal_data_hashed_and_the_ids_returned(
    api: Any, register: Any
) -> None:
    # when a call-centre agent searches by name and birth date
    response = api.http.get(
        "/v1/clients?name=van+der+Berg&birth_date=1980-05-17",
        headers=bearer("jsc", subject="agent-7"),
    )
    found = [c["client_id"] for c in json.loads(response.body)["candidates"]]

    # then one audit entry names the actor, role, route and the ids returned
    [item] = audit_items()
    assert (item["actor"], item["role"], item["route"]) == ("agent-7", "jsc", "GET /v1/clients")
    assert item["result_ids"] == found
    assert len(found) == 1
    # and the query is there only as keyed hashes
    assert set(item["query"]) == {"name", "birth_date"}
    assert all(v.startswith("hmac:") for v in item["query"].values())
    stored = json.dumps(item, default=str).lower()
    assert "berg" not in stored
    assert "1980-05-17" not in stored
    # and the entry expires with the retention period
    now = datetime.now(UTC)
    assert abs(int(item["expires_at"]) - expires_at(now, 24)) < 60


def test_the_same_value_gives_the_same_hash_so_entries_can_be_correlated(
    api: Any, register: Any
) -> None:
    for birth_date in ("1980-05-17", "19800517", "1980-05-18"):
        api.http.get(f"/v1/clients?name=Berg&birth_date={birth_date}", headers=bearer("jsc"))
    hashes = [i["query"]["birth_date"] for i in sorted(audit_items(), key=lambda i: i["sk"])]
    assert hashes[0] == hashes[1] != hashes[2]


def test_dossier_policy_view_and_coverage_check_are_audited_with_their_route(
    api: Any, register: Any
) -> None:
    found = json.loads(api.http.get("/v1/clients?policy_number=A-1", headers=bearer("jsc")).body)
    client_id = found["candidates"][0]["client_id"]

    api.http.get(f"/v1/clients/{client_id}", headers=bearer("jsc"))
    api.http.get(f"/v1/policies/{PARTNER}/A-1", headers=bearer("partner", PARTNER))
    api.http.post(
        "/v1/coverage-checks",
        body=json.dumps(
            {
                "partner_id": PARTNER,
                "policy_number": "A-1",
                "event_date": "2024-06-01",
                "reported_date": "2024-06-02",
                "legal_area": "verkeer",
                "client_id": client_id,
            }
        ).encode(),
        headers={**bearer("admin"), "Content-Type": "application/json"},
    )

    by_route = {i["route"]: i for i in audit_items()}
    assert set(by_route) == {
        "GET /v1/clients",
        "GET /v1/clients/{client_id}",
        "GET /v1/policies/{partner_id}/{policy_number}",
        "POST /v1/coverage-checks",
    }
    assert by_route["GET /v1/clients/{client_id}"]["result_ids"][0] == client_id
    view = by_route["GET /v1/policies/{partner_id}/{policy_number}"]
    assert (view["role"], view["partner_id"]) == ("partner", PARTNER)
    assert view["query"] == {"partner_id": PARTNER, "policy_number": "A-1"}
    coverage = by_route["POST /v1/coverage-checks"]
    assert coverage["query"]["decision"] == "covered"
    assert coverage["query"]["legal_area"] == "verkeer"
    assert coverage["result_ids"] == [f"{PARTNER}/A-1"]


def test_admins_read_the_log_by_day_and_by_actor_newest_first_with_one_query(
    api: Any, aws: Any, ddb_calls: DynamoCalls
) -> None:
    # given entries by two actors
    for subject in ("anna", "bert", "anna"):
        record_audit(
            Principal(subject, frozenset({"jsc"})), "GET /v1/clients", {"kvk": "12345678"}, []
        )
    today = datetime.now(UTC).date().isoformat()
    ddb_calls.reset()

    by_day = entries(api, date=today)
    by_actor = entries(api, actor="anna")
    by_both = entries(api, actor="bert", date=today, limit="5")

    assert [e["actor"] for e in by_day] == ["anna", "bert", "anna"]
    assert [e["at"] for e in by_day] == sorted((e["at"] for e in by_day), reverse=True)
    assert [e["actor"] for e in by_actor] == ["anna", "anna"]
    assert [e["actor"] for e in by_both] == ["bert"]
    assert ddb_calls.reads() == ["Query", "Query", "Query"]


def test_the_log_without_a_date_shows_today_and_honours_the_limit(api: Any, aws: Any) -> None:
    for _ in range(3):
        record_audit(Principal("anna", frozenset({"jsc"})), "GET /v1/clients", {}, [])
    assert len(entries(api)) == 3
    assert len(entries(api, limit="2")) == 2


def test_an_expired_audit_entry_is_not_shown(api: Any, aws: Any) -> None:
    record_audit(Principal("anna", frozenset({"jsc"})), "GET /v1/clients", {}, [])
    settings = get_settings()
    table = boto3.resource("dynamodb", region_name=settings.aws_region).Table(settings.table_name)
    [item] = audit_items()
    table.put_item(Item={**item, "expires_at": int(time.time()) - 1})
    assert entries(api) == []
    assert entries(api, actor="anna") == []
