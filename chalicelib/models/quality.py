"""Data quality of deliveries: the counts a delivery keeps per field (only counts, never a
delivered value), what its report shows, and the scorecard of a partner."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.models.bounds import PartnerId


class FieldCounts(BaseModel):
    """One field over the rows of one delivery. Ints only: it is stored in the delivery record."""

    applicable: int = 0  # rows the field applies to (birth date: natural persons; KvK: companies)
    filled: int = 0  # of those, rows with a value
    valid: int = 0  # of those, rows whose value passed the checks
    errors: dict[str, int] = Field(default_factory=dict)  # error code -> rows


class QualityCounts(BaseModel):
    """The field counts of one delivery, kept in its progress (so a resumed delivery goes on
    counting from its checkpoint) and summarised in its report."""

    rows: int = 0  # readable rows counted (a line that could not be read has no fields)
    fields: dict[str, FieldCounts] = Field(default_factory=dict)
    valid_rows: int = 0  # rows that passed validation: the base of `recognisable`
    recognisable: dict[str, int] = Field(default_factory=dict)  # query form -> valid rows
    # Distinct clients of the policies a full delivery stored (written or unchanged), by the
    # client id the register's identity resolution gave them; None: not counted (a check-only
    # or mutation delivery, or one stored before clients were counted).
    clients: int | None = None
    recognisable_clients: dict[str, int] = Field(default_factory=dict)  # query form -> clients


class FieldQuality(BaseModel):
    """One field of the contract in a report or scorecard."""

    field: str = Field(description="the field's name (see docs/file-contract.md, 'Quality')")
    columns: list[str] = Field(description="the file columns it is read from")
    applicable: int = Field(description="rows the field applies to")
    filled: int = Field(description="rows with a value in it")
    valid: int = Field(description="rows whose value passed the checks")
    completeness: float | None = Field(description="filled / applicable; null without rows")
    validity: float | None = Field(description="valid / filled; null when nothing was filled")
    errors: dict[str, int] = Field(description="rows rejected on this field, by error code")


class RecognisableShare(BaseModel):
    """What a query form can find: distinct clients (a full delivery), and rows."""

    form: str = Field(
        description="policy_number, address (postcode + house number), name_birth_date, "
        "phone, email or kvk"
    )
    clients: int | None = Field(
        default=None,
        description="distinct clients of the policies the full delivery stored that the form "
        "finds: a client (the register's client id) on several rows counts once, and is "
        "findable when one of its rows has what the form needs; null: not counted (a "
        "check-only or mutation delivery, or one from before clients were counted)",
    )
    client_share: float | None = Field(
        default=None, description="clients / the delivery's clients; null when not counted"
    )
    rows: int = Field(description="valid rows (one party on one policy) the form finds")
    share: float | None = Field(description="rows / the valid rows; null without valid rows")


class DeliveryQuality(BaseModel):
    rows: int = Field(description="readable rows counted")
    valid_rows: int = Field(description="rows that passed validation")
    clients: int | None = Field(
        default=None,
        description="distinct clients of the policies a full delivery stored; null when not "
        "counted (see recognisable[].clients)",
    )
    fields: list[FieldQuality]
    recognisable: list[RecognisableShare]


class QualitySnapshot(BaseModel):
    """What the scorecard keeps of one full delivery: its field counts and error counts (counts
    only), stored next to the delivery and expiring with it."""

    delivery_id: str
    partner_id: str
    received_at: str
    status: str
    quality: QualityCounts
    error_counts: dict[str, int] = Field(default_factory=dict)
    expires_at: int


class ScorecardPath(BaseModel):
    partner_id: PartnerId


class ErrorCount(BaseModel):
    code: str
    rows: int
    message: str = Field(description="what the code means, in Dutch")
    message_en: str = Field(description="what the code means, in English")


class QualityTrendPoint(BaseModel):
    """One full delivery of the retention period, oldest first."""

    delivery_id: str
    received_at: str
    status: str
    rows: int
    completeness: float | None = Field(description="mean completeness over the fields")
    validity: float | None = Field(description="mean validity over the fields")


class Scorecard(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"description": "A partner's data quality (docs/api.md, 'Quality')."}
    )

    partner_id: str
    delivery_id: str | None = Field(description="the latest full delivery; null if none")
    received_at: str | None = None
    status: str | None = None
    score: float | None = Field(
        description="completeness x validity averaged over the fields of the latest full "
        "delivery, 0..1; null without one"
    )
    fields: list[FieldQuality] = Field(default_factory=list)
    recognisable: list[RecognisableShare] = Field(default_factory=list)
    top_errors: list[ErrorCount] = Field(
        default_factory=list,
        description="the most frequent error codes of the latest full delivery",
    )
    trend: list[QualityTrendPoint] = Field(default_factory=list)


class PartnerRanking(BaseModel):
    """All partners, worst score first (a partner without a full delivery first of all)."""

    partners: list[Scorecard]
