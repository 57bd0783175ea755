"""What the register of a local run made of the demo portfolio, checked against what the
generator made: every demo policy but the deliberately bad ones is there, every party of it
carries one client id per person across the three partners, and no two people share one.

    python -m tests.e2e.demo_register [DEMO_POLICIES]   # against `make run` (.run/local.json)
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from scripts.demo_data import (
    DEMO_PARTNERS,
    DEMO_POLICIES_PER_PARTNER,
    DEMO_SEED,
    DemoParty,
    Person,
    generate_parties,
)

# GET a path of the API as the call centre: (status, decoded body).
Get = Callable[[str], tuple[int, Any]]


@dataclass
class DemoRegister:
    policies: int = 0
    bad_policies: int = 0
    missing: list[str] = field(default_factory=list)  # good policies the register lacks
    stored_bad: list[str] = field(default_factory=list)  # bad policies it has anyway
    unmatched: list[str] = field(default_factory=list)  # parties not found on their policy
    client_ids: dict[Person, set[str]] = field(default_factory=lambda: defaultdict(set))

    @property
    def people(self) -> int:
        return len(self.client_ids)

    @property
    def split(self) -> list[Person]:
        """People with more than one client id."""
        return [p for p, ids in self.client_ids.items() if len(ids) > 1]

    @property
    def merged(self) -> dict[str, int]:
        """Client ids that more than one person carries, with how many."""
        carriers: dict[str, int] = defaultdict(int)
        for ids in self.client_ids.values():
            for client_id in ids:
                carriers[client_id] += 1
        return {c: n for c, n in carriers.items() if n > 1}


def _letters(initials: str | None) -> str:
    return "".join(c for c in (initials or "").upper() if c.isalpha())


def _same_party(party: DemoParty, stored: dict[str, Any]) -> bool:
    person = party.person
    birth_date = person.birth_date.isoformat() if person.birth_date else None
    return (
        stored.get("role") == party.row["ENTITEIT"]
        and stored.get("birth_date") == birth_date
        and _letters((stored.get("name") or {}).get("initials")) == _letters(person.initials)
    )


def check_demo_register(get: Get, demo_policies: int) -> DemoRegister:
    """Read every generated demo policy through the API and note the client id of each party."""
    found = DemoRegister()
    for partner in DEMO_PARTNERS:
        by_policy: dict[str, list[DemoParty]] = defaultdict(list)
        for party in generate_parties(
            demo_policies, seed=DEMO_SEED, partner_id=partner, bad_rows=True
        ):
            by_policy[party.row["PP_NUMMER"]].append(party)
        for number, parties in by_policy.items():
            found.policies += 1
            bad = any(p.bad for p in parties)
            found.bad_policies += bad
            status, body = get(f"/v1/policies/{partner}/{quote(number, safe='')}")
            if bad:
                if status != 404:
                    found.stored_bad.append(f"{partner}/{number}")
                continue
            if status != 200:
                found.missing.append(f"{partner}/{number} ({status})")
                continue
            stored = body["parties"]
            for party in parties:
                matches = [s for s in stored if _same_party(party, s)]
                if len({m["client_id"] for m in matches}) != 1:
                    found.unmatched.append(f"{partner}/{number} {party.row['ENTITEIT']}")
                    continue
                found.client_ids[party.person].add(matches[0]["client_id"])
    return found


def main(argv: list[str]) -> int:
    import json
    import urllib.error
    import urllib.request

    from scripts.local_env import read_run_info
    from scripts.token import local_token

    demo_policies = int(argv[0]) if argv else DEMO_POLICIES_PER_PARTNER
    api = read_run_info()["api_url"]
    headers = {"Authorization": f"Bearer {local_token('jsc')}"}

    def get(path: str) -> tuple[int, Any]:
        request = urllib.request.Request(api + path, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, None

    found = check_demo_register(get, demo_policies)
    print(
        f"{found.policies} demo policies ({found.bad_policies} bad on purpose), "
        f"{found.people} people; missing {len(found.missing)}, bad ones stored "
        f"{len(found.stored_bad)}, parties not matched {len(found.unmatched)}, people with more "
        f"than one client id {len(found.split)}, client ids shared by people {len(found.merged)}"
    )
    for line in (*found.missing, *found.stored_bad, *found.unmatched):
        print(" ", line)
    return 0 if not (found.missing or found.stored_bad or found.split or found.merged) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
