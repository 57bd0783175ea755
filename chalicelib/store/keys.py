"""Key formats of the single table (docs/architecture.md). One place, so no caller invents one."""

from __future__ import annotations


def policy_pk(partner_id: str, policy_number: str) -> str:
    return f"POLICY#{partner_id}#{policy_number}"


POLICY_SK = "POLICY"


PARTY_SK_PREFIX = "PARTY#"


def party_sk(client_id: str) -> str:
    return f"{PARTY_SK_PREFIX}{client_id}"


def client_gsi1pk(client_id: str) -> str:
    return f"CLIENT#{client_id}"


# gsi1sk prefix of a client's party items (`policy_ref`) and mandates (`mandate_gsi1sk`).
POLICY_REF_PREFIX = "POLICY#"
MANDATE_REF_PREFIX = "MANDATE#"


def policy_ref(partner_id: str, policy_number: str) -> str:
    """gsi1sk of a party item: the policy it belongs to."""
    return f"{POLICY_REF_PREFIX}{partner_id}#{policy_number}"


def active_gsi2pk(partner_id: str) -> str:
    return f"ACTIVE#{partner_id}"


def lookup_pk(kind: str, value: str) -> str:
    return f"LOOKUP#{kind}#{value}"


def lookup_sk(client_id: str, partner_id: str, policy_number: str) -> str:
    return f"{client_id}#{partner_id}#{policy_number}"


def lookup_group_sk(partner_id: str, policy_number: str) -> str:
    """sk of the one lookup item of a policy's parties that share a partition (a household's
    address): it sorts apart from `lookup_sk`, whose client ids start with ``c_``."""
    return f"{POLICY_REF_PREFIX}{partner_id}#{policy_number}"


LOOKUP_KINDS = ("POLICY", "ADDR", "DOB", "PHONE", "EMAIL", "KVK")


# --- identity resolution (docs/architecture.md, "client_id") ------------------------------------


def identity_pk(bucket_key: str) -> str:
    """An identity bucket: the clients kept under one blocking key (``DOB#1980-03-12``)."""
    return f"IDENTITY#{bucket_key}"


IDENTITY_SK = "IDENTITY"


def alias_pk(old_client_id: str) -> str:
    """The join of a client id into the surviving one."""
    return f"ALIAS#{old_client_id}"


# sk of the join's two items: one found from the old id, one from the surviving id.
ALIAS_SK = "ALIAS"
ALIAS_SURVIVOR_SK = "SURVIVOR"
# gsi1sk prefixes under `client_gsi1pk`: the old id says where it was joined into; the
# surviving id lists the ids joined into it. Both sort before MANDATE# and POLICY#.
JOINED_INTO_PREFIX = "JOINED#"
ALIAS_REF_PREFIX = "ALIAS#"


def joined_into_gsi1sk(surviving_id: str) -> str:
    return f"{JOINED_INTO_PREFIX}{surviving_id}"


def alias_gsi1sk(old_client_id: str) -> str:
    return f"{ALIAS_REF_PREFIX}{old_client_id}"


def delivery_pk(delivery_id: str) -> str:
    return f"DELIVERY#{delivery_id}"


DELIVERY_SK = "DELIVERY"


def lane_pk(partner_id: str) -> str:
    """The partner's lane: whose turn it is among the partner's deliveries."""
    return f"LANE#{partner_id}"


LANE_SK = "LANE"


def seen_pk(delivery_id: str) -> str:
    """The policies a full delivery contained without writing them, one item per batch."""
    return f"SEEN#{delivery_id}"


def seen_sk(part: int) -> str:
    return f"{part:012d}"


def deliveries_gsi2pk(partner_id: str) -> str:
    return f"DELIVERIES#{partner_id}"


def delivery_listing_sk(received_at: str, delivery_id: str) -> str:
    """gsi2sk and gsi1sk of a delivery record, newest first when queried backwards: the ISO
    receive time, then the id."""
    return f"{received_at}#{delivery_id}"


# gsi1pk of a delivery record: every partner's deliveries in one listing, the held ones (waiting
# for an administrator's confirm) apart, so that reading those never reads the others.
EVERY_DELIVERY_GSI1PK = "DELIVERIES"
HELD_DELIVERY_GSI1PK = "HELD_DELIVERIES"


def delivery_gsi1pk(status: str) -> str:
    return HELD_DELIVERY_GSI1PK if status == "held_for_review" else EVERY_DELIVERY_GSI1PK


def quality_pk(partner_id: str) -> str:
    """A partner's quality snapshots: one per full delivery, newest last."""
    return f"QUALITY#{partner_id}"


def quality_sk(received_at: str, delivery_id: str) -> str:
    return f"{received_at}#{delivery_id}"


# --- mandates (docs/architecture.md, "Mandates") ---------------------------------------------


def mandate_pk(mandate_id: str) -> str:
    return f"MANDATE#{mandate_id}"


MANDATE_SK = "MANDATE"


def mandate_gsi1sk(mandate_id: str) -> str:
    """gsi1sk of a mandate under its holder's `client_gsi1pk`."""
    return f"{MANDATE_REF_PREFIX}{mandate_id}"


def token_pk(token_hash: str) -> str:
    return f"TOKEN#{token_hash}"


TOKEN_SK = "TOKEN"


def sent_marker_pk(idempotency_id: str) -> str:
    """The activation e-mail marker of one queue message."""
    return f"ACTIVATION_MAIL#{idempotency_id}"


SENT_SK = "SENT"

# --- audit log ---------------------------------------------------------------------------------


def audit_pk(day: str) -> str:
    return f"AUDIT#{day}"


def audit_sk(at: str, entry_id: str) -> str:
    """sk of an audit entry, and its gsi1sk under `actor_gsi1pk`."""
    return f"{at}#{entry_id}"


def actor_gsi1pk(subject: str) -> str:
    return f"ACTOR#{subject}"
