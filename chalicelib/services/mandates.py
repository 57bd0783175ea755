"""Mandates: submit, read, approve / reject / revoke / resend, activate, and the contracts an
active mandate shows (docs/mandates.md). Rules are in `chalicelib/rules/mandates.py`; this module
reads the register, keeps the life cycle consistent in DynamoDB and puts activation messages on
the queue. Storage: docs/architecture.md, "Mandates".

What the use cases read and write comes in one `MandateRepositories` (mandates and tokens, the
holder's current policies, the activation queue, the audit log); left out, it is the DynamoDB /
SQS one, so tests hand in in-memory stand-ins instead of running on moto.

Every state change is a conditional update on the state it starts from, so two approvals (or an
approval racing a revocation) cannot both win: the loser gets 409 `invalid_state`.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from chalicelib import deadline
from chalicelib.auth import Principal
from chalicelib.clock import now as _now
from chalicelib.clock import register_today
from chalicelib.config import get_settings
from chalicelib.errors import ConditionFailed, Conflict, Forbidden, NotFound, Unprocessable
from chalicelib.models.mandates import (
    Activation,
    ActivationMessage,
    ActivationRequest,
    Actor,
    Contract,
    ContractRef,
    HolderKind,
    Language,
    Mandate,
    MandateContracts,
    MandateList,
    MandateQuery,
    MandateRequest,
    MandateState,
    StateChange,
    StateChangeRequest,
)
from chalicelib.observability import logger
from chalicelib.rules import dates
from chalicelib.rules.coverage import policy_ref_id, shown_status
from chalicelib.rules.mandates import (
    Holder,
    assess_request,
    contract_is_current,
    hash_token,
    next_state,
    stored_state,
    visible_contracts,
)
from chalicelib.services.audit import record_audit
from chalicelib.services.dossier import read_client
from chalicelib.store.aws import one_more_call_seconds
from chalicelib.store.mandates import DynamoMandates, MandateStore
from chalicelib.store.queues import Queue
from chalicelib.store.table import Item

# An activation token's item outlives the token by this much, so that an expired link is
# refused as "expired" rather than "unknown" (only its hash is stored).
TOKEN_ITEM_GRACE = timedelta(days=30)


class HolderPolicies(Protocol):
    def current(self, client_id: str) -> Sequence[tuple[Item, Item]]:
        """The client's current memberships: (party item, its policy item)."""
        ...


class MessageQueue(Protocol):
    def send(self, message: dict[str, Any], *, delay_seconds: int = 0) -> str: ...


AuditLog = Callable[[Principal, str, Mapping[str, object], Sequence[str]], None]


class RegisterHolders:
    """The holder's memberships as the dossier reads them (one index query, one batch read)."""

    def current(self, client_id: str) -> Sequence[tuple[Item, Item]]:
        return read_client(client_id).current


@dataclass(frozen=True)
class MandateRepositories:
    mandates: MandateStore
    holders: HolderPolicies
    activations: MessageQueue
    audit: AuditLog

    @classmethod
    def on_aws(cls) -> MandateRepositories:
        return cls(
            mandates=DynamoMandates(),
            holders=RegisterHolders(),
            activations=Queue(get_settings().activation_queue_url),
            audit=record_audit,
        )


def _or_aws(repos: MandateRepositories | None) -> MandateRepositories:
    return repos or MandateRepositories.on_aws()


def new_mandate_id() -> str:
    return "m_" + secrets.token_hex(12)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- the register, as far as mandates need it --------------------------------------------------


@dataclass(frozen=True)
class HolderRecord:
    """The holder in the register: kind, and the live policies on which they are policyholder
    (fresh party items only: a party whose `data_seq` differs from its policy's left it)."""

    holder: Holder
    policies: dict[tuple[str, str], Item]  # (partner_id, policy_number) -> policy item

    @property
    def partners(self) -> frozenset[str]:
        return frozenset(partner for partner, _ in self.policies)


def _current(policy: Mapping[str, Any], today: date) -> bool:
    def day(name: str) -> date | None:
        value = policy.get(name)
        return date.fromisoformat(str(value)) if value else None

    return contract_is_current(str(policy.get("status")), day("end_date"), day("ended_on"), today)


def read_holder(client_id: str, holders: HolderPolicies) -> HolderRecord | None:
    fresh = holders.current(client_id)
    if not fresh:
        return None
    kind: HolderKind = (
        "legal_entity" if any(p.get("is_legal_entity") for p, _ in fresh) else "natural_person"
    )
    today = register_today()
    as_holder = {
        (p["partner_id"], p["policy_number"]): policy
        for p, policy in fresh
        if p.get("role") == "VP" and _current(policy, today)
    }
    contracts = tuple(
        ContractRef(partner_id=partner, policy_number=number)
        for partner, number in sorted(as_holder)
    )
    return HolderRecord(Holder(kind, contracts), as_holder)


# --- access -------------------------------------------------------------------------------------


def _only_partner(principal: Principal) -> bool:
    """A partner's staff member (and not also admin or portal): limited to their own clients."""
    return "partner" in principal.roles and not principal.has_any({"admin", "portal"})


def _require_own_client(principal: Principal, client_id: str, record: HolderRecord | None) -> None:
    """A partner may act only for holders with a policy of theirs; admins for everyone."""
    if "admin" in principal.roles:
        return
    if record is None or principal.partner_id not in record.partners:
        raise Forbidden(
            "this client has no policy of your organisation", code="not_partners_client"
        )


def _require_own_contracts(principal: Principal, contracts: Iterable[ContractRef]) -> None:
    """A partner grants access only to its own contracts: a listed contract of another partner
    is that partner's (or an admin's) to grant, even when the holder is a client of both."""
    if any(contract.partner_id != principal.partner_id for contract in contracts):
        raise Forbidden(
            "the mandate lists a contract of another organisation",
            code="contract_of_other_partner",
        )


def _may_see(principal: Principal, client_id: str, holders: HolderPolicies) -> None:
    if _only_partner(principal):
        _require_own_client(principal, client_id, read_holder(client_id, holders))


def _actor(principal: Principal) -> dict[str, str]:
    actor = {"subject": principal.subject, "role": principal.primary_role}
    if principal.partner_id:
        actor["partner_id"] = principal.partner_id
    return actor


# --- storage -------------------------------------------------------------------------------------


def _listed(item: Mapping[str, Any]) -> list[ContractRef]:
    return [ContractRef.model_validate(c) for c in item.get("contracts", [])]


def _valid_until(item: Mapping[str, Any]) -> date | None:
    value = item.get("valid_until")
    return date.fromisoformat(value) if value else None


def _expires_at(now: datetime, valid_until: date | None) -> int:
    """Retention after the last change, or after the mandate's own end if that is later."""
    later = now
    if valid_until is not None:
        later = max(now, datetime.combine(valid_until, now.timetz()))
    return dates.expires_at(later, get_settings().retention_months)


def _keep_in_use(store: MandateStore, item: Mapping[str, Any]) -> None:
    """A mandate in use lives on: reading its contracts moves its expiry to
    `RETENTION_MONTHS` from now, written as the register refreshes unchanged policies, once
    the stored expiry lags by more than `RETENTION_REFRESH_MONTHS` (so not on every read)."""
    settings = get_settings()
    now = _now()
    due = dates.expires_at(now, settings.retention_months - settings.retention_refresh_months)
    if int(item["expires_at"]) < due:
        renewed = _expires_at(now, _valid_until(item))
        store.extend(item["mandate_id"], state=str(item["state"]), expires_at=renewed)


def load_mandate(mandate_id: str, store: MandateStore | None = None) -> Item:
    item = None
    if mandate_id.startswith("m_") and len(mandate_id) == 26:
        item = (store or DynamoMandates()).get(mandate_id)
    if item is None:
        raise NotFound("no such mandate", code="mandate_not_found")
    return item


def current_state(item: Mapping[str, Any]) -> MandateState:
    return stored_state(item, register_today())


def _to_model(item: Mapping[str, Any]) -> Mandate:
    return Mandate(
        mandate_id=item["mandate_id"],
        client_id=item["client_id"],
        state=current_state(item),
        holder_kind=item["holder_kind"],
        grantee_kind=item["grantee_kind"],
        scope=item["scope"],
        form_required=bool(item["form_required"]),
        contracts=_listed(item),
        request=json.loads(item["request"]),
        submitted_at=item["submitted_at"],
        submitted_by=Actor.model_validate(item["submitted_by"]),
        updated_at=item["updated_at"],
        history=[StateChange.model_validate(h) for h in item.get("history", [])],
        activation_expires_at=item.get("activation_expires_at"),
        activated_at=item.get("activated_at"),
    )


def _history_entry(
    state: MandateState, at: str, by: Principal | None, reason: str | None = None
) -> dict[str, Any]:
    entry: dict[str, Any] = {"state": state, "at": at}
    if by is not None:
        entry["by"] = _actor(by)
    if reason:
        entry["reason"] = reason
    return entry


def _transition(
    store: MandateStore,
    item: Item,
    target: MandateState,
    entry: dict[str, Any],
    now: datetime,
    *,
    extra: Mapping[str, Any] | None = None,
    condition_token: str | None = None,
) -> Item:
    """Conditional update from the stored state (and, for activation, the current token)."""
    return store.transition(
        item["mandate_id"],
        from_state=item["state"],
        to_state=target,
        history_entry=entry,
        at=_iso(now),
        expires_at=_expires_at(now, _valid_until(item)),
        extra=extra,
        current_token=condition_token,
    )


_PAST_TENSE = {"approve": "approved", "reject": "rejected", "revoke": "revoked"}


def _invalid_state(action: str, state: str) -> Conflict:
    message = (
        f"a mandate that is {state} cannot be {_PAST_TENSE[action]}"
        if action in _PAST_TENSE
        else f"a mandate that is {state} cannot be {action}"
    )
    return Conflict(
        message if action != "resend" else "nothing to resend: the mandate is not approved",
        code="invalid_state",
        details={"state": state, "action": action},
    )


# --- activation tokens ---------------------------------------------------------------------------


def _issue_token(store: MandateStore, mandate_id: str, now: datetime) -> tuple[str, str, datetime]:
    """A new single-use token: its hash is stored (never the token); returns token, hash,
    expiry. The mandate's `token_hash` is what makes it current: setting a new one supersedes
    every earlier token."""
    token = secrets.token_urlsafe(32)
    token_hash = hash_token(token)
    expiry = now + timedelta(hours=get_settings().activation_token_ttl_hours)
    store.put_token(
        token_hash,
        {
            "mandate_id": mandate_id,
            "issued_at": _iso(now),
            "token_expires_at": int(expiry.timestamp()),
            "expires_at": int((expiry + TOKEN_ITEM_GRACE).timestamp()),
        },
    )
    return token, token_hash, expiry


def _enqueue_activation(
    queue: MessageQueue, mandate_id: str, token: str, language: Language
) -> None:
    message = ActivationMessage(
        mandate_id=mandate_id,
        token=token,
        language=language,
        idempotency_id=secrets.token_hex(16),
    )
    queue.send(message.model_dump())
    logger.info("activation queued", extra={"mandate_id": mandate_id})


# --- use cases -----------------------------------------------------------------------------------


def submit_mandate(
    principal: Principal,
    request: MandateRequest,
    route: str,
    repos: MandateRepositories | None = None,
) -> Mandate:
    repos = _or_aws(repos)
    record = read_holder(request.client_id, repos.holders)
    if _only_partner(principal):
        _require_own_client(principal, request.client_id, record)
        _require_own_contracts(principal, request.contracts)
    if record is None:
        raise Unprocessable("the holder is not a client of the register", code="holder_unknown")
    if not record.holder.contracts:
        raise Unprocessable(
            "the holder is not the policyholder of any policy in the register",
            code="holder_not_policyholder",
        )
    now = _now()
    assessment = assess_request(request, record.holder, register_today())
    if not assessment.accepted or assessment.rule is None:
        first = assessment.violations[0]
        raise Unprocessable(
            first.message,
            code=first.code,
            details=[{"rule": v.code, "message": v.message} for v in assessment.violations],
        )
    rule = assessment.rule
    mandate_id = new_mandate_id()
    at = _iso(now)
    item: Item = {
        "mandate_id": mandate_id,
        "client_id": request.client_id,
        "state": "submitted",
        "holder_kind": rule.holder,
        "grantee_kind": rule.grantee,
        "scope": rule.scope,
        "form_required": rule.form_required,
        "contracts": [c.model_dump() for c in assessment.contracts],
        "request": request.model_dump_json(exclude_none=True),
        "language": request.language,
        "submitted_at": at,
        "submitted_by": _actor(principal),
        "updated_at": at,
        "history": [_history_entry("submitted", at, principal)],
        "expires_at": _expires_at(now, request.valid_until),
    }
    if request.valid_until is not None:
        item["valid_until"] = request.valid_until.isoformat()
    repos.mandates.create(item)
    logger.info("mandate submitted", extra={"mandate_id": mandate_id, "scope": rule.scope})
    repos.audit(
        principal, route, {"client_id": request.client_id, "mandate_id": mandate_id}, [mandate_id]
    )
    return _to_model(item)


def get_mandate(
    principal: Principal, mandate_id: str, route: str, repos: MandateRepositories | None = None
) -> Mandate:
    repos = _or_aws(repos)
    item = load_mandate(mandate_id, repos.mandates)
    _may_see(principal, item["client_id"], repos.holders)
    repos.audit(principal, route, {"mandate_id": mandate_id}, [mandate_id])
    return _to_model(item)


def list_mandates(
    principal: Principal,
    query: MandateQuery,
    route: str,
    repos: MandateRepositories | None = None,
) -> MandateList:
    """The client's mandates, newest submission first."""
    repos = _or_aws(repos)
    _may_see(principal, query.client_id, repos.holders)
    items = repos.mandates.for_client(query.client_id)
    mandates = sorted((_to_model(i) for i in items), key=lambda m: m.submitted_at, reverse=True)
    repos.audit(principal, route, {"client_id": query.client_id}, [m.mandate_id for m in mandates])
    return MandateList(mandates=mandates)


# What gives the grantee access (a new activation link); reject and revoke take it away, so a
# partner of the holder may do those whoever's contracts the mandate lists.
GRANTING_ACTIONS = frozenset({"approve", "resend"})


def change_mandate(
    principal: Principal,
    mandate_id: str,
    action: str,
    body: StateChangeRequest,
    route: str,
    repos: MandateRepositories | None = None,
) -> Mandate:
    """approve / reject / revoke / resend. Approve and resend issue a new activation token
    (superseding any earlier one) and queue the activation e-mail."""
    repos = _or_aws(repos)
    store = repos.mandates
    item = load_mandate(mandate_id, store)
    if "admin" not in principal.roles:
        _require_own_client(
            principal, item["client_id"], read_holder(item["client_id"], repos.holders)
        )
        if action in GRANTING_ACTIONS:
            _require_own_contracts(principal, _listed(item))
    state = current_state(item)
    target = next_state(action, state)
    if target is None:
        raise _invalid_state(action, state)
    now = _now()
    extra: dict[str, Any] = {}
    token = None
    if action in ("approve", "resend"):
        token, token_hash, expiry = _issue_token(store, mandate_id, now)
        extra = {"token_hash": token_hash, "activation_expires_at": _iso(expiry)}
    entry = _history_entry(target, _iso(now), principal, body.reason)
    if action == "resend":
        entry["event"] = "resent"
    try:
        updated = _transition(store, item, target, entry, now, extra=extra)
    except ConditionFailed:
        raise _invalid_state(action, current_state(load_mandate(mandate_id, store))) from None
    logger.info("mandate changed", extra={"mandate_id": mandate_id, "action": action})
    if token is not None:
        try:
            # The request's deadline would refuse the undo below too if the send used it up.
            with deadline.leaving(one_more_call_seconds(get_settings())):
                _enqueue_activation(
                    repos.activations, mandate_id, token, item.get("language", "nl")
                )
        except Exception:
            # No e-mail will carry this token: take the change back, so that approving (or
            # resending) again works and an earlier link keeps working meanwhile.
            if store.undo(mandate_id, before=item, token_hash=extra["token_hash"]):
                logger.warning("mandate change undone", extra={"mandate_id": mandate_id})
            raise
    repos.audit(principal, route, {"mandate_id": mandate_id, "action": action}, [mandate_id])
    return _to_model(updated)


def _token_refusal(item: Mapping[str, Any], token_hash: str) -> Conflict | None:
    """Why this token can no longer activate the mandate, if it cannot."""
    if item.get("token_hash") != token_hash:
        return Conflict("this activation link was replaced by a newer one", code="token_superseded")
    if item["state"] == "active":
        return Conflict("this activation link was already used", code="token_used")
    state = current_state(item)
    if state != "approved":
        return Conflict(f"the mandate is {state}", code="invalid_state", details={"state": state})
    return None


def activate(
    principal: Principal,
    request: ActivationRequest,
    route: str,
    repos: MandateRepositories | None = None,
) -> Activation:
    """Activate a mandate with the e-mailed token: once, before it expires, and only the
    mandate's current token."""
    repos = _or_aws(repos)
    store = repos.mandates
    token_hash = hash_token(request.token)
    token_item = store.get_token(token_hash)
    if token_item is None:
        raise NotFound("this activation link is not known", code="token_unknown")
    mandate_id = token_item["mandate_id"]
    item = load_mandate(mandate_id, store)
    refusal = _token_refusal(item, token_hash)
    if refusal is not None:
        raise refusal
    now = _now()
    if now.timestamp() >= float(token_item["token_expires_at"]):
        raise Conflict("this activation link has expired", code="token_expired")
    entry = _history_entry("active", _iso(now), None)
    try:
        updated = _transition(
            store,
            item,
            "active",
            entry,
            now,
            extra={"activated_at": _iso(now)},
            condition_token=token_hash,
        )
    except ConditionFailed:
        refusal = _token_refusal(load_mandate(mandate_id, store), token_hash)
        raise refusal or Conflict("try again", code="invalid_state") from None
    logger.info("mandate activated", extra={"mandate_id": mandate_id})
    repos.audit(principal, route, {"mandate_id": mandate_id}, [mandate_id])
    return Activation(
        mandate_id=mandate_id,
        client_id=updated["client_id"],
        state="active",
        scope=updated["scope"],
        activated_at=updated["activated_at"],
    )


def _contract(ref: ContractRef, policy: Mapping[str, Any], today: date) -> Contract:
    return Contract(
        partner_id=ref.partner_id,
        policy_number=ref.policy_number,
        branch=policy.get("branch"),
        product=policy.get("product"),
        start_date=policy.get("start_date"),
        end_date=policy.get("end_date"),
        modules=list(policy.get("modules") or []),
        status=shown_status(policy, today),
        ended_on=policy.get("ended_on"),
    )


def mandate_contracts(
    principal: Principal, mandate_id: str, route: str, repos: MandateRepositories | None = None
) -> MandateContracts:
    """What the active mandate may see now: for "all" the holder's current policies (new
    deliveries included), for "single"/"listed" the fixed list as far as still the holder's."""
    repos = _or_aws(repos)
    item = load_mandate(mandate_id, repos.mandates)
    state = current_state(item)
    if state != "active":
        code = f"mandate_{state}" if state in ("revoked", "expired") else "mandate_not_active"
        raise Forbidden(f"the mandate is {state}", code=code, details={"state": state})
    record = read_holder(item["client_id"], repos.holders)
    holder_contracts = record.holder.contracts if record else ()
    refs = visible_contracts(item["scope"], _listed(item), holder_contracts)
    policies = record.policies if record else {}
    today = register_today()
    contracts = [_contract(r, policies[(r.partner_id, r.policy_number)], today) for r in refs]
    repos.audit(
        principal,
        route,
        {"mandate_id": mandate_id, "client_id": item["client_id"]},
        [policy_ref_id(c.partner_id, c.policy_number) for c in contracts],
    )
    _keep_in_use(repos.mandates, item)
    return MandateContracts(
        mandate_id=mandate_id, client_id=item["client_id"], scope=item["scope"], contracts=contracts
    )
