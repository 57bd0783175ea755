"""The audit log: every lookup, dossier view, policy view, coverage check and mandate change
writes one entry (actor, role, time, route, the query with personal data hashed, the ids
returned). Entries expire like every other item (`RETENTION_MONTHS`).

Storage (docs/architecture.md): pk ``AUDIT#<yyyy-mm-dd>``, sk ``<iso time>#<id>``; gsi1 by actor
(``ACTOR#<subject>`` / ``<iso time>#<id>``). Reading is always a key query, never a scan.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from chalicelib.auth import Principal
from chalicelib.clock import now as _now
from chalicelib.config import get_settings
from chalicelib.errors import BadRequest
from chalicelib.models.audit import AuditEntry, AuditList, AuditQuery
from chalicelib.models.paging import page_cursor
from chalicelib.observability import logger
from chalicelib.rules.dates import expires_at
from chalicelib.store import keys
from chalicelib.store.table import Table

# Query keys whose values are not personal data and are kept as given: ids of the objects
# looked up (pseudonymous client ids, policies) and parameters of the question. Every other
# key's value is hashed, so a new query parameter is hashed unless it is listed here.
CLEAR_KEYS = frozenset(
    {
        "partner_id",
        "policy_number",
        "client_id",
        "mandate_id",
        "delivery_id",
        "legal_area",
        "decision",
        "event_date",
        "reported_date",
        "claim_amount_eur",
        "date",
        "actor",
        "limit",
        "state",
        "status",
    }
)
MAX_RESULT_IDS = 100


def hash_value(key: str, value: str) -> str:
    """HMAC-SHA256 with the stage's `CLIENT_ID_KEY` over ``<key>=<value>``: the same value in
    the same field always gives the same hash (entries can be correlated), but nobody without
    the key can test a guessed value against it."""
    secret = get_settings().client_id_key.encode()
    digest = hmac.new(secret, f"{key}={value}".encode(), hashlib.sha256).hexdigest()
    return "hmac:" + digest[:32]


def protect_query(query: Mapping[str, object]) -> dict[str, str]:
    """The query as stored in the audit log: values of `CLEAR_KEYS` as text, every other value
    hashed; absent (None) values left out."""
    protected: dict[str, str] = {}
    for key, value in query.items():
        if value is None:
            continue
        text = value.isoformat() if isinstance(value, date) else str(value)
        protected[key] = text if key in CLEAR_KEYS else hash_value(key, text)
    return protected


def record_audit(
    principal: Principal, route: str, query: Mapping[str, object], result_ids: Sequence[str]
) -> None:
    """Write one audit entry. Raises the store's error when it cannot be written: a lookup
    that cannot be audited must not be answered."""
    now = _now()
    at = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    entry_id = secrets.token_hex(8)
    sort_key = keys.audit_sk(at, entry_id)
    ids = list(dict.fromkeys(result_ids))
    item: dict[str, Any] = {
        "pk": keys.audit_pk(now.date().isoformat()),
        "sk": sort_key,
        "type": "audit",
        "id": entry_id,
        "at": at,
        "actor": principal.subject,
        "role": principal.primary_role,
        "route": route,
        "query": protect_query(query),
        "result_ids": ids[:MAX_RESULT_IDS],
        "result_count": len(ids),
        "gsi1pk": keys.actor_gsi1pk(principal.subject),
        "gsi1sk": sort_key,
        "expires_at": expires_at(now, get_settings().retention_months),
    }
    if principal.partner_id:
        item["partner_id"] = principal.partner_id
    Table().put(item)
    logger.info("audited", extra={"route": route, "audit_id": entry_id, "results": len(ids)})


def _entry(item: Mapping[str, Any]) -> AuditEntry:
    return AuditEntry(
        id=item["id"],
        at=item["at"],
        actor=item["actor"],
        role=item["role"],
        partner_id=item.get("partner_id"),
        route=item["route"],
        query={str(k): str(v) for k, v in (item.get("query") or {}).items()},
        result_ids=[str(i) for i in item.get("result_ids") or []],
        result_count=int(item.get("result_count", 0)),
    )


def list_audit(query: AuditQuery) -> AuditList:
    """Entries of one day, of one actor, or of one actor on one day; newest first, `limit` a
    page, `next_cursor` where the next page starts. One Query: on the day's partition, or on
    the actor's gsi1 partition (narrowed to the day by sort key)."""
    table = Table()
    day = query.date.isoformat() if query.date else None
    page_end = query.previous_page_end
    if not query.actor and day is None:
        # A day read across midnight (UTC) goes on in the day its first page was of.
        day = page_end[:10] if page_end else _now().date().isoformat()
    if page_end is not None and day is not None and not page_end.startswith(day):
        raise BadRequest(
            "cursor is not of this listing: pass an answer's next_cursor with the same "
            "date and actor",
            code="invalid_query",
        )
    # One entry more than the page: whether another page follows.
    if query.actor:
        items = table.query(
            keys.actor_gsi1pk(query.actor),
            index="gsi1",
            sk_prefix=day,
            sk_before=page_end,
            forward=False,
            limit=query.limit + 1,
        )
    else:
        assert day is not None
        items = table.query(
            keys.audit_pk(day), sk_before=page_end, forward=False, limit=query.limit + 1
        )
    entries = [_entry(i) for i in items]
    page = entries[: query.limit]
    more = len(entries) > query.limit
    return AuditList(
        date=day,
        actor=query.actor,
        entries=page,
        next_cursor=page_cursor(keys.audit_sk(page[-1].at, page[-1].id)) if more else None,
    )
