"""The policy view (GET /v1/policies/{partner_id}/{policy_number}) shows each party under the
client id that survives a join, as the dossier and the search do, also while the party's own
partner has not delivered it again since the join."""

from __future__ import annotations

import pytest

from tests.integration.ddb_calls import DynamoCalls, ddb_calls_fixture  # noqa: F401
from tests.integration.test_identity_resolution import (
    VERZEKERAAR,
    get,
    policy_party_ids,
    split_then_joined_by_a_third_partner,
)

pytestmark = pytest.mark.integration


def test_given_two_ids_joined_by_a_third_partner_then_the_policy_shows_the_surviving_id(
    api, aws, ddb_calls: DynamoCalls
):
    # given one person split over two ids by two partners, joined by a third partner's delivery
    # (the second partner's party item still carries the old id)
    first, second = split_then_joined_by_a_third_partner(api, aws)
    dossier, _ = get(api, f"/v1/clients/{second}")
    assert dossier["client_id"] == first

    # when the second partner's policy is read
    ddb_calls.reset()
    shown = policy_party_ids(api, VERZEKERAAR, "V-1")

    # then its policyholder is shown under the surviving id, in one batch read more
    assert shown == [first]
    assert ddb_calls.reads() == ["Query", "BatchGetItem"]
