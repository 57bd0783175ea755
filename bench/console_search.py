"""`make bench-console`: from pressing Enter in the console's search box to the first candidate
on screen, over N searches (default 50) in Chromium against a local run of its own (the demo
portfolio of `make run`, 300 policies per partner).

    make bench-console                       # 50 searches, about two minutes with the start
    python -m bench.console_search --searches 20 --demo-policies 30

The clock runs in the page: it starts in a capture-phase keydown listener when Enter goes down
in the box and stops at the first animation frame after the candidates were put into the list
(so layout and paint of the first candidate are included). The request alone (Resource Timing
of `GET /v1/clients`) is reported beside it. Consecutive searches differ, so Enter always
searches (the same text again would open the dossier).
"""

from __future__ import annotations

import argparse
import json
import statistics
from typing import Any

from scripts.console_browser import VIEWPORT, chromium, sign_in
from scripts.console_demo import demo_run
from scripts.demo_data import known_demo_clients

ARM = """() => {
  const box = document.getElementById("search-box");
  const list = document.getElementById("candidates");
  const main = document.getElementById("main");
  window.__searchTiming = new Promise((resolve) => {
    let started;
    box.addEventListener("keydown", (event) => {
      if (event.key === "Enter") started = performance.now();
    }, { capture: true, once: true });
    // The answer's list and status line change together; an answer without candidates (or an
    // error) ends the wait too, counted as a miss.
    const observer = new MutationObserver(() => {
      if (started === undefined) return;
      if (!list.querySelector(".candidate")) {
        if (main.querySelector(".status").textContent || main.querySelector(".error").textContent) {
          observer.disconnect();
          resolve({ miss: true });
        }
        return;
      }
      observer.disconnect();
      requestAnimationFrame(() => {
        const ended = performance.now();
        const requests = performance.getEntriesByType("resource")
          .filter((entry) => entry.name.includes("/v1/clients?"));
        const request = requests[requests.length - 1];
        performance.clearResourceTimings();
        resolve({ screen_ms: ended - started, request_ms: request ? request.duration : null });
      });
    });
    observer.observe(main, { childList: true, subtree: true });
  });
}"""


def queries() -> list[str]:
    """What callers say, in the forms the search box takes: address, name with birth date,
    a misspelt name, policy number, phone."""
    found = []
    for client in known_demo_clients():
        found += [
            f"{client.postcode} {client.house_number}",
            f"{client.first_name} {client.surname} {client.birth_date}",
            f"{client.surname[:-2]}{client.surname[-1]}{client.surname[-2]} {client.birth_date}",
            client.mobile,
        ]
    return [*found, "VOL 9100 000001", "VER9900000002"]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(console_url: str, searches: int) -> dict[str, Any]:
    texts = queries()
    screen: list[float] = []
    request: list[float] = []
    misses = 0
    with chromium() as browser:
        page = browser.new_context(viewport=VIEWPORT).new_page()  # type: ignore[arg-type]
        sign_in(page, console_url, "jsc")
        box = page.get_by_label("Zoek een klant")
        for index in range(searches + 1):  # the first one warms up and is not counted
            box.fill(texts[index % len(texts)])
            page.evaluate(ARM)
            box.press("Enter")
            timing = page.evaluate("window.__searchTiming")
            if timing.get("miss"):
                misses += 1
            elif index:
                screen.append(float(timing["screen_ms"]))
                if timing["request_ms"] is not None:
                    request.append(float(timing["request_ms"]))
    return {
        "searches": searches,
        "without_candidates": misses,
        "enter_to_first_candidate_ms": summary(screen),
        "request_ms": summary(request),
    }


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(statistics.median(values), 1),
        "p95": round(percentile(values, 0.95), 1),
        "max": round(max(values), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--searches", type=int, default=50)
    parser.add_argument("--demo-policies", type=int, default=300)
    args = parser.parse_args(argv)
    with demo_run(args.demo_policies) as run:
        figures = measure(str(run.info["console_url"]), args.searches)
    figures["demo_policies_per_partner"] = args.demo_policies
    print(json.dumps(figures, indent=2))
    shown = figures["enter_to_first_candidate_ms"]
    print(
        f"Enter -> first candidate on screen over {args.searches} searches: "
        f"p50 {shown['p50']} ms, p95 {shown['p95']} ms (request alone: p50 "
        f"{figures['request_ms']['p50']} ms, p95 {figures['request_ms']['p95']} ms)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
