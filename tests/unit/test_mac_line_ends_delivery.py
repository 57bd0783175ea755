"""A delivery saved with old Mac line ends (a bare CR after every line, Excel for Mac's "CSV
(Macintosh)") is read like the same file with Windows line ends: it used to be one physical
line, rejected as `invalid_csv` when small and `line_too_long` when a real portfolio."""

from __future__ import annotations

import pytest

from tests.support.ingest import csv_bytes, portfolio
from tests.support.memory import MemoryRegister

pytestmark = pytest.mark.unit

PARTNER = "demo-volmacht"


@pytest.mark.parametrize("rows", [3, 1000], ids=["small", "portfolio"])
def test_a_csv_with_mac_line_ends_is_read_like_one_with_windows_line_ends(rows):
    # given a partner's export saved by Excel for Mac: every line ends with a bare CR
    data = csv_bytes(portfolio(rows))
    assert b"\r\n" in data
    mac = data.replace(b"\r\n", b"\r")
    register = MemoryRegister()

    # when it is delivered
    register.upload(f"incoming/{PARTNER}/full/mac.csv", mac)
    register.drain()

    # then its rows are read as from the same file with CRLF line ends
    report = register.report(PARTNER)
    assert (report["status"], report["rows_total"], report["rows_accepted"]) == (
        "accepted",
        rows,
        rows,
    ), report["errors"][:2]
