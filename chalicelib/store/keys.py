"""Key formats of the single table (docs/architecture.md). One place, so no caller invents one."""

from __future__ import annotations


def policy_pk(partner_id: str, policy_number: str) -> str:
    return f"POLICY#{partner_id}#{policy_number}"


POLICY_SK = "POLICY"


def party_sk(client_id: str) -> str:
    return f"PARTY#{client_id}"


def client_gsi1pk(client_id: str) -> str:
    return f"CLIENT#{client_id}"


def policy_ref(partner_id: str, policy_number: str) -> str:
    """gsi1sk of a party item: the policy it belongs to."""
    return f"POLICY#{partner_id}#{policy_number}"


def active_gsi2pk(partner_id: str) -> str:
    return f"ACTIVE#{partner_id}"


def lookup_pk(kind: str, value: str) -> str:
    return f"LOOKUP#{kind}#{value}"


def lookup_sk(client_id: str, partner_id: str, policy_number: str) -> str:
    return f"{client_id}#{partner_id}#{policy_number}"


def delivery_pk(delivery_id: str) -> str:
    return f"DELIVERY#{delivery_id}"


DELIVERY_SK = "DELIVERY"


def deliveries_gsi2pk(partner_id: str) -> str:
    return f"DELIVERIES#{partner_id}"


LOOKUP_KINDS = ("POLICY", "ADDR", "NAMEDOB", "PHONE", "EMAIL", "KVK")
