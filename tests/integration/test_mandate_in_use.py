"""An active mandate lives on while it is used: the portal reading its contracts moves its
expiry to RETENTION_MONTHS from that read (written once the stored expiry lags by more than
RETENTION_REFRESH_MONTHS, not on every read); one nobody used or changed for RETENTION_MONTHS
lapses, as docs/mandates.md says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.clock import frozen
from chalicelib.store import keys
from chalicelib.store.table import Table
from tests.conftest import bearer
from tests.integration.test_mandates import activated, submitted
from tests.support.mandates import PARTNER, client_of, holder_party, mandate_body, register_items

pytestmark = pytest.mark.integration

MONTH = timedelta(days=31)


def holder_delivered_for_years() -> str:
    """The holder's policy, re-delivered by its partner all along (its expiry far ahead)."""
    anna = holder_party()
    with Table().writer() as writer:
        for item in register_items(PARTNER, "RB-1001", [anna]):
            item["expires_at"] = int((datetime.now(UTC) + 60 * MONTH).timestamp())
            writer.put(item)
    return client_of(anna)


def contracts_after(api: Any, mandate_id: str, later: timedelta) -> Any:
    moment = datetime.now(UTC) + later
    with frozen(lambda: moment):
        return api.http.get(f"/v1/mandates/{mandate_id}/contracts", headers=bearer("portal"))


def stored_expiry(mandate_id: str) -> int:
    item = Table().get(keys.mandate_pk(mandate_id), keys.MANDATE_SK, consistent=True)
    assert item is not None
    return int(item["expires_at"])


@pytest.fixture
def mandate(api: Any, aws: dict[str, str]) -> str:
    mandate_id = submitted(api, mandate_body(holder_delivered_for_years()))
    activated(api, aws, mandate_id)
    return mandate_id


def test_a_mandate_used_now_and_then_still_shows_the_contracts_years_later(api, mandate):
    # given an active mandate for all the holder's contracts, without an end date
    activated_expiry = stored_expiry(mandate)

    # when the grantee reads the contracts a month later, then 16 and 32 months after
    assert contracts_after(api, mandate, MONTH).status_code == 200
    assert stored_expiry(mandate) == activated_expiry  # not written on every read
    assert contracts_after(api, mandate, 16 * MONTH).status_code == 200
    assert stored_expiry(mandate) > activated_expiry
    later = contracts_after(api, mandate, 32 * MONTH)

    # then the contracts are still there, 32 months after the activation
    assert later.status_code == 200, later.json_body
    assert [c["policy_number"] for c in later.json_body["contracts"]] == ["RB-1001"]


def test_a_mandate_nobody_used_for_the_retention_period_lapses(api, mandate):
    # when nobody reads or changes the mandate for 25 months
    response = contracts_after(api, mandate, 25 * MONTH)

    # then it is gone, as documented: the portal requests a new one
    assert response.status_code == 404
    assert response.json_body["error"]["code"] == "mandate_not_found"
