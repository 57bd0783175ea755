"""A check-only delivery reports exactly what the real delivery of the same file reports (issue
13: "validated and scored exactly like a real delivery"), for randomly spoiled demo exports,
also when the check hands over mid-file. The errors are compared as a set in line order: a real
delivery finds a split policy when it writes its batch, a check when the policy's rows end."""

from __future__ import annotations

import io
import random
from typing import Any

import pytest

from chalicelib.config import reset_settings
from scripts.demo_data import generate_rows, write_csv
from tests.support.memory import MemoryRegister
from tests.unit.test_ingest_scenarios import TimeRunsLow

pytestmark = pytest.mark.unit

PARTNER = "demo-volmacht"

SPOILERS = [
    ("GEBDAT", ["", "31022001", "2999-01-01", "1-1-1980", "19800101x"]),
    ("PCODE", ["", "12345", "1234 ab", "0000AA", "x"]),
    ("HUISNR", ["", "0", "abc", "12-14", "1a"]),
    ("EMAIL", ["", "no-at", "a@b", "x@example.nl", "ÿ@é.nl"]),
    ("MOBIEL", ["", "12", "+3161234567890", "06 1234 5678", "0612345678"]),
    ("TELNUM", ["", "020-1234567", "1", "+32 2 123 45 67"]),
    ("ANAAM", ["", "-", "O'Brien", "van", "Ünal"]),
    ("VOORL", ["", "A.B.C.D.E.F.", "1"]),
    ("RNAAM", ["", "Jean-Pierre", "Ö"]),
    ("KVKNR", ["", "1234567", "12345678", "abcdefgh"]),
    ("ENTITEIT", ["", "XX", "SP", "KN", "VP"]),
    ("GESLACH", ["", "X", "R", "m", "v"]),
    ("PP_DEKKING", ["", "ZZ", "RP|ZZ", "rp"]),
    ("PP_INGDAT", ["", "20990101", "bad"]),
    ("PP_EXPDAT", ["", "20000101", "99991231", "bad"]),
    ("PP_GEZIN", ["", "X", "1"]),
    ("PP_BRANCHE", ["", "999"]),
]


def spoiled_export(seed: int, policies: int = 90) -> bytes:
    rng = random.Random(seed)
    rows = [dict(r) for r in generate_rows(policies, seed=seed, partner_id=PARTNER, bad_rows=True)]
    for row in rows:
        if rng.random() < 0.35:
            column, values = rng.choice(SPOILERS)
            if column in row:
                row[column] = rng.choice(values)
    # a few policies whose rows come again later (split), and exact duplicates
    for _ in range(3):
        rows.append(dict(rng.choice(rows)))
    for _ in range(2):
        i = rng.randrange(len(rows))
        rows.insert(i, dict(rows[i]))
    out = io.BytesIO()
    write_csv(out, rows)
    return out.getvalue()


def comparable(report: dict[str, Any]) -> dict[str, Any]:
    volatile = {"delivery_id", "object_key", "kind", "received_at", "finished_at"}
    kept = {k: v for k, v in report.items() if k not in volatile | {"policies_written", "warnings"}}
    kept["errors"] = sorted(
        report["errors"], key=lambda e: (e["line"], e.get("column") or "", e["code"])
    )
    return kept


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INGEST_BATCH_ROWS", "25")
    reset_settings()


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("hand_over", [False, True], ids=["whole", "handed-over"])
def test_a_check_reports_what_the_real_delivery_of_a_spoiled_export_reports(
    small_batches, seed, hand_over
):
    # given a spoiled export, checked by one register and delivered to another
    data = spoiled_export(seed)
    checked, delivered = MemoryRegister(), MemoryRegister()
    checked.upload(f"incoming/{PARTNER}/check/export.csv", data)
    delivered.upload(f"incoming/{PARTNER}/full/export.csv", data)

    # when both are read (the check handing over every second batch in one variant)
    checked.drain(TimeRunsLow(every=2)) if hand_over else checked.drain()
    delivered.drain()

    # then the check's report says what the real delivery's says
    check, real = checked.report(PARTNER), delivered.report(PARTNER)
    assert check["kind"] == "check"
    assert comparable(check) == comparable(real)
