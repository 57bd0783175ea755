"""Who a party is: the identity that makes two rows (or two deliveries) the same client, and
the pseudonymous client id derived from it."""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from collections.abc import Sequence

from chalicelib.models.portfolio import PartyFields
from chalicelib.normalise import name_key


def client_identity(party: PartyFields) -> str:
    """What makes two deliveries of a person the same client (before pseudonymisation)."""
    if party.is_legal_entity:
        if party.kvk:
            return f"R|{party.kvk}"
        return f"R|{party.surname_key}|{party.postcode or ''}|{party.house_number}"
    address = f"{party.postcode or ''}|{party.house_number}"
    return f"P|{party.surname_key}|{party.birth_date or ''}|{address}"


def policy_identities(parties: Sequence[PartyFields]) -> list[str] | None:
    """The identity of each party on one policy. Parties that share an identity but not a
    first name or initials are different people (twins Piet and Jan on one household policy)
    and are told apart by that given name; None when two parties cannot be told apart at all
    (a repeated row, or twins delivered with the same initials and no first names)."""
    identities = [client_identity(party) for party in parties]
    counts = Counter(identities)
    if len(counts) == len(identities):
        return identities
    told_apart = [
        f"{identity}|{_given_key(party)}" if counts[identity] > 1 else identity
        for identity, party in zip(identities, parties, strict=True)
    ]
    return told_apart if len(set(told_apart)) == len(told_apart) else None


def _given_key(party: PartyFields) -> str:
    return name_key(party.first_name or "") or name_key(party.initials or "")


def client_id_for(party: PartyFields, key: str, identity: str | None = None) -> str:
    """The pseudonymous client id of a party: its identity (or the one `policy_identities`
    gave it on its policy) under the stage's HMAC key."""
    text = identity or client_identity(party)
    digest = hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()
    return "c_" + digest[:24]
