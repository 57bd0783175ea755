"""Who a party is: the identity that makes two rows (or two deliveries) the same client, and
the pseudonymous client id derived from it."""

from __future__ import annotations

import hashlib
import hmac

from chalicelib.models.portfolio import PartyFields


def client_identity(party: PartyFields) -> str:
    """What makes two deliveries of a person the same client (before pseudonymisation)."""
    if party.is_legal_entity:
        if party.kvk:
            return f"R|{party.kvk}"
        return f"R|{party.surname_key}|{party.postcode or ''}|{party.house_number}"
    address = f"{party.postcode or ''}|{party.house_number}"
    return f"P|{party.surname_key}|{party.birth_date or ''}|{address}"


def client_id_for(party: PartyFields, key: str) -> str:
    digest = hmac.new(key.encode(), client_identity(party).encode(), hashlib.sha256).hexdigest()
    return "c_" + digest[:24]
