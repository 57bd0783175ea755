"""The web console in a real Chromium against a local run of its own (this module changes the
register: a held delivery is confirmed, a client with markup in its name is delivered)."""

from __future__ import annotations

import io
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Locator, Page, Request, Route, expect

from chalicelib.models.delivery import DeliveryRecord
from chalicelib.store.deliveries import to_item as delivery_item
from scripts.console_browser import VIEWPORT, check_coverage, chromium, search, sign_in
from scripts.demo_data import DEMO_SEED, generate_rows, known_demo_clients, write_csv
from scripts.token import local_token
from tests.e2e.conftest import FINAL, LocalRun, running_local_run, wait_for_delivery

pytestmark = pytest.mark.e2e

# Enough policies for a delivery with a rejected row (the demo's deliberate one in a hundred).
DEMO_POLICIES = 30
CALLER = known_demo_clients()[0]
MARKUP_NAME = '<img src=x onerror="window.__injected=1">'
FORMULA_NAME = '=HYPERLINK("http://example.invalid","klik")'
MARKUP_POSTCODE, MARKUP_HOUSE = "9999ZZ", "7"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRun]:
    with running_local_run(tmp_path_factory.mktemp("console-run"), DEMO_POLICIES) as local:
        yield local


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert errors == [], errors  # no script error on any screen


def console_url(run: LocalRun) -> str:
    return str(run.info["console_url"])


def upload(
    run: LocalRun, partner_id: str, kind: str, name: str, rows: list[dict[str, str]]
) -> dict:
    body = io.BytesIO()
    write_csv(body, rows)
    key = f"incoming/{partner_id}/{kind}/{name}"
    run.s3().put_object(Bucket=run.info["bucket"], Key=key, Body=body.getvalue())
    return wait_for_delivery(run, partner_id, key)


def test_jsc_finds_a_caller_by_postcode_and_house_number_and_reads_a_coverage_decision(
    run: LocalRun, page: Page
):
    # given the console, signed in as the legal service centre
    sign_in(page, console_url(run), "jsc")
    history_at_start = page.evaluate("history.length")
    box = page.get_by_label("Zoek een klant")

    # then the search box has the focus
    expect(box).to_be_focused()

    # when the caller's postcode and house number are typed and Enter pressed
    search(page, f"{CALLER.postcode} {CALLER.house_number}")

    # then the caller is among the candidates (others may live there too: the address alone
    # ranks them equally), with how each field matched, and the first one is chosen
    candidates = page.locator(".candidate")
    expect(candidates.first).to_have_attribute("aria-selected", "true")
    caller = candidates.filter(has_text="Tim el Amrani")
    expect(caller.locator(".explain")).to_contain_text("Adres: exact gelijk")
    expect(caller.locator(".explain")).to_contain_text("Naam: niet opgegeven")

    # when the arrows choose the caller and Enter is pressed again, the dossier opens
    names = candidates.locator(".name").all_inner_texts()
    for _ in range(names.index("Tim el Amrani")):
        box.press("ArrowDown")
    expect(caller).to_have_attribute("aria-selected", "true")
    box.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tim el Amrani")
    policies = page.get_by_role("table", name="Polissen per partner")
    for partner_id in CALLER.partners:
        expect(policies).to_contain_text(partner_id)

    # and nothing personal is in the title or the address
    assert "Amrani" not in page.title()
    assert page.url == console_url(run)

    # when a coverage check runs for the volmacht's policy: a housing case, reported today
    check_coverage(page, "VOL9100000001", date.today() - timedelta(days=30), "wonen", "2500")

    # then the decision is shown in words, with every rule's reason in Dutch
    expect(page.locator(".decision")).to_contain_text("Beslissing: Gedekt")
    reasons = page.locator(".reason")
    expect(reasons).to_have_count(7)
    expect(reasons.nth(1)).to_contain_text("voldaan")
    expect(reasons.nth(1)).to_contain_text("De polis was van kracht op")

    # and in English on the toggle
    page.get_by_role("button", name="English").click()
    expect(page.locator(".decision")).to_contain_text("Decision: Covered")
    expect(reasons.nth(1)).to_contain_text("in force")

    # and Escape goes back to the dossier, and again to the search with its candidates
    page.keyboard.press("Escape")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tim el Amrani")
    page.keyboard.press("Escape")
    expect(page.get_by_label("Find a client")).to_be_focused()
    expect(caller).to_have_attribute("aria-selected", "true")

    # and the browser's history did not grow: no search, dossier or check is in it
    assert page.evaluate("history.length") == history_at_start


def test_jsc_finds_a_caller_by_a_misspelt_name_and_an_objection_route_is_read_out(
    run: LocalRun, page: Page
):
    # given the console, signed in as the legal service centre, its requests watched
    sign_in(page, console_url(run), "jsc")
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))

    # when the name is misspelt but the birth date given
    search(page, "Tim el Amarni 10-06-1986")

    # then the caller is found, the name marked as similar
    first = page.locator(".candidate").first
    expect(first).to_contain_text("Tim el Amrani")
    expect(first.locator(".explain")).to_contain_text("Naam: lijkt erop")

    # and what the employee typed went in a request's body, in no URL
    searches = [r for r in requests if "/v1/clients" in r.url]
    assert [(r.method, r.url.rsplit("/", 2)[-2:]) for r in searches] == [
        ("POST", ["clients", "search"])
    ]
    assert "Amarni" in (searches[0].post_data or "")
    assert not [r.url for r in requests if "Amarni" in r.url or "1986" in r.url]

    # when a coverage check asks about a legal area no module covers
    page.get_by_label("Zoek een klant").press("Enter")
    check_coverage(page, "VOL9100000001", date.today() - timedelta(days=10), "fiscaal")

    # then it is not covered, says why, and gives the objection route as text to read out
    expect(page.locator(".decision")).to_contain_text("Niet gedekt")
    expect(page.locator(".reason.outcome-fail")).to_contain_text("niet voldaan")
    expect(page.get_by_role("heading", name="Bezwaarroute (om voor te lezen)")).to_be_visible()
    expect(page.locator(".objection li").first).not_to_be_empty()


def test_the_next_callers_coverage_check_starts_empty_not_with_the_previous_callers_claim(
    run: LocalRun, page: Page
):
    # given the JSC checked a housing claim of 2500 euro for one caller
    sign_in(page, console_url(run), "jsc")
    search(page, f"{CALLER.postcode} {CALLER.house_number}")
    page.locator(".candidate").filter(has_text="Tim el Amrani").click()
    event_date = date.today() - timedelta(days=30)
    check_coverage(page, "VOL9100000001", event_date, "fiscaal", "2500")
    expect(page.locator(".decision")).to_contain_text("Beslissing")

    # when the next caller is searched and a coverage check opened on their policy
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    search(page, "van den Broek 16-04-2002")
    expect(page.locator(".candidate").first).to_contain_text("Broek")
    page.get_by_label("Zoek een klant").press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Broek")
    page.get_by_role("table", name="Polissen per partner").get_by_role(
        "button", name="Dekking controleren"
    ).first.click()

    # then nothing of the previous caller's claim is on the form
    expect(page.get_by_label("Datum gebeurtenis")).to_have_value("")
    expect(page.get_by_label("Datum melding")).to_have_value(date.today().isoformat())
    expect(page.get_by_label("Bedrag van het geschil (euro, optioneel)")).to_have_value("")
    expect(page.get_by_label("Rechtsgebied")).not_to_have_value("fiscaal")

    # but a second policy of the same caller keeps the claim just typed
    page.get_by_label("Datum gebeurtenis").fill(event_date.isoformat())
    page.get_by_label("Rechtsgebied").select_option("wonen")
    page.get_by_role("button", name="Dekking beoordelen").click()
    expect(page.locator(".decision")).to_contain_text("Beslissing")
    page.keyboard.press("Escape")
    page.get_by_role("table", name="Polissen per partner").get_by_role(
        "button", name="Dekking controleren"
    ).last.click()
    expect(page.get_by_label("Datum gebeurtenis")).to_have_value(event_date.isoformat())
    expect(page.get_by_label("Rechtsgebied")).to_have_value("wonen")


def test_a_search_too_broad_shows_the_reason_and_an_unreachable_api_says_so(
    run: LocalRun, page: Page
):
    sign_in(page, console_url(run), "jsc")

    # when a surname alone is searched
    search(page, "Jansen")

    # then the employee reads what to add, not a code or a trace
    alert = page.locator("main .error")
    expect(alert).to_contain_text("past op te veel mensen")

    # when the API cannot be reached
    page.route("**/v1/clients/search", lambda route: route.abort())
    search(page, f"{CALLER.postcode} {CALLER.house_number}")

    # then the page says so
    expect(alert).to_contain_text("De API is niet bereikbaar")


def test_an_expired_token_leads_back_to_the_sign_in(run: LocalRun, page: Page):
    # given a sign-in whose token lives one second
    def short_lived(route: Route) -> None:
        body = json.loads(route.request.post_data or "{}")
        route.continue_(post_data=json.dumps({**body, "lifetime_seconds": 1}))

    page.route("**/console/dev-token", short_lived)
    sign_in(page, console_url(run), "jsc")
    time.sleep(1.5)

    # when the employee searches after it expired
    search(page, f"{CALLER.postcode} {CALLER.house_number}")

    # then the sign-in is shown again, saying why
    expect(page.get_by_role("heading", name="Aanmelden (lokale ontwikkelomgeving)")).to_be_visible()
    expect(page.locator(".notice")).to_have_text("Uw sessie is verlopen. Meld u opnieuw aan.")


def test_a_delivered_name_holding_markup_is_shown_as_text_and_runs_nothing(
    run: LocalRun, page: Page
):
    # given a partner delivered a client whose name is markup and whose first name a formula
    row = next(
        generate_rows(
            1, seed=DEMO_SEED, partner_id="demo-verzekeraar", first_policy=5000, processing_code="0"
        )
    )
    row.update(
        ANAAM=MARKUP_NAME,
        VOORV="",
        RNAAM=FORMULA_NAME,
        PCODE=MARKUP_POSTCODE,
        HUISNR=MARKUP_HOUSE,
        TOEVOEG="",
        PP_GEZIN="A",
    )
    delivery = upload(run, "demo-verzekeraar", "mutation", "markup.csv", [row])
    assert delivery["rows_accepted"] == 1, delivery

    # when the JSC finds that client and opens the dossier
    sign_in(page, console_url(run), "jsc")
    search(page, f"{MARKUP_POSTCODE} {MARKUP_HOUSE}")
    first = page.locator(".candidate").first
    expect(first.locator(".name")).to_contain_text(MARKUP_NAME.split(" ")[0])
    page.get_by_label("Zoek een klant").press("Enter")
    heading = page.get_by_role("heading", level=1)

    # then the name and the formula are shown as the text they are
    expect(heading).to_contain_text(MARKUP_NAME)
    expect(page.get_by_role("table", name="Betrokkenen op deze polissen")).to_contain_text(
        FORMULA_NAME
    )
    # and no element came from it, and nothing ran
    assert page.locator("main img").count() == 0
    assert page.evaluate("window.__injected") is None

    # and the page's policy allows no inline script
    policy = page.request.get(console_url(run)).headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "unsafe" not in policy


def test_a_partner_opens_a_report_with_its_errors_per_line_and_sees_only_its_own_deliveries(
    run: LocalRun, page: Page
):
    # given the console, signed in as demo-volmacht
    sign_in(page, console_url(run), "partner", "demo-volmacht")

    # then the deliveries are its own only
    deliveries = page.get_by_role("table", name="Leveringen van demo-volmacht")
    expect(deliveries).to_contain_text("demo-portfolio.csv")
    expect(deliveries).not_to_contain_text("demo-verzekeraar")
    expect(deliveries).not_to_contain_text("demo-intermediair")

    # when its demo portfolio's report is opened
    deliveries.get_by_role("row").filter(has_text="demo-portfolio.csv").get_by_role(
        "button", name="Rapport"
    ).click()

    # then the rejected row is listed with its line, column and reason
    errors = page.get_by_role("table", name="Fouten per regel")
    expect(errors.locator("tbody tr")).to_have_count(1)
    expect(errors).to_contain_text("end_before_start")
    # and the delivery's quality per field
    quality = page.get_by_role("table", name="Kwaliteit van deze levering per veld")
    expect(quality.get_by_role("columnheader", name="Geldigheid")).to_be_visible()

    # when the rejected rows are downloaded
    with page.expect_download() as download:
        page.get_by_role("button", name="Afgewezen regels downloaden (CSV)").click()
    # then the file holds the rejected row's line, column and code, and the page stays put
    saved = download.value
    assert saved.suggested_filename.endswith(".csv")
    text = Path(saved.path()).read_text(encoding="utf-8-sig")
    rows = [line.split(";") for line in text.splitlines()]
    assert rows[0][:4] == ["file", "line", "column", "code"]
    assert [row[3] for row in rows[1:]] == ["end_before_start"]
    assert page.url.endswith("/console")

    # and another partner's delivery cannot be read through the API the console uses
    other = run.get("/v1/deliveries?partner_id=demo-verzekeraar")[1]["deliveries"][0]
    status = page.evaluate(
        """async (id) => {
            const { session } = await import("./console/auth.js");
            const headers = { Authorization: `Bearer ${session.token}` };
            const listing = await fetch("v1/deliveries?partner_id=demo-verzekeraar", { headers });
            const one = await fetch(`v1/deliveries/${id}`, { headers });
            return [listing.status, one.status];
        }""",
        other["delivery_id"],
    )
    assert status == [403, 404]


def test_a_partner_downloads_a_rejected_rows_file_larger_than_the_api_answers(
    run: LocalRun, page: Page
):
    # given a check of an export whose 45,004 rows all lack a valid postcode: its rejected-rows
    # file is over 5 MB, which the API hands out as a 303 to the bucket (another origin)
    rows = list(generate_rows(25_000, seed=DEMO_SEED, partner_id="demo-volmacht", bad_rows=False))
    for row in rows:
        row["PCODE"] = "1"
    delivery = upload(run, "demo-volmacht", "check", "groot.csv", rows)
    assert delivery["rows_rejected"] == len(rows), delivery
    token = local_token("partner", "demo-volmacht")
    address = f"{run.api_url}/v1/deliveries/{delivery['delivery_id']}/rejected-rows"
    request = urllib.request.Request(address, headers={"Authorization": f"Bearer {token}"})
    with pytest.raises(urllib.error.HTTPError) as redirect, _no_redirects().open(request):
        pass
    assert redirect.value.code == 303

    # when the partner opens its report in the console and downloads the rejected rows
    sign_in(page, console_url(run), "partner", "demo-volmacht")
    deliveries = page.get_by_role("table", name="Leveringen van demo-volmacht")
    deliveries.get_by_role("row").filter(has_text="groot.csv").get_by_role(
        "button", name="Rapport"
    ).click()
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="Afgewezen regels downloaden (CSV)").click()

    # then the browser saves the whole file under the delivery's id, and the page stays put
    saved = download.value
    assert saved.suggested_filename == f"{delivery['delivery_id']}.csv"
    data = Path(saved.path()).read_bytes()
    assert len(data) > 5 * 1024 * 1024
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0].split(";")[:4] == ["file", "line", "column", "code"]
    cells = [line.split(";") for line in lines[1:]]
    postcodes = [row[1] for row in cells if row[2] == "PCODE"]
    assert postcodes == [str(line) for line in range(2, len(rows) + 2)]
    assert page.url.endswith("/console")


def _no_redirects() -> urllib.request.OpenerDirector:
    class Refuse(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    return urllib.request.build_opener(Refuse)


def test_an_admin_confirms_a_held_delivery_after_reading_how_many_policies_end(
    run: LocalRun, page: Page
):
    # given a full delivery of demo-intermediair that keeps 10 of its 30 policies: held
    rows = list(generate_rows(10, seed=DEMO_SEED, partner_id="demo-intermediair"))
    held = upload(run, "demo-intermediair", "full", "smaller.csv", rows)
    assert held["status"] == "held_for_review", held
    ending = held["policies_pending_removal"]
    assert ending > 0

    # when the admin opens the console
    sign_in(page, console_url(run), "admin")

    # then the held delivery says how many policies confirming ends
    table = page.get_by_role("table", name="Aangehouden volledige leveringen")
    expect(table).to_contain_text(f"Bevestigen beëindigt {ending} polissen van demo-intermediair.")

    # when the admin confirms, and confirms again
    table.get_by_role("button", name="Bevestigen…").click()
    page.get_by_role("button", name=f"Ja, beëindig {ending} polissen").click()

    # then the console says it is done, and the delivery is no longer held
    expect(page.get_by_role("status")).to_contain_text("Bevestigd")
    expect(page.get_by_text("Er worden geen leveringen aangehouden.")).to_be_visible()
    status, report = run.get(f"/v1/deliveries/{held['delivery_id']}")
    assert status == 200
    assert report["status"] != "held_for_review"
    assert report["confirmed_by"] == "ontwikkelaar"


def every_page(run: LocalRun, listing: str, items: str) -> list[dict]:
    """Every item of an API listing (`items` of each answer), following next_cursor."""
    found: list[dict] = []
    cursor = ""
    while True:
        status, answer = run.get(f"{listing}{cursor}")
        assert status == 200, answer
        found.extend(answer[items])
        if not answer["next_cursor"]:
            return found
        cursor = f"&cursor={answer['next_cursor']}"


def pages_read(page: Page, older: Locator) -> int:
    """Click the console's 'older' button until the listing ends: how many pages it shows."""
    pages = 1
    while older.count() and pages < 10:
        older.click()
        expect(page.locator("[aria-busy='true']")).to_have_count(0)
        pages += 1
    return pages


def test_an_admin_reads_a_busy_days_audit_page_after_page(run: LocalRun, page: Page):
    # given more lookups by one agent today than one page of the audit holds (100)
    for n in range(101):
        search = {"policy_number": f"{9_000_000 + n}"}
        status, _ = run.post("/v1/clients/search", search, role="jsc")
        assert status == 200
    total = len(every_page(run, "/v1/audit?actor=jsc-user&limit=500", "entries"))
    assert total > 100

    # when the admin shows that agent's entries
    sign_in(page, console_url(run), "admin")
    page.get_by_role("button", name="Auditlogboek").click()
    page.get_by_label("Wie (leeg: iedereen)").fill("jsc-user")
    page.get_by_role("button", name="Tonen").click()

    # then the first page says there are older entries, and offers them
    expect(page.get_by_role("status")).to_contain_text("100 regels. Er zijn oudere regels.")
    pages = pages_read(page, page.get_by_role("button", name="Oudere regels laden"))

    # and after the last page every entry of the day is in the table, each once
    expect(page.get_by_role("status")).to_have_text(f"{total} regels.")
    assert pages == -(-total // 100)
    audit = page.get_by_role("table", name="Auditlogboek")
    expect(audit.locator("tbody tr")).to_have_count(total)


def test_a_partner_reads_its_data_quality_and_an_admin_every_partners_ranked(
    run: LocalRun, page: Page
):
    # given the console, signed in as demo-volmacht
    sign_in(page, console_url(run), "partner", "demo-volmacht")

    # when its data quality is opened
    page.get_by_role("button", name="Datakwaliteit").click()

    # then its scorecard shows the score and, per field, completeness and validity in words
    expect(page.get_by_role("heading", level=1)).to_have_text("Datakwaliteit van demo-volmacht")
    expect(page.locator("dl.facts")).to_contain_text("%")
    fields = page.get_by_role("table", name="Per veld")
    expect(fields.get_by_role("columnheader", name="Volledigheid")).to_be_visible()
    expect(fields.locator("tbody tr").first).to_contain_text("%")
    # (each field named in words, not by the API's name)
    expect(fields.locator("tbody tr").first.locator("td").first).to_have_text("Achternaam")
    expect(fields).to_contain_text("Postcode + huisnummer")
    assert "_" not in " ".join(fields.locator("tbody tr td:first-child").all_inner_texts())
    expect(page.get_by_role("table", name="Meest voorkomende fouten")).to_contain_text(
        "end_before_start"
    )
    # and per search form how many of its clients (each once) and of its rows it finds
    findable = page.get_by_role("table", name="Vindbaar voor het servicecentrum, per zoekvorm")
    expect(findable.get_by_role("columnheader", name="Aandeel klanten")).to_be_visible()
    address = findable.locator("tbody tr").filter(has_text="postcode + huisnummer")
    expect(address.locator("td").nth(2)).to_contain_text("%")

    # when an admin opens the ranking and one partner's scorecard
    sign_in(page, console_url(run), "admin")
    page.get_by_role("button", name="Datakwaliteit").click()
    ranking = page.get_by_role("table", name="Alle partners, slechtste score eerst")
    for partner_id in ("demo-volmacht", "demo-verzekeraar", "demo-intermediair"):
        expect(ranking).to_contain_text(partner_id)
    ranking.get_by_role("row").filter(has_text="demo-verzekeraar").get_by_role(
        "button", name="Scorekaart"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Datakwaliteit van demo-verzekeraar")


def test_a_partner_approves_a_mandate_request_and_resends_its_activation_link(
    run: LocalRun, page: Page
):
    # given the portal submitted a mandate request for the volmacht's policyholder
    status, found = run.get("/v1/clients?policy_number=VOL9100000001", role="jsc")
    assert status == 200
    status, mandate = run.post(
        "/v1/mandates",
        mandate_request(found["candidates"][0]["client_id"]),
        role="portal",
    )
    assert status == 201, mandate

    # when the partner opens it by its number
    sign_in(page, console_url(run), "partner", "demo-volmacht")
    page.get_by_role("button", name="Machtigingen").click()
    page.get_by_label("Machtigingsnummer of klantnummer").fill(mandate["mandate_id"])
    page.get_by_label("Machtigingsnummer of klantnummer").press("Enter")

    # then it shows what was requested, and the actions its state allows
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("aangevraagd")
    expect(facts).to_contain_text("Sara Jansen")
    expect(page.get_by_role("button", name="Link opnieuw sturen")).to_have_count(0)

    # when the partner approves it, and then resends the link
    page.get_by_role("button", name="Goedkeuren").click()
    expect(page.get_by_role("status")).to_contain_text("Goedgekeurd")
    expect(facts).to_contain_text("goedgekeurd")
    page.get_by_role("button", name="Link opnieuw sturen").click()
    expect(page.get_by_role("status")).to_contain_text("Een nieuwe link wordt gemaild")

    # then the register has it approved, with both changes in its history by this partner
    status, stored = run.get(f"/v1/mandates/{mandate['mandate_id']}")
    assert status == 200
    assert stored["state"] == "approved"
    changes = [change for change in stored["history"] if change["by"]]
    assert [c["by"]["partner_id"] for c in changes[-2:]] == ["demo-volmacht", "demo-volmacht"]


def test_a_name_typed_into_the_mandate_lookup_is_not_sent_and_the_page_says_what_to_type(
    run: LocalRun, page: Page
):
    # given a partner's employee on the mandate screen, the console's requests watched
    sign_in(page, console_url(run), "partner", "demo-volmacht")
    page.get_by_role("button", name="Machtigingen").click()
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))

    # when the client's name and birth date are typed instead of a number
    box = page.get_by_label("Machtigingsnummer of klantnummer")
    box.fill("Jansen 1990-01-01")
    box.press("Enter")

    # then the page says what the box takes, and nothing was asked of the API
    expect(page.locator("main .error")).to_contain_text("Typ een machtigingsnummer")
    assert [r.url for r in requests if "/v1/" in r.url] == []


def test_a_clients_mandate_list_shows_the_new_state_after_an_approval(run: LocalRun, page: Page):
    # given a submitted mandate request of the volmacht's policyholder
    status, found = run.get("/v1/clients?policy_number=VOL9100000001", role="jsc")
    assert status == 200
    client_id = found["candidates"][0]["client_id"]
    status, mandate = run.post("/v1/mandates", mandate_request(client_id), role="portal")
    assert status == 201, mandate

    # when the partner opens the client's mandates by client number, approves this one and
    # goes back to the list
    sign_in(page, console_url(run), "partner", "demo-volmacht")
    page.get_by_role("button", name="Machtigingen").click()
    page.get_by_label("Machtigingsnummer of klantnummer").fill(client_id.upper())
    page.get_by_label("Machtigingsnummer of klantnummer").press("Enter")
    listed = page.get_by_role("row").filter(has_text=mandate["mandate_id"])
    expect(listed).to_contain_text("aangevraagd")
    listed.get_by_role("button", name="Openen").click()
    page.get_by_role("button", name="Goedkeuren").click()
    expect(page.get_by_role("status")).to_contain_text("Goedgekeurd")
    page.keyboard.press("Escape")

    # then the list shows it approved, as the register has it
    expect(listed).to_contain_text("goedgekeurd")

    # when a mandate number the register does not know is looked up next
    page.get_by_label("Machtigingsnummer of klantnummer").fill("m_" + "0" * 24)
    page.get_by_label("Machtigingsnummer of klantnummer").press("Enter")

    # then the refusal is shown, and no list of the client looked up before
    expect(page.locator("main .error")).to_contain_text("Deze machtiging bestaat niet")
    expect(page.get_by_role("table", name="Machtigingen van deze klant")).to_have_count(0)


def in_dutch_time(moment: str) -> str:
    """An API time (UTC, `Z` or `+00:00`) as the Dutch clock shows it: dd-mm-yyyy hh:mm."""
    parsed = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return f"{parsed.astimezone(ZoneInfo('Europe/Amsterdam')):%d-%m-%Y %H:%M}"


def fact(page: Page, term: str) -> str:
    return (
        page.locator("dl.facts dt", has_text=term)
        .locator("xpath=following-sibling::dd[1]")
        .inner_text()
    )


def test_times_are_shown_as_the_dutch_clock_gives_them_like_the_activation_email(
    run: LocalRun, page: Page
):
    # given an approved mandate request, and the volmacht's newest delivery
    status, found = run.get("/v1/clients?policy_number=VOL9100000001", role="jsc")
    assert status == 200
    status, mandate = run.post(
        "/v1/mandates", mandate_request(found["candidates"][0]["client_id"]), role="portal"
    )
    assert status == 201, mandate
    status, approved = run.post(f"/v1/mandates/{mandate['mandate_id']}/approve", {}, role="admin")
    assert status == 200, approved
    status, listing = run.get("/v1/deliveries?partner_id=demo-volmacht&limit=1")
    assert status == 200
    newest = listing["deliveries"][0]

    # when the partner opens the mandate
    sign_in(page, console_url(run), "partner", "demo-volmacht")
    page.get_by_role("button", name="Machtigingen").click()
    page.get_by_label("Machtigingsnummer of klantnummer").fill(mandate["mandate_id"])
    page.get_by_label("Machtigingsnummer of klantnummer").press("Enter")
    expect(page.locator("dl.facts")).to_contain_text("goedgekeurd")

    # then the link's expiry is the Dutch time the grantee's e-mail gives, and so is the
    # time it was submitted
    assert fact(page, "Link geldig tot") == in_dutch_time(approved["activation_expires_at"])
    assert fact(page, "Aangevraagd").startswith(in_dutch_time(approved["submitted_at"]))

    # and a delivery's report gives the Dutch time it was received
    page.get_by_role("button", name="Leveringen").click()
    page.get_by_role("row").filter(has_text=in_dutch_time(newest["received_at"])).first.get_by_role(
        "button", name="Rapport"
    ).click()
    assert fact(page, "Ontvangen") == in_dutch_time(newest["received_at"])


def mandate_request(client_id: str) -> dict:
    """The portal's form: someone else may see the volmacht's policy of the caller."""
    today = date.today().isoformat()
    return {
        "client_id": client_id,
        "grantee_kind": "someone_else",
        "language": "nl",
        "requester": {
            "surname": "El Amrani",
            "first_name": "Tim",
            "birth_date": CALLER.birth_date,
            "address": {"house_number": CALLER.house_number, "postcode": CALLER.postcode},
        },
        "request_date": today,
        "grantee": {
            "surname": "Jansen",
            "first_name": "Sara",
            "birth_date": "1990-01-01",
            "address": {"house_number": "5", "postcode": "3511AB"},
            "email": "sara@example.nl",
        },
        "contracts": [{"partner_id": "demo-volmacht", "policy_number": "VOL9100000001"}],
        "signature": {"method": "eid", "signed_on": today, "form_reference": "FORM-1"},
    }


# How far the page scrolls sideways, and the elements reaching past its right edge, but for
# those in a box of their own that scrolls sideways: [0] when nothing needs sideways scrolling.
NO_SIDEWAYS_SCROLL = """() => {
    const width = document.documentElement.clientWidth;
    const wide = [...document.querySelectorAll("body *")]
        .filter((element) => !element.closest(".scroll"))
        .filter((element) => element.getBoundingClientRect().right > width + 0.5)
        .map((element) => `${element.tagName}.${element.className}`);
    return [document.documentElement.scrollWidth - width, ...wide];
}"""
LONG_FILE_NAME = "portefeuille_export_volmacht_20261201_volledig_incl_gezinsleden_FINAL.csv"


def test_a_report_of_a_file_with_a_long_name_needs_no_sideways_scrolling_at_200_percent(
    run: LocalRun, browser: Browser
):
    # given a check delivery of the volmacht under a long file name without spaces
    rows = generate_rows(
        2, seed=DEMO_SEED, partner_id="demo-volmacht", first_policy=8000, processing_code="0"
    )
    upload(run, "demo-volmacht", "check", LONG_FILE_NAME, list(rows))

    # when the partner opens its report at 200 % zoom on a 1280x720 screen
    context = browser.new_context(viewport={"width": 640, "height": 360}, device_scale_factor=2)
    page = context.new_page()
    try:
        sign_in(page, console_url(run), "partner", "demo-volmacht")
        page.get_by_role("button", name=f"Rapport {LONG_FILE_NAME}").first.click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(LONG_FILE_NAME)

        # then the page fits the width: the name breaks instead
        assert page.evaluate(NO_SIDEWAYS_SCROLL) == [0]
        # and the kind of delivery is said in words
        expect(page.locator("dl.facts")).to_contain_text("controlebestand (niets opgeslagen)")
    finally:
        context.close()


def open_coverage_check(page: Page, run: LocalRun) -> None:
    """The JSC's coverage form of the volmacht's policy of the caller."""
    sign_in(page, console_url(run), "jsc")
    search(page, "VOL9100000001")
    expect(page.locator(".candidate").first).to_be_visible()
    page.get_by_label("Zoek een klant").press("Enter")
    page.get_by_role("table", name="Polissen per partner").get_by_role("row").filter(
        has_text="VOL9100000001"
    ).get_by_role("button", name="Dekking controleren").click()


def test_a_refused_coverage_check_names_the_field_and_leaves_no_earlier_decision(
    run: LocalRun, page: Page
):
    # given a decision on screen for an event before the policy started
    open_coverage_check(page, run)
    page.get_by_label("Datum gebeurtenis").fill("2000-01-01")
    page.get_by_role("button", name="Dekking beoordelen").click()
    expect(page.locator(".decision")).to_contain_text("Niet gedekt")

    # when the event date is corrected but the reported date put before it
    page.get_by_label("Datum gebeurtenis").fill((date.today() - timedelta(days=10)).isoformat())
    page.get_by_label("Datum melding").fill((date.today() - timedelta(days=20)).isoformat())
    page.get_by_role("button", name="Dekking beoordelen").click()

    # then the error names the field as the form labels it, and no decision is on screen
    expect(page.locator("main .error")).to_contain_text("(Datum melding)")
    expect(page.locator(".decision")).to_have_count(0)

    # when an amount beyond what the API takes is checked, the field is named in words too
    page.get_by_label("Datum melding").fill(date.today().isoformat())
    page.get_by_label("Bedrag van het geschil (euro, optioneel)").fill("99999999999999999999")
    page.get_by_role("button", name="Dekking beoordelen").click()
    expect(page.locator("main .error")).to_contain_text("(Bedrag van het geschil)")


def test_a_search_that_finds_nobody_says_what_to_try_in_the_pages_language(
    run: LocalRun, page: Page
):
    # given the console in Dutch, signed in as the legal service centre
    sign_in(page, console_url(run), "jsc")

    # when an address nobody lives at is searched
    search(page, "9999ZZ 999")

    # then what to try next is said in Dutch, and in English on the toggle
    status = page.locator("main [role=status]")
    expect(status).to_contain_text("Niemand gevonden op postcode + huisnummer; probeer")
    page.get_by_role("button", name="English").click()
    expect(status).to_contain_text("Nobody found by postcode + house number; try")


def test_how_a_candidate_matched_names_every_field_in_words(run: LocalRun, page: Page):
    # when the caller gives name, birth date, address and policy number at once
    sign_in(page, console_url(run), "jsc")
    search(page, f"Tim el Amrani {CALLER.birth_date} {CALLER.postcode} {CALLER.house_number}")
    explain = page.locator(".candidate").filter(has_text="Tim el Amrani").first.locator(".explain")

    # then each field of the explanation is a word, none the API's name
    expect(explain).to_contain_text("Naam: exact gelijk")
    expect(explain).to_contain_text("Voornaam of voorletters:")
    assert "_" not in explain.inner_text()


def test_an_admin_filtering_deliveries_reads_whose_they_are_and_is_told_of_an_unknown_partner(
    run: LocalRun, page: Page
):
    # given the administrator's deliveries
    sign_in(page, console_url(run), "admin")
    page.get_by_role("button", name="Leveringen", exact=True).click()
    partner = page.get_by_label("Partner (leeg: alle)")

    # when filtered by the volmacht, then the table says it is the volmacht's
    partner.fill("demo-volmacht")
    page.get_by_role("button", name="Vernieuwen").click()
    expect(page.locator("main caption").first).to_have_text("Leveringen van demo-volmacht")

    # when filtered by a mistyped partner id, then the page says it is no partner
    partner.fill("demo-volmacth")
    page.get_by_role("button", name="Vernieuwen").click()
    expect(page.locator("main .error")).to_contain_text(
        "demo-volmacth is geen partner van deze omgeving"
    )


def test_at_200_percent_zoom_on_1280_by_720_nothing_needs_sideways_scrolling_and_focus_shows(
    run: LocalRun, browser: Browser
):
    # given a 1280x720 screen at 200 % zoom: 640x360 CSS pixels, two device pixels each
    context = browser.new_context(viewport={"width": 640, "height": 360}, device_scale_factor=2)
    page = context.new_page()
    try:
        sign_in(page, console_url(run), "jsc")
        search(page, f"{CALLER.postcode} {CALLER.house_number}")
        expect(page.locator(".candidate").first).to_be_visible()
        # then the search and its candidates fit the width
        assert page.evaluate(NO_SIDEWAYS_SCROLL) == [0]

        # and the dossier too (its wide tables scroll inside their own box)
        page.get_by_label("Zoek een klant").press("Enter")
        expect(page.get_by_role("heading", level=1)).to_have_text("Tim el Amrani")
        assert page.evaluate(NO_SIDEWAYS_SCROLL) == [0]
        # and a wide table's box is a named region the keyboard can reach and scroll
        policies = page.get_by_role("region", name="Polissen per partner")
        expect(policies).to_have_attribute("tabindex", "0")
        assert policies.evaluate("(box) => box.scrollWidth > box.clientWidth")

        # and a control reached with Tab shows a focus ring
        page.keyboard.press("Tab")
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline not in ("", "none")
    finally:
        context.close()


HOSTED = "https://polisregister-prod-123456789012.auth.eu-west-1.amazoncognito.com"


def _unsigned_id_token(claims: dict[str, object]) -> str:
    """A token of the shape Cognito returns; the console reads its claims, the API (not called
    here) would verify its signature."""
    import base64

    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256', 'kid': 'k'})}.{part(claims)}.c2lnbmF0dXJl"


def test_on_a_cognito_stage_the_console_signs_in_with_code_and_pkce_and_keeps_the_token_in_memory(
    run: LocalRun, page: Page
):
    import base64
    import hashlib
    from urllib.parse import parse_qs, urlsplit

    from chalicelib.config import Settings
    from chalicelib.handlers.console import content_security_policy, sign_in_config

    # given the console as a deployed stage serves it: the Cognito configuration and policy
    url = console_url(run)
    stage = Settings.model_validate(
        {
            "stage": "prod",
            "jwt_secret": None,
            "cognito_jwks_url": f"{HOSTED}/jwks.json",
            "client_id_key": "k" * 40,
            "jwt_audience": "app-client",
            "partners": (),
            "cognito_domain": HOSTED,
            "console_url": "https://console.example/api/console",
        }
    )
    config = {**sign_in_config(stage), "redirect_uri": url}  # back to this page in the test

    def as_deployed(route: Route) -> None:
        response = route.fetch()
        headers = {**response.headers, "content-security-policy": content_security_policy(stage)}
        route.fulfill(response=response, headers=headers)

    page.route(url, as_deployed)
    page.route(f"{url}?*", as_deployed)
    page.route("**/console/config.json", lambda route: route.fulfill(json=config))
    authorize: list[str] = []

    def hosted_sign_in(route: Route) -> None:
        authorize.append(route.request.url)
        route.fulfill(body="<p>hosted sign-in</p>", content_type="text/html")

    page.route(f"{HOSTED}/oauth2/authorize?*", hosted_sign_in)
    exchanged: list[dict[str, list[str]]] = []
    id_token = _unsigned_id_token(
        {"sub": "u-1", "email": "j.jansen@example.nl", "cognito:groups": ["jsc"], "exp": 4102444800}
    )

    def token_endpoint(route: Route) -> None:
        exchanged.append(parse_qs(route.request.post_data or ""))
        route.fulfill(
            json={"id_token": id_token, "access_token": "a", "expires_in": 3600},
            headers={"Access-Control-Allow-Origin": "*"},
        )

    page.route(f"{HOSTED}/oauth2/token", token_endpoint)

    # when the employee presses "Aanmelden"
    page.goto(url)
    page.get_by_role("button", name="Aanmelden").click()

    # then the browser goes to the hosted sign-in for the code flow with an S256 challenge
    page.wait_for_url(f"{HOSTED}/**")
    query = parse_qs(urlsplit(authorize[0]).query)
    assert query["response_type"] == ["code"]
    assert query["client_id"] == ["app-client"]
    assert query["redirect_uri"] == [url]
    assert query["code_challenge_method"] == ["S256"]
    state = query["state"][0]

    # when the hosted sign-in sends the browser back with a code
    page.goto(f"{url}?code=the-code&state={state}")

    # then the console exchanged the code with the verifier that matches the challenge
    expect(page.get_by_label("Zoek een klant")).to_be_focused()
    [form] = exchanged
    assert form["grant_type"] == ["authorization_code"]
    assert form["code"] == ["the-code"]
    verifier = form["code_verifier"][0]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    assert query["code_challenge"] == [challenge.rstrip(b"=").decode()]
    # and the code left the address, and no token or verifier is stored in the browser
    assert page.url == url
    stored = page.evaluate(
        "JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage),"
        " document.cookie])"
    )
    assert stored == '[[],[],""]'
    expect(page.locator("#session .who")).to_have_text("Juridisch servicecentrum")

    # when the employee signs out, the hosted sign-in's session ends too
    page.route(f"{HOSTED}/logout?*", lambda route: route.fulfill(body="signed out"))
    page.get_by_role("button", name="Afmelden").click()
    page.wait_for_url(f"{HOSTED}/logout?*")
    logout = parse_qs(urlsplit(page.url).query)
    assert logout == {"client_id": ["app-client"], "logout_uri": [url]}


def test_a_sign_in_answer_whose_state_does_not_match_is_refused(run: LocalRun, page: Page):
    # given a Cognito stage, and an answer that this browser did not ask for (no saved state)
    config = {
        "sign_in": "cognito",
        "authorize_url": f"{HOSTED}/oauth2/authorize",
        "token_url": f"{HOSTED}/oauth2/token",
        "logout_url": f"{HOSTED}/logout",
        "client_id": "app-client",
        "redirect_uri": console_url(run),
        "scope": "openid email",
    }
    page.route("**/console/config.json", lambda route: route.fulfill(json=config))
    exchanged: list[str] = []
    page.route(f"{HOSTED}/**", lambda route: exchanged.append(route.request.url))

    # when the page is opened with a code and a foreign state
    page.goto(f"{console_url(run)}?code=stolen&state=forged")

    # then no code is exchanged, the address is clean, and the sign-in says it failed
    expect(page.get_by_role("alert").filter(has_text="Aanmelden is niet gelukt")).to_be_visible()
    assert exchanged == []
    assert page.url == console_url(run)


def test_keyboard_only_arrows_choose_a_candidate_enter_opens_it_escape_goes_back_and_clears(
    run: LocalRun, page: Page
):
    # given a search that finds a household: several candidates at one address
    household = known_demo_clients()[1]
    sign_in(page, console_url(run), "jsc")
    box = page.get_by_label("Zoek een klant")
    search(page, f"{household.postcode} {household.house_number}")
    candidates = page.locator(".candidate")
    expect(candidates.nth(2)).to_be_visible()
    count = candidates.count()

    # when the arrows move the choice: down once, then up twice (round to the last)
    box.press("ArrowDown")
    expect(candidates.nth(1)).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", "candidate-1")
    box.press("ArrowUp")
    box.press("ArrowUp")
    last = candidates.nth(count - 1)
    expect(last).to_have_attribute("aria-selected", "true")
    expect(candidates.nth(0)).to_have_attribute("aria-selected", "false")
    chosen = last.locator(".name").inner_text()

    # and Enter opens the chosen one's dossier
    box.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(chosen)

    # when Escape is pressed: back to the search, the candidates and the choice still there
    page.keyboard.press("Escape")
    expect(box).to_be_focused()
    expect(last).to_have_attribute("aria-selected", "true")

    # and Escape in the box clears it and the candidates
    box.press("Escape")
    expect(box).to_have_value("")
    expect(candidates).to_have_count(0)


INTERMEDIAIR_DELIVERIES = "/v1/deliveries?partner_id=demo-intermediair&limit=200"


def test_a_partner_reads_its_deliveries_page_after_page(run: LocalRun, page: Page):
    # given a partner with more deliveries than one page of the list holds (50): daily checks
    rows = list(generate_rows(1, seed=DEMO_SEED, partner_id="demo-intermediair", bad_rows=False))
    body = io.BytesIO()
    write_csv(body, rows)
    keys = [f"incoming/demo-intermediair/check/dag-{n:02d}.csv" for n in range(51)]
    for key in keys:
        run.s3().put_object(Bucket=run.info["bucket"], Key=key, Body=body.getvalue())
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        finished = {
            d["object_key"]
            for d in every_page(run, INTERMEDIAIR_DELIVERIES, "deliveries")
            if d["status"] in FINAL
        }
        if finished >= set(keys):
            break
        time.sleep(1)
    total = len(every_page(run, INTERMEDIAIR_DELIVERIES, "deliveries"))
    assert total > 50, run.log_tail()

    # when the partner opens its deliveries
    sign_in(page, console_url(run), "partner", "demo-intermediair")

    # then the first page says there are older deliveries, and offers them
    expect(page.get_by_role("status")).to_contain_text(
        "50 leveringen, nieuwste eerst. Er zijn oudere leveringen."
    )
    pages = pages_read(page, page.get_by_role("button", name="Oudere leveringen laden"))

    # and after the last page every delivery it made is in the table, each once
    expect(page.get_by_role("status")).to_have_text(f"{total} leveringen, nieuwste eerst.")
    assert pages == -(-total // 50)
    table = page.get_by_role("table", name="Leveringen van demo-intermediair")
    expect(table.locator("tbody tr")).to_have_count(total)
    for key in (keys[0], keys[-1]):
        expect(table).to_contain_text(key.rsplit("/", 1)[-1])


def test_an_admin_sees_a_held_delivery_behind_more_than_200_newer_ones(run: LocalRun, page: Page):
    # given a held full delivery of demo-intermediair (it keeps 2 of its policies)
    rows = list(generate_rows(2, seed=DEMO_SEED, partner_id="demo-intermediair"))
    held = upload(run, "demo-intermediair", "full", "kleiner.csv", rows)
    assert held["status"] == "held_for_review", held
    # and 201 deliveries of another partner received after it (records as the ingest keeps them)
    after = datetime.fromisoformat(held["received_at"])
    table = run.dynamodb().Table(run.info["table"])
    with table.batch_writer() as batch:
        for n in range(201):
            received = (after + timedelta(minutes=n + 1)).isoformat()
            newer = DeliveryRecord(
                delivery_id=f"{n:032x}",
                partner_id="demo-verzekeraar",
                kind="mutation",
                bucket=run.info["bucket"],
                object_key=f"incoming/demo-verzekeraar/mutation/uur-{n:03d}.csv",
                received_at=received,
                seq=f"{received}#{n:04d}",
                expires_at=int(after.timestamp()) + 86_400,
                status="accepted",
            )
            batch.put_item(Item=delivery_item(newer))

    # when the admin opens the console
    sign_in(page, console_url(run), "admin")

    # then the held delivery is shown, with how many policies confirming ends
    table_shown = page.get_by_role("table", name="Aangehouden volledige leveringen")
    expect(table_shown).to_contain_text(
        f"Bevestigen beëindigt {held['policies_pending_removal']} polissen van demo-intermediair."
    )
    expect(table_shown.locator("tbody tr")).to_have_count(1)
