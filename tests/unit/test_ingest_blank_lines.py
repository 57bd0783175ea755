"""A file of nothing but blank or unreadable lines still lets the ingest look at its clock and
hand over: there is no policy boundary in it to hand over at, and 2 GB of newlines (a 2 MB
gzip) take longer to read than Lambda's 900 s. Before, such a file was read to its end on every
receive, killed without a checkpoint, and kept its partner's lane until the DLQ."""

from __future__ import annotations

import gzip
import json

import pytest

from chalicelib.services.reader import BLANK_RUN
from tests.support.ingest import csv_bytes, person, portfolio
from tests.support.memory import MemoryRegister

pytestmark = pytest.mark.unit

PARTNER = "demo-volmacht"


class LowAfterTheStart:
    """Plenty of time at the first look at the clock, too little at every later one, until
    `recover` is called (the follow-up invocation)."""

    def __init__(self) -> None:
        self.looks = 0
        self.low = True

    def __call__(self) -> int:
        self.looks += 1
        return 1_000 if self.low and self.looks > 1 else 900_000


def resumes(register: MemoryRegister) -> list[str]:
    return [m for m in register.queue.messages if "resume" in json.loads(m)]


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gzip"])
def test_an_invocation_out_of_time_hands_over_a_file_of_blank_lines(compressed: bool) -> None:
    # given a delivery of one row followed by 2 MB of blank lines
    data = csv_bytes(portfolio(1)) + b"\n" * 2_000_000
    name = "blank.csv.gz" if compressed else "blank.csv"
    register = MemoryRegister()
    body = register.upload(
        f"incoming/{PARTNER}/full/{name}", gzip.compress(data) if compressed else data
    )
    register.queue.messages.clear()
    clock = LowAfterTheStart()

    # when its first invocation runs out of time after it started
    register.process(body, clock)

    # then it handed over to a follow-up after reading about BLANK_RUN blank lines, not 2 MB
    assert len(resumes(register)) == 1
    assert clock.looks <= 4

    # and the follow-up ends the delivery with its one row, counted once
    clock.low = False
    register.drain(clock)
    report = register.report(PARTNER)
    assert (report["status"], report["rows_total"], report["rows_accepted"]) == (
        "accepted",
        1,
        1,
    )


def test_a_file_of_unreadable_lines_hands_over_and_counts_each_line_once() -> None:
    # given a JSON Lines delivery: one object, then many lines that are not JSON
    good = json.dumps(person("A1")).encode() + b"\n"
    data = good + b"not json\n" * 3 * BLANK_RUN
    register = MemoryRegister()
    body = register.upload(f"incoming/{PARTNER}/full/bad.jsonl", data)
    register.queue.messages.clear()
    clock = LowAfterTheStart()

    # when the first invocation runs out of time
    register.process(body, clock)
    assert len(resumes(register)) == 1

    # then the follow-up ends it with every line counted once
    clock.low = False
    register.drain(clock)
    report = register.report(PARTNER)
    assert report["rows_total"] == 1 + 3 * BLANK_RUN
    assert report["rows_rejected"] == 3 * BLANK_RUN
    assert report["error_counts"] == {"invalid_json": 3 * BLANK_RUN}


def test_a_few_blank_lines_inside_a_policy_do_not_split_it_when_time_runs_short() -> None:
    # given a policy whose partner's row follows the policyholder's after two blank lines
    holder = person("A1")
    partner = person("A1", ENTITEIT="SP", GESLACH="M", VOORL="B.", GEBDAT="19810202")
    lines = csv_bytes([holder, partner]).split(b"\r\n")
    data = b"\r\n".join([*lines[:2], b"", b"", *lines[2:]])
    register = MemoryRegister()
    body = register.upload(f"incoming/{PARTNER}/full/gap.csv", data)
    register.queue.messages.clear()

    # when the invocation is short of time from its first look on
    clock = LowAfterTheStart()
    register.process(body, clock)
    clock.low = False
    register.drain(clock)

    # then the policy is stored whole, with both parties, and nothing is refused
    report = register.report(PARTNER)
    assert (report["status"], report["rows_accepted"], report["rows_rejected"]) == (
        "accepted",
        2,
        0,
    )
