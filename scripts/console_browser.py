"""Driving the web console in the system's Chromium (Debian's `chromium` package) through
Playwright: shared by the browser tests, `make screenshots` and `make bench-console`.

Playwright's own browsers download themselves at install time, which does not work here; it
drives the installed Chromium through `executable_path` instead. The flags keep Chromium from
calling out (updates, sync, field trials): everything it loads comes from the local run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
VIEWPORT = {"width": 1280, "height": 720}


class ChromiumMissing(RuntimeError):
    """No Chromium to drive; the message says how to install it."""


def chromium_path() -> str:
    """`$CHROMIUM`, else `chromium` on the PATH (Debian: `apt-get install chromium`)."""
    found = (
        os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if not found:
        raise ChromiumMissing("no Chromium found: `apt-get install chromium`, or set CHROMIUM")
    return found


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), args=list(CHROMIUM_ARGS)
        )
        try:
            yield browser
        finally:
            browser.close()


def sign_in(page: Page, console_url: str, role: str, partner_id: str | None = None) -> None:
    """Open the console and use its development sign-in (local stage) as `role`."""
    page.goto(console_url)
    page.get_by_label("Rol").select_option(role)
    if partner_id:
        page.get_by_label("Partner").select_option(partner_id)
    page.get_by_role("button", name="Aanmelden").click()
    page.locator("#session .who").wait_for()


def search(page: Page, text: str) -> None:
    """Type what the caller says into the JSC's search box and press Enter."""
    box = page.get_by_label("Zoek een klant")
    box.fill(text)
    box.press("Enter")


def check_coverage(
    page: Page, policy_number: str, event_date: date, legal_area: str, amount: str = ""
) -> None:
    """From the open dossier: a coverage check on `policy_number`, reported today."""
    page.get_by_role("table", name="Polissen per partner").get_by_role("row").filter(
        has_text=policy_number
    ).get_by_role("button", name="Dekking controleren").click()
    page.get_by_label("Datum gebeurtenis").fill(event_date.isoformat())
    page.get_by_label("Rechtsgebied").select_option(legal_area)
    if amount:
        page.get_by_label("Bedrag van het geschil (euro, optioneel)").fill(amount)
    page.get_by_role("button", name="Dekking beoordelen").click()
