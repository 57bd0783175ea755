"""An export without its header row is rejected `missing_columns`, and none of its first data
row (which stands where the labels should be: a surname, an e-mail, a BSN) is kept with the
delivery's checkpoint: only labels of the contract are stored."""

from __future__ import annotations

import json

import pytest

from tests.support.ingest import HEADER, all_items, csv_bytes, drain, person, report, upload

pytestmark = pytest.mark.integration

PARTNER = "demo-volmacht"
BSN = "111222333"


def test_a_file_without_header_leaves_none_of_its_values_in_the_table(aws):
    # given an export with a BSN column whose header row is missing
    header = [*HEADER, "BSNR"]
    row = person("P1", ANAAM="Uniek-Jansen", EMAIL="kees.uniek@example.nl", BSNR=BSN)
    without_header = csv_bytes([row], header=header).split(b"\n", 1)[1]

    # when it is delivered
    upload(f"incoming/{PARTNER}/full/export.csv", without_header)
    drain(aws["ingest_queue_url"])
    assert report(PARTNER)[-1]["error_counts"] == {"missing_columns": 1}

    # then no item in the table holds any of the row's values
    stored = json.dumps(all_items(), default=str)
    assert BSN not in stored
    assert "Uniek-Jansen" not in stored
    assert "kees.uniek@example.nl" not in stored
