"""Creating a folder in the S3 console (or `mkdir` in an SFTP or S3 client) puts a zero-byte
object whose key ends in `/` under the partner's prefix, and the bucket notifies it like an
upload. It names no file: no delivery is recorded, reported or e-mailed about."""

from __future__ import annotations

import pytest

from chalicelib.config import reset_settings
from tests.support.ingest import csv_bytes, person
from tests.support.memory import MemoryRegister

pytestmark = pytest.mark.unit

PARTNER = "demo-volmacht"


@pytest.mark.parametrize(
    "key", [f"incoming/{PARTNER}/full/", f"incoming/{PARTNER}/", "incoming/", "incoming/x/y/z/"]
)
def test_a_folder_created_in_the_bucket_is_no_delivery(monkeypatch: pytest.MonkeyPatch, key: str):
    # given a partner with a contact address, who creates a folder (a key ending in /)
    monkeypatch.setenv("PARTNER_CONTACTS", f"{PARTNER}=data@example.nl")
    reset_settings()
    register = MemoryRegister()
    register.upload(key, b"")

    # when its notification is processed
    register.drain()

    # then nothing is recorded, reported or e-mailed
    assert register.deliveries.records == {}
    assert register.reports(PARTNER) == []
    assert register.mail_queue.messages == []


def test_a_file_in_the_folder_is_a_delivery_as_before():
    # given a folder created, then a file uploaded into it
    register = MemoryRegister()
    register.upload(f"incoming/{PARTNER}/full/", b"")
    register.upload(f"incoming/{PARTNER}/full/export.csv", csv_bytes([person("P1")]))

    # when the notifications are processed
    register.drain()

    # then the file is the one delivery
    (report,) = register.reports(PARTNER)
    assert report["status"] == "accepted"
