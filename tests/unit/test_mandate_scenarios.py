"""The mandate service on in-memory stores, with the clock set instead of waited for: submit
under the rules table, the guarded life cycle (409 on a state that does not allow the change),
activation tokens (once, not expired, not superseded) and the contracts an active mandate sees.
(tests/integration/test_mandates.py runs the API on moto: routes, roles, the stored items and
racing writes.)"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from unittest.mock import ANY

import pytest
from pydantic import ValidationError

from chalicelib import clock
from chalicelib.auth import Principal
from chalicelib.config import get_settings
from chalicelib.errors import Conflict, Forbidden, NotFound, StoreError, Unprocessable
from chalicelib.models.mandates import (
    Activation,
    ActivationRequest,
    Mandate,
    MandateContracts,
    MandateQuery,
    MandateRequest,
    StateChangeRequest,
)
from chalicelib.models.portfolio import PartyFields
from chalicelib.rules.mandates import hash_token
from chalicelib.services import mandates as service
from tests.support.mandates import (
    OTHER_PARTNER,
    PARTNER,
    client_of,
    holder_party,
    mandate_body,
    register_items,
)
from tests.support.memory import (
    FakeClock,
    MemoryAudit,
    MemoryMandates,
    MemoryPortfolio,
    MemoryQueue,
)

pytestmark = pytest.mark.unit

PORTAL = Principal(subject="portal-app", roles=frozenset({"portal"}))
ADMIN = Principal(subject="admin-1", roles=frozenset({"admin"}))
OWN_PARTNER = Principal(subject="staff-1", roles=frozenset({"partner"}), partner_id=PARTNER)
FOREIGN_PARTNER = Principal(
    subject="staff-2", roles=frozenset({"partner"}), partner_id=OTHER_PARTNER
)
ROUTE = "test route"


@dataclass
class Desk:
    """The mandate service wired to in-memory stores, and what a caller does with it."""

    clock: FakeClock = field(default_factory=FakeClock)
    mandates: MemoryMandates = field(default_factory=MemoryMandates)
    register: MemoryPortfolio = field(default_factory=MemoryPortfolio)
    queue: MemoryQueue = field(default_factory=MemoryQueue)
    audit: MemoryAudit = field(default_factory=MemoryAudit)

    @property
    def repos(self) -> service.MandateRepositories:
        return service.MandateRepositories(
            mandates=self.mandates, holders=self.register, activations=self.queue, audit=self.audit
        )

    def deliver(
        self, partner_id: str, number: str, parties: Sequence[PartyFields], **kw: Any
    ) -> None:
        self.register.write_policies([register_items(partner_id, number, parties, **kw)])

    def submit(self, body: dict[str, Any], by: Principal = PORTAL) -> Mandate:
        return service.submit_mandate(by, MandateRequest.model_validate(body), ROUTE, self.repos)

    def change(
        self, mandate_id: str, action: str, by: Principal = ADMIN, reason: str | None = None
    ) -> Mandate:
        body = StateChangeRequest(reason=reason)
        return service.change_mandate(by, mandate_id, action, body, ROUTE, self.repos)

    def get(self, mandate_id: str, by: Principal = ADMIN) -> Mandate:
        return service.get_mandate(by, mandate_id, ROUTE, self.repos)

    def listed(self, client_id: str, by: Principal) -> list[str]:
        query = MandateQuery(client_id=client_id)
        return [m.mandate_id for m in service.list_mandates(by, query, ROUTE, self.repos).mandates]

    def queued(self) -> list[dict[str, Any]]:
        """Take the activation messages off the queue."""
        messages = [json.loads(m) for m in self.queue.messages]
        self.queue.messages.clear()
        return messages

    def approve(self, mandate_id: str, by: Principal = OWN_PARTNER) -> str:
        """Approve; the token the activation message carries."""
        self.change(mandate_id, "approve", by)
        (message,) = self.queued()
        return str(message["token"])

    def activate(self, token: str) -> Activation:
        return service.activate(PORTAL, ActivationRequest(token=token), ROUTE, self.repos)

    def activated(self, body: dict[str, Any]) -> str:
        mandate_id = self.submit(body).mandate_id
        self.activate(self.approve(mandate_id))
        return mandate_id

    def contracts(self, mandate_id: str) -> MandateContracts:
        return service.mandate_contracts(PORTAL, mandate_id, ROUTE, self.repos)

    def numbers(self, mandate_id: str) -> list[str]:
        return [c.policy_number for c in self.contracts(mandate_id).contracts]


@pytest.fixture
def desk() -> Iterator[Desk]:
    desk = Desk()
    with clock.frozen(desk.clock):
        yield desk


@pytest.fixture
def holder(desk: Desk) -> str:
    """A policyholder with one policy at PARTNER (with an insured party); their client id."""
    anna = holder_party()
    desk.deliver(
        PARTNER, "RB-1001", [anna, holder_party("SP", first_name="Bram", birth_date="1979-05-06")]
    )
    return client_of(anna)


def days_ago(desk: Desk, days: int) -> str:
    return (clock.register_today() - timedelta(days=days)).isoformat()


# --- submit ----------------------------------------------------------------------------------


def test_a_policyholder_requests_access_to_all_contracts_and_sees_the_form_as_submitted(
    desk: Desk, holder: str
) -> None:
    body = mandate_body(holder)

    mandate = desk.submit(body)

    assert mandate.state == "submitted"
    assert (mandate.scope, mandate.form_required, mandate.contracts) == ("all", False, [])
    shown = desk.get(mandate.mandate_id).model_dump(mode="json")
    assert shown["request"]["grantee"] == {
        **body["grantee"],
        "address": {**body["grantee"]["address"], "country": "NL"},
    }
    assert shown["request"]["request_date"] == body["request_date"]


def test_a_request_that_breaks_a_rule_is_refused_with_the_rule_it_broke(
    desk: Desk, holder: str
) -> None:
    body = mandate_body(holder, "someone_else", contracts=[(PARTNER, "RB-1001")])
    del body["grantee"]["email"]
    del body["signature"]

    with pytest.raises(Unprocessable) as refused:
        desk.submit(body)

    assert refused.value.code == "grantee_email_required"
    assert {d["rule"] for d in refused.value.details} == {  # type: ignore[union-attr]
        "grantee_email_required",
        "signature_required",
    }
    assert desk.mandates.mandates == {}


@pytest.mark.parametrize(
    "first_name",
    [
        "Anna\n\nUw link is verlopen. Log opnieuw in: https://evil.example/login",
        "Anna https://evil.example/login",
        "<a href=x>Anna</a>",
    ],
)
def test_a_grantee_name_holding_lines_or_a_link_is_refused_before_any_e_mail(
    desk: Desk, holder: str, first_name: str
) -> None:
    # given a request whose grantee's first name holds lines, a link or markup
    body = mandate_body(holder, "someone_else", contracts=[(PARTNER, "RB-1001")])
    body["grantee"]["first_name"] = first_name

    # when it is submitted, then the form is refused naming the field, and nothing is stored
    with pytest.raises(ValidationError) as refused:
        desk.submit(body)
    assert [error["loc"] for error in refused.value.errors()] == [("grantee", "first_name")]
    assert desk.mandates.mandates == {}


@pytest.mark.parametrize(
    "first_name",
    ["Zoë", "Jean-Luc", "Jean\u2011Luc", "d'Artagnan", "O\u2019Brien", "J.A.", "\u0132sbrand"],
)
def test_names_of_every_spelling_are_accepted(desk: Desk, holder: str, first_name: str) -> None:
    body = mandate_body(holder, "someone_else", contracts=[(PARTNER, "RB-1001")])
    body["grantee"]["first_name"] = first_name

    mandate = desk.submit(body)

    assert mandate.request["grantee"]["first_name"] == first_name


def test_a_request_that_already_ended_is_refused_and_nothing_of_it_is_kept(
    desk: Desk, holder: str
) -> None:
    # given a request dated ten days ago that ended yesterday
    body = mandate_body(holder)
    body["request_date"] = days_ago(desk, 10)
    body["valid_until"] = days_ago(desk, 1)

    # when it is submitted, then it is refused naming the rule, and nothing is stored
    with pytest.raises(Unprocessable) as refused:
        desk.submit(body)
    assert refused.value.code == "valid_until_in_past"
    assert desk.mandates.mandates == {}


def test_a_listed_contract_of_someone_else_is_refused(desk: Desk, holder: str) -> None:
    desk.deliver(OTHER_PARTNER, "X-1", [holder_party(surname="Smit", surname_key="smit")])

    with pytest.raises(Unprocessable) as refused:
        desk.submit(mandate_body(holder, "someone_else", contracts=[(OTHER_PARTNER, "X-1")]))

    assert refused.value.code == "contract_not_of_holder"


def test_a_client_who_is_only_insured_cannot_be_a_mandates_holder(desk: Desk, holder: str) -> None:
    insured = client_of(holder_party("SP", first_name="Bram", birth_date="1979-05-06"))

    with pytest.raises(Unprocessable) as refused:
        desk.submit(mandate_body(insured))

    assert refused.value.code == "holder_not_policyholder"


def test_a_mandate_for_a_client_the_register_does_not_know_is_refused(desk: Desk) -> None:
    with pytest.raises(Unprocessable) as refused:
        desk.submit(mandate_body("c_" + "1" * 24))

    assert refused.value.code == "holder_unknown"


def test_a_partner_submits_only_for_its_own_clients(desk: Desk, holder: str) -> None:
    own = desk.submit(mandate_body(holder), by=OWN_PARTNER)

    with pytest.raises(Forbidden) as foreign:
        desk.submit(mandate_body(holder), by=FOREIGN_PARTNER)

    assert own.state == "submitted"
    assert foreign.value.code == "not_partners_client"
    assert list(desk.mandates.mandates) == [own.mandate_id]


# --- life cycle ------------------------------------------------------------------------------


def test_only_the_holders_partner_or_an_admin_approves(desk: Desk, holder: str) -> None:
    mandate_id = desk.submit(mandate_body(holder)).mandate_id

    with pytest.raises(Forbidden) as foreign:
        desk.change(mandate_id, "approve", FOREIGN_PARTNER)
    by_admin = desk.change(mandate_id, "approve", ADMIN)

    assert foreign.value.code == "not_partners_client"
    assert by_admin.state == "approved"
    assert [m["mandate_id"] for m in desk.queued()] == [mandate_id]


@pytest.fixture
def listing_another_partners_contract(desk: Desk, holder: str) -> str:
    """A submitted "listed" mandate of a holder who is also OTHER_PARTNER's policyholder,
    naming that partner's contract only; its id."""
    desk.deliver(OTHER_PARTNER, "X-1", [holder_party()])
    body = mandate_body(holder, "someone_else", contracts=[(OTHER_PARTNER, "X-1")])
    return desk.submit(body).mandate_id


def test_a_partner_may_not_approve_access_to_another_partners_contract(
    desk: Desk, listing_another_partners_contract: str
) -> None:
    # given a mandate listing only OTHER_PARTNER's contract of PARTNER's client
    mandate_id = listing_another_partners_contract

    # when PARTNER's staff approves it
    with pytest.raises(Forbidden) as refused:
        desk.change(mandate_id, "approve", OWN_PARTNER)

    # then it is refused, nothing is sent, and the contract's own partner may approve it
    assert refused.value.code == "contract_of_other_partner"
    assert desk.get(mandate_id).state == "submitted"
    assert desk.queued() == []
    assert desk.change(mandate_id, "approve", FOREIGN_PARTNER).state == "approved"


def test_a_partner_may_not_request_access_to_another_partners_contract(
    desk: Desk, holder: str
) -> None:
    # given PARTNER's client, who is OTHER_PARTNER's policyholder too
    desk.deliver(OTHER_PARTNER, "X-1", [holder_party()])
    both = [(PARTNER, "RB-1001"), (OTHER_PARTNER, "X-1")]

    # when PARTNER's staff submits a mandate listing OTHER_PARTNER's contract
    with pytest.raises(Forbidden) as refused:
        desk.submit(mandate_body(holder, "someone_else", contracts=both), by=OWN_PARTNER)

    # then it is refused and nothing is stored
    assert refused.value.code == "contract_of_other_partner"
    assert list(desk.mandates.mandates) == []


def test_a_partner_may_still_revoke_or_reject_a_mandate_naming_another_partners_contract(
    desk: Desk, listing_another_partners_contract: str
) -> None:
    # given a mandate listing another partner's contract of PARTNER's client
    mandate_id = listing_another_partners_contract

    # when PARTNER's staff rejects it: taking access away grants nothing
    rejected = desk.change(mandate_id, "reject", OWN_PARTNER)

    # then that is allowed
    assert rejected.state == "rejected"


def test_approval_stores_only_the_tokens_hash_and_queues_the_token_in_the_forms_language(
    desk: Desk, holder: str
) -> None:
    mandate_id = desk.submit(mandate_body(holder, language="en")).mandate_id

    desk.change(mandate_id, "approve", OWN_PARTNER)

    (message,) = desk.queued()
    assert message["language"] == "en"
    stored = desk.mandates.mandates[mandate_id]
    assert stored["token_hash"] == hash_token(message["token"])
    assert message["token"] not in json.dumps(stored, default=str)
    assert message["token"] not in json.dumps(desk.mandates.tokens, default=str)
    assert desk.mandates.tokens[stored["token_hash"]]["mandate_id"] == mandate_id


def test_a_mandate_is_approved_once_and_a_decided_one_cannot_be_rejected(
    desk: Desk, holder: str
) -> None:
    mandate_id = desk.submit(mandate_body(holder)).mandate_id
    desk.approve(mandate_id)

    with pytest.raises(Conflict) as again:
        desk.change(mandate_id, "approve")
    with pytest.raises(Conflict) as reject:
        desk.change(mandate_id, "reject", reason="no")

    assert again.value.code == "invalid_state"
    assert reject.value.code == "invalid_state"
    assert reject.value.message == "a mandate that is approved cannot be rejected"
    assert desk.queued() == []


def test_a_resend_of_a_mandate_that_is_not_approved_is_refused(desk: Desk, holder: str) -> None:
    mandate_id = desk.submit(mandate_body(holder)).mandate_id

    with pytest.raises(Conflict) as refused:
        desk.change(mandate_id, "resend")

    assert refused.value.code == "invalid_state"
    assert refused.value.message == "nothing to resend: the mandate is not approved"
    assert desk.queued() == []


def test_a_rejected_mandate_keeps_its_history_and_reason(desk: Desk, holder: str) -> None:
    mandate_id = desk.submit(mandate_body(holder)).mandate_id

    rejected = desk.change(mandate_id, "reject", OWN_PARTNER, reason="unsigned")

    history = rejected.model_dump(mode="json")["history"]
    assert [h["state"] for h in history] == ["submitted", "rejected"]
    assert history[-1]["reason"] == "unsigned"
    assert history[-1]["by"]["partner_id"] == PARTNER


def test_mandates_are_listed_per_client_newest_first_and_a_partner_sees_only_its_own_clients(
    desk: Desk, holder: str
) -> None:
    first = desk.submit(mandate_body(holder)).mandate_id
    desk.clock.advance(seconds=1)
    second = desk.submit(
        mandate_body(holder, "someone_else", contracts=[(PARTNER, "RB-1001")])
    ).mandate_id

    own = desk.listed(holder, OWN_PARTNER)
    with pytest.raises(Forbidden):
        desk.listed(holder, FOREIGN_PARTNER)
    with pytest.raises(Forbidden):
        desk.get(first, FOREIGN_PARTNER)

    assert own == [second, first]


def test_an_unknown_or_malformed_mandate_id_is_not_found(desk: Desk) -> None:
    with pytest.raises(NotFound) as unknown:
        desk.get("m_" + "0" * 24)
    with pytest.raises(NotFound):
        desk.get("anything")

    assert unknown.value.code == "mandate_not_found"


def test_every_mandate_change_and_read_is_audited_with_the_mandate(desk: Desk, holder: str) -> None:
    mandate_id = desk.activated(mandate_body(holder))
    desk.contracts(mandate_id)
    desk.change(mandate_id, "revoke")

    actions = [
        (e["actor"], e["query"].get("action"))
        for e in desk.audit.entries
        if mandate_id in e["result_ids"] or e["query"].get("mandate_id") == mandate_id
    ]
    assert actions == [
        ("portal-app", None),  # submitted
        ("staff-1", "approve"),
        ("portal-app", None),  # activated
        ("portal-app", None),  # its contracts read
        ("admin-1", "revoke"),
    ]


# --- activation --------------------------------------------------------------------------------


def test_a_token_activates_its_mandate_once(desk: Desk, holder: str) -> None:
    mandate_id = desk.submit(mandate_body(holder)).mandate_id
    token = desk.approve(mandate_id)

    first = desk.activate(token)
    with pytest.raises(Conflict) as second:
        desk.activate(token)

    assert (first.mandate_id, first.state) == (mandate_id, "active")
    assert second.value.code == "token_used"


def test_a_resend_supersedes_the_earlier_token(desk: Desk, holder: str) -> None:
    mandate_id = desk.submit(mandate_body(holder)).mandate_id
    earlier = desk.approve(mandate_id)

    resent = desk.change(mandate_id, "resend", OWN_PARTNER)
    (message,) = desk.queued()
    with pytest.raises(Conflict) as refused:
        desk.activate(earlier)
    accepted = desk.activate(message["token"])

    assert resent.state == "approved"
    assert [h.get("event") for h in desk.mandates.mandates[mandate_id]["history"]] == [
        None,
        None,
        "resent",
        None,
    ]
    assert message["token"] != earlier
    assert refused.value.code == "token_superseded"
    assert accepted.state == "active"


class RefusingQueue(MemoryQueue):
    """The activation queue while SQS does not answer: every send fails as the store says."""

    def send(self, message: dict[str, Any], *, delay_seconds: int = 0) -> str:
        raise StoreError("send_message: timed out")


def test_an_approval_whose_e_mail_cannot_be_queued_is_taken_back_to_approve_again(
    desk: Desk, holder: str
) -> None:
    # given a submitted mandate
    mandate_id = desk.submit(mandate_body(holder)).mandate_id
    before = desk.mandates.get(mandate_id)

    # when the partner approves it while the activation queue does not take the message
    working, desk.queue = desk.queue, RefusingQueue()
    with pytest.raises(StoreError):
        desk.change(mandate_id, "approve", OWN_PARTNER)
    desk.queue = working

    # then the mandate is as it was: submitted, no token, no approval in its history
    assert desk.mandates.get(mandate_id) == {**before, "expires_at": ANY}
    # and approving again works and queues one activation e-mail, whose link activates it
    token = desk.approve(mandate_id)
    assert desk.activate(token).state == "active"
    assert [change.state for change in desk.get(mandate_id).history] == [
        "submitted",
        "approved",
        "active",
    ]


def test_a_resend_whose_e_mail_cannot_be_queued_leaves_the_earlier_link_working(
    desk: Desk, holder: str
) -> None:
    # given an approved mandate whose link was e-mailed
    mandate_id = desk.submit(mandate_body(holder)).mandate_id
    earlier = desk.approve(mandate_id)

    # when the partner resends the link while the activation queue does not take the message
    working, desk.queue = desk.queue, RefusingQueue()
    with pytest.raises(StoreError):
        desk.change(mandate_id, "resend", OWN_PARTNER)
    desk.queue = working

    # then the e-mailed link still activates the mandate, and no resend is in its history
    assert desk.activate(earlier).state == "active"
    assert [h.get("event") for h in desk.mandates.mandates[mandate_id]["history"]] == [
        None,
        None,
        None,
    ]


def test_a_token_used_after_its_validity_is_refused_and_the_mandate_stays_approved(
    desk: Desk, holder: str
) -> None:
    mandate_id = desk.submit(mandate_body(holder)).mandate_id
    token = desk.approve(mandate_id)
    desk.clock.advance(hours=get_settings().activation_token_ttl_hours)

    with pytest.raises(Conflict) as refused:
        desk.activate(token)

    assert refused.value.code == "token_expired"
    assert desk.get(mandate_id).state == "approved"


def test_a_token_used_just_before_its_validity_ends_activates(desk: Desk, holder: str) -> None:
    mandate_id = desk.submit(mandate_body(holder)).mandate_id
    token = desk.approve(mandate_id)
    desk.clock.advance(hours=get_settings().activation_token_ttl_hours, seconds=-1)

    assert desk.activate(token).state == "active"


def test_an_unknown_token_is_refused(desk: Desk) -> None:
    with pytest.raises(NotFound) as refused:
        desk.activate("x" * 43)

    assert refused.value.code == "token_unknown"


def test_a_mandate_revoked_before_activation_cannot_be_activated(desk: Desk, holder: str) -> None:
    mandate_id = desk.submit(mandate_body(holder)).mandate_id
    token = desk.approve(mandate_id)
    desk.change(mandate_id, "revoke")

    with pytest.raises(Conflict) as refused:
        desk.activate(token)

    assert refused.value.code == "invalid_state"


# --- contracts ---------------------------------------------------------------------------------


def test_a_policy_delivered_after_activation_appears_for_all_but_not_for_listed(
    desk: Desk, holder: str
) -> None:
    # given an active "all" mandate and an active "listed" one
    for_all = desk.activated(mandate_body(holder))
    listed = desk.activated(mandate_body(holder, "someone_else", contracts=[(PARTNER, "RB-1001")]))
    assert desk.numbers(for_all) == ["RB-1001"]

    # when a new policy of the holder is delivered (by another partner)
    desk.deliver(OTHER_PARTNER, "NEW-7", [holder_party()])

    # then the "all" mandate sees it and the "listed" one does not
    assert sorted(desk.numbers(for_all)) == ["NEW-7", "RB-1001"]
    assert desk.numbers(listed) == ["RB-1001"]


def test_a_mandate_that_is_not_active_sees_no_contracts(desk: Desk, holder: str) -> None:
    mandate_id = desk.submit(mandate_body(holder)).mandate_id

    with pytest.raises(Forbidden) as refused:
        desk.contracts(mandate_id)

    assert refused.value.code == "mandate_not_active"


def test_a_revoked_mandate_sees_nothing(desk: Desk, holder: str) -> None:
    mandate_id = desk.activated(mandate_body(holder))

    revoked = desk.change(mandate_id, "revoke", OWN_PARTNER)
    with pytest.raises(Forbidden) as refused:
        desk.contracts(mandate_id)

    assert revoked.state == "revoked"
    assert refused.value.code == "mandate_revoked"


def test_a_mandate_sees_its_contracts_until_its_last_day_and_nothing_after(
    desk: Desk, holder: str
) -> None:
    # given an active mandate valid until today
    body = mandate_body(holder) | {"valid_until": clock.register_today().isoformat()}
    mandate_id = desk.activated(body)
    assert desk.numbers(mandate_id) == ["RB-1001"]

    # when its end date passes
    desk.clock.advance(days=1)

    # then it sees nothing and shows as expired
    with pytest.raises(Forbidden) as refused:
        desk.contracts(mandate_id)
    assert refused.value.code == "mandate_expired"
    assert desk.get(mandate_id).state == "expired"


# --- contracts that ended ---------------------------------------------------------------------


def test_a_policy_removed_from_the_portfolio_no_longer_makes_its_client_a_holder(
    desk: Desk,
) -> None:
    # given a client whose only policy the partner removed from its portfolio last month
    anna = holder_party()
    desk.deliver(
        PARTNER, "RB-OLD", [anna], status="removed_from_portfolio", ended_on=days_ago(desk, 30)
    )

    # when the portal requests a mandate for them
    with pytest.raises(Unprocessable) as refused:
        desk.submit(mandate_body(client_of(anna)))

    # then there is no current contract to hold
    assert refused.value.code == "holder_not_policyholder"


def test_a_partner_that_lost_the_client_may_not_act_on_their_mandates(desk: Desk) -> None:
    # given a client who moved from OTHER_PARTNER (removed) to PARTNER (current)
    anna = holder_party()
    desk.deliver(
        OTHER_PARTNER, "OLD-1", [anna], status="removed_from_portfolio", ended_on=days_ago(desk, 30)
    )
    desk.deliver(PARTNER, "NEW-1", [anna])
    mandate_id = desk.submit(mandate_body(client_of(anna))).mandate_id

    # when each partner tries to read the mandate
    with pytest.raises(Forbidden) as former:
        desk.get(mandate_id, FOREIGN_PARTNER)
    current = desk.get(mandate_id, OWN_PARTNER)

    # then only the current partner may
    assert former.value.code == "not_partners_client"
    assert current.mandate_id == mandate_id


def test_an_all_mandate_stops_showing_a_contract_once_it_ended(desk: Desk) -> None:
    # given an active "all" mandate over two policies
    anna = holder_party()
    desk.deliver(PARTNER, "RB-A", [anna])
    desk.deliver(PARTNER, "RB-B", [anna])
    mandate_id = desk.activated(mandate_body(client_of(anna)))

    # when one of them is cancelled with cover that ended yesterday
    desk.deliver(
        PARTNER,
        "RB-B",
        [anna],
        seq="20250201T000000.000000#0001",
        status="cancelled",
        ended_on=days_ago(desk, 1),
    )

    # then the mandate shows only the one still running
    assert desk.numbers(mandate_id) == ["RB-A"]


def test_a_party_that_left_the_policy_is_no_longer_its_holder(desk: Desk) -> None:
    # given Anna held RB-1 until a later delivery named Bram its policyholder instead
    anna, bram = holder_party(), holder_party(first_name="Bram", birth_date="1979-05-06")
    desk.deliver(PARTNER, "RB-1", [anna])
    desk.deliver(PARTNER, "RB-1", [bram], seq="20250201T000000.000000#0001")

    # when the portal requests a mandate for Anna
    with pytest.raises(Unprocessable) as refused:
        desk.submit(mandate_body(client_of(anna)))

    # then her old party item does not make her a holder
    assert refused.value.code == "holder_unknown"
