"""What a policy costs to write: the policy item stays under 1 KB (1 write unit, 1 more in the
ACTIVE index), and a policy item reads back as the previous layout stored it."""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer

from bench.backend import write_units
from bench.data import TODAY, by_policy
from chalicelib.models.portfolio import ValidRow
from chalicelib.rules.rows import map_header, validate_row
from chalicelib.store.register_items import (
    POLICY_TRACES,
    content_hash,
    lookup_entries,
    policy_items,
    stored_policy,
)
from scripts.demo_data import generate_rows
from tests.support.ingest import csv_bytes, person
from tests.support.memory import MemoryRegister

pytestmark = pytest.mark.unit

PARTNER = "demo-volmacht"
SEQ = "20261201T000000.000000#00000000000000000000000000000007"
EARLIER = "20260601T000000.000000#00000000000000000000000000000003"


def units(item: dict[str, Any]) -> int:
    serialise = TypeSerializer().serialize
    return write_units({name: serialise(value) for name, value in item.items()})


def trace(client_id: str, **extra: Any) -> dict[str, Any]:
    """A trace as rules/identity.py's Trace.as_item stores it."""
    return {
        "id": client_id,
        "le": False,
        "sn": "Boer",
        "fn": "chantal",
        "in": "c",
        "bd": "1972-04-09",
        "pc": "2026GG",
        "hn": "135",
        "pt": PARTNER,
        "since": SEQ,
        "exp": 1_859_343_868,
        **extra,
    }


def test_policy_items_of_up_to_four_parties_cost_one_unit_and_one_in_the_index():
    # given a generated portfolio with households of one to five parties, ingested for real
    register = MemoryRegister()
    rows = list(itertools.islice(generate_rows(600, seed=11, partner_id=PARTNER), 600))
    register.upload(f"incoming/{PARTNER}/full/first.csv", csv_bytes(rows, header=list(rows[0])))
    register.drain()

    # when the stored policy items are sized as DynamoDB sizes them
    policies = [i for i in register.portfolio.items.values() if i["type"] == "policy"]
    parties = Counter(len(p[POLICY_TRACES]) for p in policies)

    # then up to four parties each costs 1 write unit + 1 in the ACTIVE index, and so do
    # nearly all of five (their names and contacts are long or short)
    assert set(parties) >= {1, 2, 3, 4, 5}
    assert {units(p) for p in policies if len(p[POLICY_TRACES]) <= 4} == {2}
    assert sum(units(p) == 2 for p in policies) >= 0.99 * len(policies)


def test_a_policy_item_reads_back_with_everything_the_previous_layout_stored():
    # given the items of a policy delivered before (first seen earlier) with its traces
    traces = [trace("c_1"), trace("c_2", since=EARLIER, le=True)]
    items = items_of_one_policy(first_seen_seq=EARLIER, party_traces=traces)

    # when the policy item is stored and read back
    stored, read = items[0], stored_policy(items[0])

    # then the stored form leaves out what it repeats, and the read form has it all again
    assert "seen_seq" not in stored
    assert stored[POLICY_TRACES][0] == {
        k: v for k, v in traces[0].items() if k not in ("le", "pt", "since", "exp")
    }
    assert read["seen_seq"] == SEQ
    assert read["first_seen_seq"] == EARLIER
    assert read[POLICY_TRACES] == traces


def test_a_new_policy_item_leaves_out_its_first_seen_seq_and_reads_it_as_its_data_seq():
    items = items_of_one_policy()
    assert "first_seen_seq" not in items[0]
    assert stored_policy(items[0])["first_seen_seq"] == SEQ


def test_a_policy_item_of_the_previous_layout_reads_as_it_was_stored():
    # given a policy item as the previous layout stored it (seen later than written)
    previous = {
        "pk": f"POLICY#{PARTNER}#P1",
        "sk": "POLICY",
        "type": "policy",
        "partner_id": PARTNER,
        "data_seq": EARLIER,
        "seen_seq": SEQ,
        "first_seen_seq": EARLIER,
        "expires_at": 1_800_000_000,
        POLICY_TRACES: [trace("c_1", pt="other", since=EARLIER, exp=1_700_000_000)],
    }

    # then reading it changes nothing
    assert stored_policy(previous) == previous


def items_of_one_policy(**kwargs: Any) -> list[dict[str, Any]]:
    """The items of a one-person policy delivered with `seq` SEQ."""
    raw = person("P1")
    row = validate_row(
        list(raw.values()), map_header(list(raw), "full"), kind="full", line=2, today=TODAY
    ).row
    assert row is not None
    return items_of([row], **kwargs)


def items_of(rows: list[ValidRow], **kwargs: Any) -> list[dict[str, Any]]:
    """The items of the policy of `rows` delivered with `seq` SEQ."""
    return policy_items(
        PARTNER,
        rows,
        seq=SEQ,
        delivery_id="d1",
        delivered_at="2026-12-01T00:00:00+00:00",
        expires_at=1_859_343_868,
        client_id_key="k" * 20,
        **kwargs,
    )


def generated_policies(rows: int) -> list[list[ValidRow]]:
    raw = list(itertools.islice(generate_rows(rows, seed=11, partner_id=PARTNER), rows))
    header = map_header(list(raw[0]), "full")
    valid = [
        validate_row(list(r.values()), header, kind="full", line=n, today=TODAY).row
        for n, r in enumerate(raw, start=2)
    ]
    return list(by_policy(row for row in valid if row is not None))


def written_and_as_read(rows: list[ValidRow]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A policy's lookup items as written, and as read back one per party, by partition."""
    items = items_of(rows)
    lookups = [i for i in items if i["type"] == "lookup"]
    return lookups, list(lookup_entries(lookups))


def test_a_household_sharing_an_address_writes_one_lookup_item_that_reads_as_one_per_party():
    # given generated households, each policy's parties at one address
    households = [rows for rows in generated_policies(400) if len(rows) >= 3]
    assert households

    for rows in households:
        # when its lookup items are built and read back
        written, read = written_and_as_read(rows)

        # then the address and the policy number are one item each for the whole household
        assert sum(i["pk"].startswith("LOOKUP#ADDR#") for i in written) == 1
        assert sum(i["pk"].startswith("LOOKUP#POLICY#") for i in written) == 1
        # and read back they are one entry per party, as the party's own item would read
        per_party = [i for i in read if i["pk"].startswith(("LOOKUP#ADDR#", "LOOKUP#POLICY#"))]
        assert len(per_party) == 2 * len(rows)
        assert {i["client_id"] for i in per_party} == {
            i["client_id"] for i in read if i["pk"].startswith("LOOKUP#DOB#")
        }


def test_grouped_lookup_items_read_back_exactly_as_one_item_per_party_would_have_been_stored():
    # given every policy of a generated portfolio, built as before grouping (one item per party
    # and partition) by reading the grouped items back
    for rows in generated_policies(300):
        written, read = written_and_as_read(rows)
        # then what is read holds exactly the per-party items: same keys, same attributes
        assert len({(i["pk"], i["sk"]) for i in read}) == len(read)
        assert all(i["sk"].startswith("c_") for i in read)
        # and a party alone in its partition is written as its own item, unchanged
        alone = [i for i in written if "parties" not in i]
        assert all(i in read for i in alone)
        # and the content hash is the one of the per-party items (no rewrite for the layout)
        policy = items_of(rows)
        parties = [i for i in policy if i["type"] == "party"]
        assert policy[0]["content_hash"] == content_hash([policy[0], *parties, *read])
