"""The portfolio bucket's lifecycle rules (infra/template.yaml), read as data: a partner's raw
upload is not kept for the register's retention, and nothing a delivery may still need expires
before every message that can resume the delivery has."""

from __future__ import annotations

from typing import Any

import pytest

from scripts.provision import resource_properties

pytestmark = pytest.mark.unit

DAY = 24 * 3600


def rule(prefix: str) -> dict[str, Any]:
    rules = resource_properties("PortfolioBucket")["LifecycleConfiguration"]["Rules"]
    [found] = [r for r in rules if r["Prefix"] == prefix]
    return found


def longest_message_life() -> int:
    """Seconds a message that resumes a delivery may wait: on the ingest queue or its DLQ."""
    return max(
        int(resource_properties(queue)["MessageRetentionPeriod"])
        for queue in ("IngestQueue", "IngestDeadLetterQueue")
    )


def test_a_raw_upload_no_delivery_removed_is_gone_within_two_months():
    upload = rule("incoming/")
    kept = upload["ExpirationInDays"] + upload["NoncurrentVersionExpiration"]["NoncurrentDays"]
    assert kept <= 60


@pytest.mark.parametrize("prefix", ["incoming/", "work/"])
def test_what_a_delivery_reads_outlives_every_message_that_may_resume_it(prefix):
    assert rule(prefix)["ExpirationInDays"] * DAY > longest_message_life()


def test_an_upload_replaced_under_its_name_outlives_the_messages_of_its_delivery_too():
    # (a later upload under the same name makes it a non-current version at once)
    noncurrent = rule("incoming/")["NoncurrentVersionExpiration"]["NoncurrentDays"]
    assert noncurrent * DAY > longest_message_life()
