"""`make screenshots`: the console's main screens, taken in Chromium at 1280×720 from a local run
of its own, into docs/screenshots/ (the README shows them).

    make screenshots                  # about a minute
"""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from pathlib import Path

from playwright.sync_api import Page

from scripts.console_browser import VIEWPORT, check_coverage, chromium, search, sign_in
from scripts.console_demo import HELD_PARTNER, demo_run
from scripts.demo_data import known_demo_clients
from scripts.local_env import ROOT

OUT = ROOT / "docs" / "screenshots"
DEMO_POLICIES = 30  # demo-volmacht then has a rejected row for its report


def jsc_screens(page: Page, console_url: str, out: Path) -> list[Path]:
    caller = known_demo_clients()[0]
    sign_in(page, console_url, "jsc")
    search(page, f"{caller.surname.lower()} {caller.birth_date}")
    page.locator(".candidate").first.wait_for()
    candidates = out / "console-jsc-search.png"
    page.screenshot(path=candidates)
    page.get_by_label("Zoek een klant").press("Enter")
    check_coverage(page, "VOL9100000001", date.today() - timedelta(days=30), "fiscaal")
    page.locator(".decision").wait_for()
    coverage = out / "console-jsc-coverage.png"
    page.screenshot(path=coverage, full_page=True)
    return [candidates, coverage]


def partner_screen(page: Page, console_url: str, out: Path) -> Path:
    sign_in(page, console_url, "partner", "demo-volmacht")
    page.get_by_role("row").filter(has_text="demo-portfolio.csv").get_by_role(
        "button", name="Rapport"
    ).click()
    page.get_by_role("table", name="Fouten per regel").wait_for()
    path = out / "console-partner-report.png"
    page.screenshot(path=path, full_page=True)
    return path


def admin_screen(page: Page, console_url: str, out: Path) -> Path:
    sign_in(page, console_url, "admin")
    page.get_by_role("table", name="Aangehouden volledige leveringen").wait_for()
    page.get_by_role("button", name="Bevestigen…").click()
    page.get_by_text(f"van {HELD_PARTNER}").first.wait_for()
    path = out / "console-admin-held.png"
    page.screenshot(path=path, full_page=True)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Screenshots of the console's main screens.")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with demo_run(DEMO_POLICIES) as run, chromium() as browser:
        console_url = str(run.info["console_url"])
        written: list[Path] = []
        for take in (jsc_screens, partner_screen, admin_screen):
            context = browser.new_context(viewport=VIEWPORT, locale="nl-NL")  # type: ignore[arg-type]
            result = take(context.new_page(), console_url, args.out)
            written += result if isinstance(result, list) else [result]
            context.close()
    for path in written:
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
