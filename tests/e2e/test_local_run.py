"""End to end through the local run: upload to the embedded S3, the pump feeds the real ingest,
the report is read through the API."""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import subprocess
import sys
import urllib.request
import uuid
from urllib.parse import urlsplit

import pytest

from scripts.demo_data import COLUMNS, DEMO_PARTNERS, generate_rows, known_demo_clients
from scripts.local_env import ROOT, RUN_INFO
from tests.conftest import TEST_ENV
from tests.e2e.conftest import DEMO_POLICIES, LocalRun, wait_for_delivery
from tests.e2e.demo_register import check_demo_register

pytestmark = pytest.mark.e2e


def _mutation_file(n_policies: int) -> tuple[bytes, int]:
    """New policies (code 0) plus one single-party policy whose postcode is never issued."""
    rows = list(
        generate_rows(
            n_policies,
            seed=4242,
            partner_id="demo-volmacht",
            bad_rows=False,
            first_policy=10_000 + uuid.uuid4().int % 100_000 * 10,
            processing_code="0",
        )
    )
    bad = {**rows[0], "PP_NUMMER": f"E2E-{uuid.uuid4().hex[:8]}", "PP_GEZIN": "A"}
    bad.update(ENTITEIT="VP", PCODE="1234 SS")
    rows.append(bad)
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";")
    writer.writerow(COLUMNS)
    writer.writerows([row[c] for c in COLUMNS] for row in rows)
    return out.getvalue().encode("utf-8"), len(rows)


def test_a_file_uploaded_to_the_embedded_s3_is_ingested_and_its_report_read_through_the_api(
    local_run: LocalRun,
) -> None:
    # given a mutation file of five new policies and one with a postcode that is never issued
    body, rows = _mutation_file(5)
    key = f"incoming/demo-volmacht/mutation/e2e {uuid.uuid4().hex[:8]}.csv"

    # when a partner uploads it (a key with a space: S3 events encode it)
    local_run.s3().put_object(Bucket=local_run.info["bucket"], Key=key, Body=body)
    listed = wait_for_delivery(local_run, "demo-volmacht", key)
    status, report = local_run.get(f"/v1/deliveries/{listed['delivery_id']}")

    # then the report counts every row and names the rejected one
    assert status == 200, report
    assert report["status"] == "accepted_with_errors"
    assert report["kind"] == "mutation"
    assert report["rows_total"] == rows
    assert report["rows_rejected"] == 1
    assert report["rows_accepted"] == rows - 1
    assert report["error_counts"] == {"invalid_postcode": 1}
    assert report["errors"][0]["column"] == "PCODE"


def test_a_partner_reads_its_own_reports_and_not_another_partners(local_run: LocalRun) -> None:
    # when
    own_status, own = local_run.get("/v1/deliveries", role="partner", partner_id="demo-verzekeraar")
    other_status, _ = local_run.get(
        "/v1/deliveries?partner_id=demo-volmacht", role="partner", partner_id="demo-verzekeraar"
    )

    # then
    assert own_status == 200
    assert {d["partner_id"] for d in own["deliveries"]} == {"demo-verzekeraar"}
    assert other_status == 403


def test_the_demo_portfolio_is_loaded_and_its_shared_client_recognised_across_partners(
    local_run: LocalRun,
) -> None:
    # given the demo deliveries of the three partners
    status, body = local_run.get("/v1/deliveries")
    assert status == 200
    demo = [d for d in body["deliveries"] if d["object_key"].endswith("/full/demo-portfolio.csv")]
    assert sorted(d["partner_id"] for d in demo) == sorted(DEMO_PARTNERS)
    assert all(d["status"] in {"accepted", "accepted_with_errors"} for d in demo)
    assert all(d["policies_written"] >= DEMO_POLICIES - 1 for d in demo)

    # when the call centre looks up a known demo client by address
    client = known_demo_clients()[0]
    status, found = local_run.post(
        "/v1/clients/search",
        {"postcode": client.postcode, "house_number": client.house_number},
        role="jsc",
    )

    # then one candidate carries policies of all three partners
    assert status == 200, found
    partners_per_candidate = [
        {p["partner_id"] for p in candidate["policies"]} for candidate in found["candidates"]
    ]
    assert set(DEMO_PARTNERS) in partners_per_candidate


def test_once_the_run_is_ready_the_search_box_finds_the_demo_client_of_all_three_partners(
    local_run: LocalRun,
) -> None:
    # given a local run that has written its run info (what `make run` does with its hints)
    client = known_demo_clients()[0]

    # when the call centre types the client's postcode and house number into the search box
    search = {"q": f"{client.postcode} {client.house_number}"}
    status, found = local_run.post("/v1/clients/search", search, role="jsc")

    # then the client is a candidate with policies of all three partners
    assert status == 200, found
    [candidate] = [c for c in found["candidates"] if c["birth_date"] == client.birth_date]
    assert {p["partner_id"] for p in candidate["policies"]} == set(DEMO_PARTNERS)


def test_every_good_demo_policy_is_in_the_register_with_one_client_id_per_person(
    local_run: LocalRun,
) -> None:
    # when every policy the demo generator made is read back through the API
    found = check_demo_register(lambda path: local_run.get(path, role="jsc"), DEMO_POLICIES)

    # then the good ones are all there, the bad ones are not, and the three partners' deliveries
    # (ingested at once) made one client id per person, never one for two people
    assert found.bad_policies >= len(DEMO_PARTNERS)
    assert found.missing == []
    assert found.stored_bad == []
    assert found.unmatched == []
    assert found.split == []
    assert found.merged == {}


def test_a_second_run_on_the_same_ports_refuses_to_start_and_leaves_the_first_alone(
    local_run: LocalRun,
) -> None:
    # given a running local run; when a second one is started on the same ports and run dir
    run_dir = local_run.log_path.parent
    env = {k: v for k, v in os.environ.items() if k not in TEST_ENV}
    env.update(
        RUN_DIR=str(run_dir),
        AWS_PORT=str(urlsplit(local_run.info["aws_endpoint_url"]).port),
        API_PORT=str(urlsplit(local_run.api_url).port),
        DEMO="0",
    )
    second = subprocess.run(
        [sys.executable, "-m", "scripts.run_local"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
        check=False,
    )

    # then it says why and stops, and the first run's description is still there
    assert second.returncode == 1
    assert b"in use" in second.stdout + second.stderr
    assert (run_dir / RUN_INFO).exists()
    status, _ = local_run.get("/v1/health")
    assert status == 200


def test_the_local_run_logs_no_query_strings(local_run: LocalRun) -> None:
    # when the call centre looks a client up by e-mail address on the deprecated query route
    address = f"privacy-{uuid.uuid4().hex[:8]}@example.nl"
    status, _ = local_run.get(f"/v1/clients?email={address}", role="jsc")

    # then the request is served and its log line names the path, not the address
    assert status == 200
    log = local_run.log_path.read_text(errors="replace")
    assert "/v1/clients" in log
    assert address not in log


def _raw_request(local_run: LocalRun, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send `request` as is over a socket; returns the status, headers and body."""
    url = urlsplit(local_run.api_url)
    with socket.create_connection((url.hostname, url.port), timeout=30) as connection:
        connection.sendall(request)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
            head, _, body = received.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
            if "Content-Length" in headers and len(body) >= int(headers["Content-Length"]):
                return int(lines[0].split()[1]), headers, body
    raise AssertionError(f"incomplete answer: {received[:300]!r}")


@pytest.mark.parametrize(
    ("request_line", "status", "code"),
    [
        ("GET /v1/no-such-route", 404, "not_found"),
        ("POST /v1/clients/c_000000000000000000000000/delete", 404, "not_found"),
        ("PUT /v1/health", 405, "method_not_allowed"),
        ("BREW /v1/health", 405, "method_not_allowed"),
    ],
)
def test_what_the_local_server_answers_itself_has_our_error_shape_and_echoes_no_header(
    local_run: LocalRun, request_line: str, status: int, code: str
) -> None:
    # given a request with a bearer token to a path or with a method the API does not have
    token = f"secret-token-{uuid.uuid4().hex}"
    request = (
        f"{request_line} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n"
        "Content-Length: 0\r\nConnection: close\r\n\r\n"
    ).encode()

    # when it is sent to the local run
    answer_status, headers, body = _raw_request(local_run, request)

    # then the answer is JSON in our shape, and the token is not in it
    assert answer_status == status
    assert headers["Content-Type"].startswith("application/json")
    assert json.loads(body)["error"]["code"] == code
    assert token.encode() not in body
    assert token not in str(headers)


def test_an_activation_link_opens_the_local_portal_stand_in_with_the_call_to_make(
    local_run: LocalRun,
) -> None:
    # given the link an activation e-mail of the local run carries (PORTAL_BASE_URL + /activate)
    link = f"{local_run.api_url}/portal/activate?token=tok-123%3Cb%3E"

    # when a developer opens it
    with urllib.request.urlopen(link, timeout=10) as response:
        status, kind, page = response.status, response.headers["Content-Type"], response.read()

    # then a page says how the portal uses the token, which is shown as text, not markup
    assert status == 200
    assert kind.startswith("text/html")
    text = page.decode()
    assert "/v1/activations" in text
    assert "tok-123&lt;b&gt;" in text
    assert "<b>" not in text
