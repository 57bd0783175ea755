"""`make run`: the whole system on this machine, with the same code paths as in AWS.

1. an embedded AWS (moto server, DynamoDB calls one at a time: scripts/embedded_aws.py) on
   127.0.0.1:$AWS_PORT (default 4566);
2. the bucket, queues (with DLQs and redrive), table (keys, indexes, TTL) and SES sender of
   `infra/template.yaml`, created by `scripts/provision.py`;
3. the API on 127.0.0.1:$API_PORT (default 8000), served as `chalice local --stage local` does;
4. a pump (`scripts/pump.py`) feeding the queues to the `ingest` and `send_activation` functions;
5. the demo portfolio (`scripts/demo_data.py`) uploaded for the three local partners through the
   real path (S3 → notification → ingest queue → ingest), unless DEMO=0, and waited for until
   every demo delivery is final in the register (at most DEMO_TIMEOUT seconds);
6. `$RUN_DIR/local.json` (default `.run/local.json`) describing the run, and the next steps:
   written and printed once the demo is loaded, so everything they suggest works at once.

Environment: AWS_PORT, API_PORT, DEMO (0 = start empty), DEMO_POLICIES (per partner, default
300), DEMO_TIMEOUT (seconds, default 300), RUN_DIR, PUMP_RETRY_SECONDS (default 5; see
scripts/pump.py).
Ctrl-C or SIGTERM stops everything. The embedded AWS runs in a child process that exits by
itself when this process ends, however it ends.
"""

from __future__ import annotations

import html
import io
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from chalicelib.errors import StoreError
from chalicelib.models.delivery import FINAL_STATUSES
from scripts.local_api import create_local_api_server
from scripts.local_env import (
    DEFAULT_REGION,
    LOCAL_STAGE,
    ROOT,
    apply_environment,
    local_environment,
    run_dir,
    run_info_path,
    stage_environment,
    write_run_info,
)

HOST = "127.0.0.1"
# Not under "polisregister": the app's Chalice object gives that logger a handler of its own
# at level ERROR (and stops it propagating), which silenced this script's progress lines.
log = logging.getLogger("local_run")
# The README's "20 new policies" file; `make run` prints the same commands (a test checks it).
NEW_POLICIES_FILE = ".run/new-policies.csv"
NEW_POLICIES_FIRST = 1000
# Where the local stage's PORTAL_BASE_URL (`<api>/portal`) sends an activation link.
PORTAL_ACTIVATE_PATH = "/portal/activate"
# The web console, served by the API (chalicelib/handlers/console.py).
CONSOLE_PATH = "/console"
EMBEDDED_AWS_LOG = "embedded-aws.log"
# Each demo partner's portfolio, under incoming/<partner_id>/.
DEMO_OBJECT = "full/demo-portfolio.csv"


class Stopped(Exception):
    """SIGINT or SIGTERM arrived while starting up."""


class StartupError(Exception):
    """The local run cannot start; the message says why and what to do."""


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise StartupError(f"{name} must be a number, not {raw!r}") from None


def _require_free_port(port: int, variable: str) -> None:
    """Refuse a port another server listens on. The probe binds as the servers bind (moto's and
    chalice's are `http.server` servers, which set SO_REUSEADDR): connections of a run stopped a
    moment ago wait in TIME_WAIT for about a minute and must not make the port look busy."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            raise StartupError(
                f"port {port} on {HOST} is in use (another `make run`?): stop it, or choose "
                f"another port, e.g. `make run {variable}={port + 1}`"
            ) from None


def _portal_page(api_url: str, token: str) -> str:
    """The local stand-in of the client portal's activation page: what the portal would do."""
    shown = html.escape(token) if token else "&lt;token&gt;"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Polisregister: local portal stand-in</title></head>
<body>
<h1>Activation link (local stand-in of the client portal)</h1>
<p>The client portal is not part of this repository. With this link it would post the token to
the API as the <code>portal</code> role; from then on the mandate's contracts are visible:</p>
<pre>PORTAL=$(make -s token ROLE=portal)
curl -s -X POST -H "Authorization: Bearer $PORTAL" -H 'Content-Type: application/json' \\
  -d '{{"token": "{shown}"}}' {html.escape(api_url)}/v1/activations</pre>
<p>A token works once and only until it expires (ACTIVATION_TOKEN_TTL_HOURS).</p>
</body></html>
"""


def _serve_portal_stand_in(api_url: str) -> None:
    """The local stage's activation links point at `<api>/portal/activate`: answer them with a
    page that says what the portal does with the token, not the 403 of an unknown path. Only in
    the local run: the deployed API has no such page (the portal has its own address)."""
    from chalice.local import ChaliceRequestHandler

    serve_api = ChaliceRequestHandler.do_GET

    def do_get(self: ChaliceRequestHandler) -> None:
        url = urlsplit(self.path)
        if url.path.rstrip("/") != PORTAL_ACTIVATE_PATH:
            serve_api(self)
            return
        token = parse_qs(url.query).get("token", [""])[0]
        body = _portal_page(api_url, token).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    if not getattr(serve_api, "portal_stand_in", False):
        do_get.portal_stand_in = True  # type: ignore[attr-defined]
        ChaliceRequestHandler.do_GET = do_get


class LocalRun:
    def __init__(self) -> None:
        self.aws_port = _env_int("AWS_PORT", 4566)
        self.api_port = _env_int("API_PORT", 8000)
        self.demo = os.environ.get("DEMO", "").strip().lower() not in ("0", "false", "no")
        self.demo_policies = _env_int("DEMO_POLICIES", 300)
        self.demo_timeout = _env_int("DEMO_TIMEOUT", 300)
        self.region = os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
        self.run_dir = run_dir()
        self.stopping = threading.Event()
        self.aws_endpoint_url = f"http://{HOST}:{self.aws_port}"
        self.api_url = f"http://{HOST}:{self.api_port}"
        self._moto: Any = None
        self._api: Any = None
        self._api_thread: threading.Thread | None = None
        self._pump: Any = None
        self.resources: dict[str, str] = {}
        # The demo deliveries: object key by partner until the API lists it final, then its report.
        self._demo_pending: dict[str, str] = {}
        self._demo_reports: dict[str, dict[str, Any]] = {}
        self._demo_order: dict[str, int] = {}
        self._demo_rows_read: dict[str, int] = {}
        self._demo_started = 0.0

    # --- lifecycle ----------------------------------------------------------------------------

    def check(self) -> None:
        if self.stopping.is_set():
            raise Stopped

    def start_aws(self) -> None:
        """The embedded AWS in a child process (it then has a CPU core of its own). The child
        ignores the terminal's Ctrl-C (this process stops it after the pump) and exits by itself
        when this process dies, so no server is ever left behind."""
        _require_free_port(self.aws_port, "AWS_PORT")
        log_path = self.run_dir / EMBEDDED_AWS_LOG
        with log_path.open("wb") as log_file:
            self._moto = subprocess.Popen(
                [sys.executable, "-m", "scripts.run_local", "--embedded-aws", str(self.aws_port)],
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection((HOST, self.aws_port), timeout=0.5).close()
                break
            except OSError:
                if self._moto.poll() is not None or time.monotonic() > deadline:
                    tail = log_path.read_text(errors="replace")[-2000:]
                    raise StartupError(f"the embedded AWS did not start:\n{tail}") from None
                self.check()
                time.sleep(0.1)
        log.info("embedded AWS (moto) on %s (log: %s)", self.aws_endpoint_url, log_path)

    def provision(self) -> None:
        from scripts.provision import provision

        stage = stage_environment(LOCAL_STAGE)
        self.resources = provision(
            self.aws_endpoint_url,
            self.region,
            table_name=stage["TABLE_NAME"],
            bucket_name=stage["BUCKET_NAME"],
            stage=LOCAL_STAGE,
        )
        self._apply_environment()
        log.info("created table %(table)s, bucket %(bucket)s and the queues", self.resources)

    def _apply_environment(self) -> None:
        """The local run's settings (embedded AWS endpoint, queue URLs, API URL) into os.environ."""
        apply_environment(
            local_environment(
                aws_endpoint_url=self.aws_endpoint_url,
                region=self.region,
                ingest_queue_url=self.resources["ingest_queue_url"],
                activation_queue_url=self.resources["activation_queue_url"],
                api_url=self.api_url,
            )
        )

    def start_api(self) -> Any:
        """What `chalice local --stage local` does, in this process; returns the app."""
        from chalice.cli import validate_routes
        from chalice.cli.factory import CLIFactory

        _require_free_port(self.api_port, "API_PORT")
        os.environ["AWS_CHALICE_CLI_MODE"] = "true"
        factory = CLIFactory(str(ROOT), environ=os.environ)
        config = factory.create_config_obj(chalice_stage_name=LOCAL_STAGE)
        app = config.chalice_app  # imports app.py with the stage's environment variables
        # Loading the app put the stage's plain values back: restore the local run's.
        self._apply_environment()
        validate_routes(app.routes)
        _serve_portal_stand_in(self.api_url)
        self._api = create_local_api_server(app, config, HOST, self.api_port)
        self._api_thread = threading.Thread(
            target=self._api.server.serve_forever, name="api", daemon=True
        )
        self._api_thread.start()
        log.info("API on %s (chalice local, stage %s)", self.api_url, LOCAL_STAGE)
        return app

    def start_pump(self, app: Any) -> None:
        from scripts.pump import pump_for_run

        self._pump = pump_for_run(app, {"region": self.region, **self.resources})
        if not self._pump.consumers:
            log.warning("the app has no SQS-triggered functions yet: nothing is pumped")
        self._pump.start()

    def stop(self) -> None:
        if self._pump is not None and not self._pump.stop(timeout=10):
            log.warning("a function was still running at shutdown; it was abandoned")
        if self._api is not None:
            self._api.shutdown()
            self._api.server.server_close()
        if self._moto is not None:
            self._moto.terminate()
            try:
                self._moto.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._moto.kill()
                self._moto.wait()
        run_info_path(self.run_dir).unlink(missing_ok=True)

    # --- demo ---------------------------------------------------------------------------------

    def load_demo(self) -> None:
        """Upload the demo portfolios and wait until every demo delivery is final in the
        register (at most DEMO_TIMEOUT seconds; after that the run goes on and says when)."""
        from chalicelib.config import get_settings
        from chalicelib.store import aws
        from scripts.demo_data import DEMO_SEED, generate_rows, write_csv

        s3 = aws.client("s3")
        bucket = self.resources["bucket"]
        self._demo_started = time.monotonic()
        for partner in get_settings().partners:
            body = io.BytesIO()
            rows = write_csv(
                body,
                # About one policy in a hundred is bad on purpose: the reports show errors.
                generate_rows(
                    self.demo_policies, seed=DEMO_SEED, partner_id=partner, bad_rows=True
                ),
            )
            key = f"incoming/{partner}/{DEMO_OBJECT}"
            s3.put_object(Bucket=bucket, Key=key, Body=body.getvalue(), ContentType="text/csv")
            self._demo_pending[partner] = key
            self._demo_order[partner] = len(self._demo_order)
            log.info("uploaded %s (%d policies, %d rows)", key, self.demo_policies, rows)
        if self._pump is None or not any(c.function_name == "ingest" for c in self._pump.consumers):
            log.warning("no ingest function to feed: the demo files stay unprocessed")
            self._demo_pending.clear()
            return
        deadline = self._demo_started + self.demo_timeout
        last_note = self._demo_started
        while self._demo_pending and time.monotonic() < deadline:
            self.check()
            self._note_final_demo_deliveries()
            if self._demo_pending and time.monotonic() - last_note > 10:
                last_note = time.monotonic()
                log.info(
                    "loading the demo: %d of %d deliveries final, %d rows read",
                    len(self._demo_reports),
                    len(self._demo_reports) + len(self._demo_pending),
                    sum(self._demo_rows_read.values()),
                )
            self.stopping.wait(0.5)
        if not self._demo_pending:
            self._demo_done()

    def _note_final_demo_deliveries(self) -> None:
        """Move the demo deliveries that are final from pending to reports: final in the
        register, where the API reads them (the report in the bucket is written a moment
        before the delivery is marked final)."""
        from chalicelib.services.ingest import build_report
        from chalicelib.store.deliveries import DynamoDeliveries

        deliveries = DynamoDeliveries()
        for partner, key in list(self._demo_pending.items()):
            try:
                recent = list(deliveries.recent(partner, limit=10))
            except StoreError as exc:
                log.info("the deliveries could not be read yet (%s)", type(exc).__name__)
                return
            for record in recent:
                if record.object_key != key:
                    continue
                self._demo_rows_read[partner] = record.progress.rows_total
                if record.status in FINAL_STATUSES:
                    self._demo_reports[partner] = build_report(record).model_dump(mode="json")
                    del self._demo_pending[partner]

    def _check_demo_search(self) -> None:
        """Ask the API what the hints ask first: the demo client every partner delivers, by the
        search box. A miss is said here, not left for the newcomer to find."""
        from scripts.demo_data import known_demo_clients
        from scripts.token import local_token

        client = known_demo_clients()[0]
        search = json.dumps({"q": f"{client.postcode} {client.house_number}"}).encode()
        request = urllib.request.Request(
            f"{self.api_url}/v1/clients/search",
            data=search,
            method="POST",
            headers={
                "Authorization": f"Bearer {local_token('jsc')}",
                "Content-Type": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                candidates = json.loads(response.read())["candidates"]
        except (OSError, ValueError, KeyError) as exc:
            log.warning("the API did not answer the demo search (%s)", type(exc).__name__)
            return
        partners = set(self._demo_reports)
        if not any(partners <= {p["partner_id"] for p in c["policies"]} for c in candidates):
            log.warning(
                "the demo search (a known demo client's postcode and house number) found "
                "no client with policies of %s",
                ", ".join(sorted(partners)),
            )

    def _demo_done(self) -> None:
        self._check_demo_search()
        print(self._demo_loaded(), flush=True)

    def _demo_loaded(self) -> str:
        reports = [
            self._demo_reports[p]
            for p in sorted(self._demo_reports, key=lambda p: self._demo_order[p])
        ]
        elapsed = time.monotonic() - self._demo_started
        rows = sum(int(r.get("rows_total", 0)) for r in reports)
        lines = [
            f"\nDemo portfolio loaded: {len(reports)} deliveries, {rows} rows, in {elapsed:.1f} s "
            "(upload to the last delivery final)."
        ]
        for report in reports:
            lines.append(
                f"  {report.get('partner_id', '?'):<20} {report.get('status', '?'):<22} "
                f"rows {report.get('rows_accepted', 0)}/{report.get('rows_total', 0)} accepted, "
                f"{report.get('rows_rejected', 0)} rejected  "
                f"{json.dumps(report.get('error_counts', {}))}"
            )
        return "\n".join(lines)

    def _demo_still_loading(self) -> str:
        done = len(self._demo_reports)
        return (
            f"\nThe demo portfolio is still being ingested after {self.demo_timeout} s "
            f"({done} of {done + len(self._demo_pending)} deliveries final). The searches above "
            "find its clients once every demo delivery is accepted or accepted_with_errors; "
            '`make run` prints "Demo portfolio loaded" here then. To look yourself:\n'
            f'  curl -s -H "Authorization: Bearer $(make -s token ROLE=admin)" '
            f"{self.api_url}/v1/deliveries"
        )

    # --- output -------------------------------------------------------------------------------

    def run_info(self) -> dict[str, Any]:
        return {
            "api_url": self.api_url,
            "console_url": f"{self.api_url}{CONSOLE_PATH}",
            "aws_endpoint_url": self.aws_endpoint_url,
            "region": self.region,
            "stage": LOCAL_STAGE,
            "bucket": self.resources["bucket"],
            "table": self.resources["table"],
            "ingest_queue_url": self.resources["ingest_queue_url"],
            "ingest_dlq_url": self.resources.get("ingest_dlq_url", ""),
            "activation_queue_url": self.resources["activation_queue_url"],
            "activation_dlq_url": self.resources.get("activation_dlq_url", ""),
            "partners": list(stage_environment(LOCAL_STAGE)["PARTNERS"].split(",")),
            "pid": os.getpid(),
        }

    def next_steps(self, info_path: Path) -> str:
        """What `make run` prints once it runs: the same commands as the README."""
        from scripts.demo_data import known_demo_clients

        bucket = self.resources["bucket"]
        api = self.api_url
        auth = '-H "Authorization: Bearer $TOKEN"'
        first = max(NEW_POLICIES_FIRST, self.demo_policies)
        new_file = NEW_POLICIES_FILE
        lines = [
            "",
            f"Polisregister runs locally (stage {LOCAL_STAGE}); details in {info_path}.",
            f"  API         {api}   (try {api}/v1/health)",
            f"  Console     {api}{CONSOLE_PATH}   (development sign-in: pick a role and partner)",
            f"  AWS (moto)  {self.aws_endpoint_url}   bucket {bucket}",
            "  Everything lives in memory: Ctrl-C discards it, and the next `make run` starts",
            "  empty again (with the demo portfolio, unless DEMO=0).",
            "",
            "Next steps, in another terminal (the README explains each):",
            "  # a token (roles: admin, jsc, portal; partner needs PARTNER=<partner_id>)",
            "  TOKEN=$(make -s token ROLE=admin)",
            f"  curl -s {auth} {api}/v1/deliveries",
        ]
        if self.demo:
            client = known_demo_clients()[0]
            lines += [
                "  # recognise a demo client that all three partners deliver",
                "  JSC=$(make -s token ROLE=jsc)",
                '  curl -s -H "Authorization: Bearer $JSC" -H "Content-Type: application/json" '
                f'-d \'{{"postcode": "{client.postcode}", '
                f'"house_number": "{client.house_number}"}}\' {api}/v1/clients/search',
            ]
        lines += [
            "  # 20 new policies of demo-volmacht (a mutation file): upload, wait for the report",
            f"  .venv/bin/python -m scripts.demo_data --partner demo-volmacht --policies 20 "
            f"--first-policy {first} --processing-code 0 --out {new_file}",
            f"  .venv/bin/python -m scripts.upload {new_file} --partner demo-volmacht "
            "--kind mutation --wait",
        ]
        if shutil.which("aws"):
            lines += [
                "  # or with the AWS CLI (any credentials do):",
                "  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test "
                f"aws --endpoint-url {self.aws_endpoint_url} --region {self.region} "
                f"s3 cp {new_file} s3://{bucket}/incoming/demo-volmacht/mutation/new-policies.csv",
            ]
        lines += [
            "  # the reports: the API, or the objects under reports/<partner_id>/ in the bucket",
            f"  curl -s {auth} '{api}/v1/deliveries?partner_id=demo-volmacht'",
            "  # e-mails sent (mandate activations); their links open a local portal stand-in",
            "  make -s mails",
            "",
            "Ctrl-C stops everything.",
            "",
        ]
        return "\n".join(lines)

    # --- main ---------------------------------------------------------------------------------

    def run(self) -> int:
        try:
            # Before touching anything: a second `make run` must leave a running one alone.
            _require_free_port(self.aws_port, "AWS_PORT")
            _require_free_port(self.api_port, "API_PORT")
        except StartupError as exc:
            log.error("%s", exc)
            return 1
        self.run_dir.mkdir(parents=True, exist_ok=True)
        run_info_path(self.run_dir).unlink(missing_ok=True)
        if (self.run_dir / EMBEDDED_AWS_LOG).exists():
            log.info(
                "the previous run's data is gone: the embedded AWS keeps everything in memory, "
                "so every `make run` starts empty"
            )
        started = time.monotonic()
        try:
            self.start_aws()
            self.check()
            self.provision()
            self.check()
            app = self.start_api()
            self.check()
            self.start_pump(app)
            log.info("started in %.1f s", time.monotonic() - started)
            if self.demo:
                self.load_demo()
            self.check()
            info_path = write_run_info(self.run_info(), self.run_dir)
            print(self.next_steps(info_path), flush=True)
            if self._demo_pending:
                print(self._demo_still_loading(), flush=True)
            while not self.stopping.wait(1.0):
                if self._demo_pending:
                    self._note_final_demo_deliveries()
                    if not self._demo_pending:
                        self._demo_done()
                if self._api_thread is not None and not self._api_thread.is_alive():
                    log.error("the API server stopped unexpectedly")
                    return 1
        except Stopped:
            pass
        except StartupError as exc:
            log.error("%s", exc)
            return 1
        finally:
            print("\nStopping...", flush=True)
            self.stop()
        print("Stopped.", flush=True)
        return 0


def _configure_logging() -> None:
    logging.basicConfig(
        stream=sys.stdout, level=logging.INFO, format="%(asctime)s %(name)s %(message)s"
    )
    # Request lines of the embedded AWS would drown everything else.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("botocore").setLevel(logging.WARNING)


def serve_embedded_aws(port: int) -> int:
    """The child process of `start_aws`: a moto server until SIGTERM or the parent's end."""
    from scripts.embedded_aws import EmbeddedAws

    parent = os.getppid()
    stop = threading.Event()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda _s, _f: stop.set())
    server = EmbeddedAws(ip_address=HOST, port=port, verbose=False)
    server.start()
    while not stop.wait(0.5):
        if os.getppid() != parent:  # the local run died without stopping us
            break
    server.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 2 and args[0] == "--embedded-aws":
        return serve_embedded_aws(int(args[1]))
    _configure_logging()
    try:
        local_run = LocalRun()
    except StartupError as exc:
        log.error("%s", exc)
        return 1

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        local_run.stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    return local_run.run()


if __name__ == "__main__":
    raise SystemExit(main())
