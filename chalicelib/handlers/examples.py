"""Examples for the API contract: one per request and response model, built as the models
themselves (so pydantic checks their shape here) and one per query parameter. The reference page
shows them, and a test validates each against the schema the contract gives its model."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from chalicelib.handlers.health import Health
from chalicelib.models.audit import AuditEntry, AuditList, AuditQuery
from chalicelib.models.clients import (
    AddressOut,
    Candidate,
    CandidateList,
    ClientQuery,
    Dossier,
    Match,
    Name,
    PartyOut,
    PolicyDetail,
    PolicyView,
    PolicyWithRole,
)
from chalicelib.models.coverage import (
    CoverageCheckRequest,
    CoverageCheckResponse,
    ObjectionOut,
    ObjectionStep,
    ReasonOut,
)
from chalicelib.models.delivery import (
    DeliveriesQuery,
    DeliveryList,
    DeliveryReport,
    PageEnd,
    RejectedRowsLink,
    ReportError,
)
from chalicelib.models.mandates import (
    Activation,
    ActivationRequest,
    Actor,
    Address,
    Contract,
    ContractRef,
    Grantee,
    Mandate,
    MandateContracts,
    MandateList,
    MandateQuery,
    MandateRequest,
    Person,
    Signature,
    StateChange,
    StateChangeRequest,
)
from chalicelib.models.paging import page_cursor
from chalicelib.models.quality import (
    ErrorCount,
    FieldQuality,
    PartnerRanking,
    QualityTrendPoint,
    RecognisableShare,
    Scorecard,
)

CLIENT_ID = "c_5f0c2a9e1d3b4c7a8e6f1029"
MANDATE_ID = "m_9b2d4f6a8c0e1a3b5d7f9e21"
DELIVERY_ID = "3f9a1c7e5b2d4f608a1c3e5f7b9d0a24"
PARTNER_ID = "demo-volmacht"
POLICY_NUMBER = "VOL9100000001"

# Path parameters, by name: what they are and an example.
PATH_PARAMETERS: dict[str, tuple[str, str]] = {
    "client_id": (
        "a client's opaque id (c_ and 24 hex digits), from POST /v1/clients/search",
        CLIENT_ID,
    ),
    "mandate_id": ("a mandate's id (m_ and 24 hex digits)", MANDATE_ID),
    "delivery_id": ("a delivery's id (32 hex digits), from GET /v1/deliveries", DELIVERY_ID),
    "partner_id": ("the partner that delivered the policy", PARTNER_ID),
    "policy_number": ("the partner's policy number", POLICY_NUMBER),
    "asset": ("a file of the reference page", "swagger-ui.css"),
}

# Where the example pages below end: the audit's last entry's time and id; the partner's
# deliveries at the example report.
_AUDIT_CURSOR = page_cursor("2026-11-30T09:05:02.118233Z#4f1c2a9be03d7781")
_DELIVERIES_CURSOR = PageEnd(PARTNER_ID, "2026-11-30T06:00:00Z", DELIVERY_ID).cursor()

# Query parameters, by query model: what each is, and an example.
QUERY_PARAMETERS: dict[type[BaseModel], dict[str, tuple[str, Any]]] = {
    ClientQuery: {
        "policy_number": ("a policy number (alone, or with partner_id)", POLICY_NUMBER),
        "partner_id": ("narrows a policy number search to one partner", PARTNER_ID),
        "postcode": ("Dutch postcode, 1234AB or 1234 AB; with house_number", "1077XL"),
        "house_number": ("house number, may carry its addition (12A); with postcode", "232"),
        "house_number_addition": ("house number addition", "A"),
        "birth_date": ("birth date, YYYY-MM-DD or YYYYMMDD; with name", "2002-04-16"),
        "name": (
            "surname with or without tussenvoegsels, in any order or case; with birth_date",
            "Broek, van den",
        ),
        "phone": ("phone or mobile number, Dutch or international", "0612345678"),
        "email": ("e-mail address", "j.vandenbroek@example.nl"),
        "kvk": ("Chamber of Commerce (KvK) number, 8 digits", "12345678"),
        "q": (
            "the search box: free text as a caller says it (name, birth date, postcode and "
            "house number, policy number, phone, e-mail), in any order",
            "van den Broek 16-04-2002 1077 XL 232",
        ),
    },
    DeliveriesQuery: {
        "partner_id": ("only this partner's deliveries (a partner: its own only)", PARTNER_ID),
        "status": (
            "held_for_review: only the deliveries held for an administrator's confirm",
            "held_for_review",
        ),
        "limit": (
            "at most this many reports (a page; 1-200, default 50; fewer when they would "
            "exceed 5 MB)",
            20,
        ),
        "cursor": (
            "the previous answer's next_cursor: read on with the next, older page",
            _DELIVERIES_CURSOR,
        ),
    },
    MandateQuery: {"client_id": ("the holder's client id", CLIENT_ID)},
    AuditQuery: {
        "date": ("the day (UTC); default today", "2026-11-30"),
        "actor": ("only this actor's lookups (the token's subject)", "jsc-user"),
        "limit": ("at most this many entries (a page; 1-500, default 100)", 5),
        "cursor": (
            "the previous answer's next_cursor: read on with the next, older page",
            _AUDIT_CURSOR,
        ),
    },
}

_ADDRESS = AddressOut(
    street="Stadionweg", house_number="232", postcode="1077XL", city="AMSTERDAM", country="NL"
)
_NAME = Name(
    surname="Broek",
    tussenvoegsels="van den",
    initials="J.",
    first_name="Jan",
    display="Jan van den Broek",
)
_POLICY = PolicyDetail(
    partner_id=PARTNER_ID,
    policy_number=POLICY_NUMBER,
    status="active",
    branch="rechtsbijstand",
    product="RB Particulier",
    start_date="2020-01-01",
    modules=["wonen", "consument", "verkeer"],
    conditions="RB-2020",
    clauses=["K12"],
    deductible_eur=Decimal("0"),
    household="H",
    delivered_at="2026-11-30T08:12:00Z",
)
_POLICY_WITH_ROLE = PolicyWithRole(**_POLICY.model_dump(), role="VP")
_PARTY = PartyOut(
    client_id=CLIENT_ID,
    partner_id=PARTNER_ID,
    policy_number=POLICY_NUMBER,
    role="VP",
    is_legal_entity=False,
    name=_NAME,
    gender="M",
    birth_date="2002-04-16",
    address=_ADDRESS,
    email="j.vandenbroek@example.nl",
    mobile="0612345678",
)
_ACTOR = Actor(subject="portal-user", role="portal")
_MANDATE_REQUEST = MandateRequest(
    client_id=CLIENT_ID,
    grantee_kind="someone_else",
    requester=Person(
        surname="Broek",
        tussenvoegsels="van den",
        first_name="Jan",
        birth_date="2002-04-16",
        address=Address(house_number="232", postcode="1077XL"),
    ),
    request_date="2026-11-30",
    grantee=Grantee(
        surname="Jansen",
        first_name="Sara",
        birth_date="1990-01-01",
        address=Address(house_number="5", postcode="3511AB"),
        email="sara@example.nl",
    ),
    contracts=[ContractRef(partner_id=PARTNER_ID, policy_number=POLICY_NUMBER)],
    signature=Signature(method="eid", signed_on="2026-11-30", form_reference="FORM-1"),
)
_MANDATE = Mandate(
    mandate_id=MANDATE_ID,
    client_id=CLIENT_ID,
    state="approved",
    holder_kind="natural_person",
    grantee_kind="someone_else",
    scope="listed",
    form_required=True,
    contracts=[ContractRef(partner_id=PARTNER_ID, policy_number=POLICY_NUMBER)],
    request=_MANDATE_REQUEST.model_dump(mode="json", exclude_none=True),
    submitted_at="2026-11-30T09:00:00Z",
    submitted_by=_ACTOR,
    updated_at="2026-11-30T10:30:00Z",
    history=[
        StateChange(state="submitted", at="2026-11-30T09:00:00Z", by=_ACTOR),
        StateChange(
            state="approved",
            at="2026-11-30T10:30:00Z",
            by=Actor(subject="partner-user", role="partner", partner_id=PARTNER_ID),
        ),
    ],
    activation_expires_at="2026-12-03T10:30:00Z",
)
_REPORT = DeliveryReport(
    delivery_id=DELIVERY_ID,
    partner_id=PARTNER_ID,
    object_key=f"incoming/{PARTNER_ID}/mutation/2026-11-30.csv",
    kind="mutation",
    received_at="2026-11-30T06:00:00Z",
    status="accepted_with_errors",
    rows_total=1200,
    rows_accepted=1199,
    rows_rejected=1,
    policies_written=540,
    errors=[
        ReportError(
            line=17,
            column="PCODE",
            code="invalid_postcode",
            message="postcode is geen geldige Nederlandse postcode",
            message_en="postcode is not a valid Dutch postcode",
        )
    ],
    error_counts={"invalid_postcode": 1},
    finished_at="2026-11-30T06:00:09Z",
)

_EMAIL_QUALITY = FieldQuality(
    field="email",
    columns=["EMAIL"],
    applicable=1200,
    filled=900,
    valid=897,
    completeness=0.75,
    validity=0.9967,
    errors={"invalid_email": 3},
)
_SCORECARD = Scorecard(
    partner_id=PARTNER_ID,
    delivery_id=DELIVERY_ID,
    received_at="2026-11-30T06:00:00Z",
    status="accepted_with_errors",
    score=0.6412,
    fields=[_EMAIL_QUALITY],
    recognisable=[
        RecognisableShare(
            form="address", clients=1012, client_share=0.9941, rows=1190, share=0.9933
        ),
        RecognisableShare(form="phone", clients=866, client_share=0.8507, rows=1010, share=0.8431),
    ],
    top_errors=[
        ErrorCount(
            code="invalid_email",
            rows=3,
            message="E-mailadres in … is ongeldig.",
            message_en="E-mail address in … is invalid.",
        )
    ],
    trend=[
        QualityTrendPoint(
            delivery_id=DELIVERY_ID,
            received_at="2026-11-30T06:00:00Z",
            status="accepted_with_errors",
            rows=1200,
            completeness=0.71,
            validity=0.998,
        )
    ],
)

# Request bodies and responses, by model.
MODEL_EXAMPLES: dict[type[BaseModel], BaseModel] = {
    Health: Health(status="ok", stage="local"),
    CandidateList: CandidateList(
        query_kind="address",
        candidates=[
            Candidate(
                client_id=CLIENT_ID,
                match=Match(score=1.0, on=["postcode", "house_number"]),
                is_legal_entity=False,
                name=_NAME,
                birth_date="2002-04-16",
                address=_ADDRESS,
                policies=[_POLICY_WITH_ROLE],
            )
        ],
    ),
    Dossier: Dossier(
        client_id=CLIENT_ID,
        is_legal_entity=False,
        name=_NAME,
        birth_date="2002-04-16",
        address=_ADDRESS,
        partners=[PARTNER_ID],
        policies=[_POLICY_WITH_ROLE],
        parties=[_PARTY],
    ),
    PolicyView: PolicyView(policy=_POLICY, parties=[_PARTY]),
    ClientQuery: ClientQuery(postcode="1077XL", house_number="232"),
    CoverageCheckRequest: CoverageCheckRequest(
        partner_id=PARTNER_ID,
        policy_number=POLICY_NUMBER,
        event_date="2025-10-01",
        reported_date="2025-10-15",
        legal_area="wonen",
        claim_amount_eur=2500,
        client_id=CLIENT_ID,
    ),
    CoverageCheckResponse: CoverageCheckResponse(
        decision="not_covered",
        partner_id=PARTNER_ID,
        policy_number=POLICY_NUMBER,
        legal_area="werk",
        event_date="2025-10-01",
        reported_date="2025-10-15",
        policy_status="active",
        reasons=[
            ReasonOut(
                rule="module_insured",
                outcome="fail",
                message_nl="de module werk is niet verzekerd",
                message_en="the module werk is not insured",
            )
        ],
        conditions="RB-2020",
        clauses=["K12"],
        objection=ObjectionOut(
            reconsideration_weeks=6,
            message_nl="u kunt binnen 6 weken om heroverweging vragen",
            message_en="you may ask for reconsideration within 6 weeks",
            steps=[
                ObjectionStep(
                    step="reconsideration",
                    message_nl="vraag schriftelijk om heroverweging",
                    message_en="ask for reconsideration in writing",
                )
            ],
        ),
    ),
    DeliveryList: DeliveryList(deliveries=[_REPORT], next_cursor=_DELIVERIES_CURSOR),
    DeliveryReport: _REPORT,
    RejectedRowsLink: RejectedRowsLink(
        url=f"https://polisregister-portfolio.s3.eu-west-1.amazonaws.com/reports/{PARTNER_ID}/"
        f"{DELIVERY_ID}.csv?response-content-disposition=attachment%3B%20filename%3D%22"
        f"{DELIVERY_ID}.csv%22&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=300&X-Amz-Signature=…",
        file_name=f"{DELIVERY_ID}.csv",
        expires_in=300,
    ),
    Scorecard: _SCORECARD,
    PartnerRanking: PartnerRanking(partners=[_SCORECARD.model_copy(update={"trend": []})]),
    MandateRequest: _MANDATE_REQUEST,
    StateChangeRequest: StateChangeRequest(reason="signed form received"),
    Mandate: _MANDATE,
    MandateList: MandateList(mandates=[_MANDATE]),
    ActivationRequest: ActivationRequest(token="8n3Kq0vX2bYp7LwR5tZc1mFh4JdG6sAe"),
    Activation: Activation(
        mandate_id=MANDATE_ID,
        client_id=CLIENT_ID,
        state="active",
        scope="listed",
        activated_at="2026-11-30T12:00:00Z",
    ),
    MandateContracts: MandateContracts(
        mandate_id=MANDATE_ID,
        client_id=CLIENT_ID,
        scope="listed",
        contracts=[
            Contract(
                partner_id=PARTNER_ID,
                policy_number=POLICY_NUMBER,
                branch="rechtsbijstand",
                product="RB Particulier",
                start_date="2020-01-01",
                modules=["wonen", "consument", "verkeer"],
                status="active",
            )
        ],
    ),
    AuditList: AuditList(
        date="2026-11-30",
        actor="jsc-user",
        entries=[
            AuditEntry(
                id="01JDXK4Q7W2C9V0T5N8M3B6R1A",
                at="2026-11-30T09:12:44Z",
                actor="jsc-user",
                role="jsc",
                route="POST /v1/clients/search",
                query={"postcode": "h:5e1b7c0f"},
                result_ids=[CLIENT_ID],
                result_count=1,
            )
        ],
        next_cursor=_AUDIT_CURSOR,
    ),
}
