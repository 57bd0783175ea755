"""The ingest's decisions, without storage: which delivery an upload is, its place in the
partner's order, whether a policy's rows may be written, what status a written policy gets,
when a full delivery's removals wait for an administrator, and the delivery's final status.
The service (chalicelib/services/ingest.py) reads and writes; everything it decides is here."""

from __future__ import annotations

import hashlib
import re
from array import array
from bisect import bisect_left
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any, NamedTuple, cast

from chalicelib.models.delivery import DeliveryStatus, Notice, Progress, S3ObjectRef, notice
from chalicelib.models.portfolio import DeliveryKind, PolicyFields, RowError, RowOutcome, ValidRow
from chalicelib.rules.identity import told_apart
from chalicelib.rules.rows import PARTY_VALUE_LABELS

# A policy's parties are buffered until the policy's last row; more than this is not a household.
MAX_ROWS_PER_POLICY = 100
# incoming/<partner>/check/<name>: read, validated, scored and reported like a full delivery,
# but nothing of it is written to the register.
CHECK_ONLY = "check"
DELIVERY_KINDS = ("full", "mutation", CHECK_ONLY)
# Where a file is filed that names no partner at all (outside incoming/<partner_id>/).
UNKNOWN_PARTNER = "_unknown"
KEY_PATTERN = re.compile(r"^incoming/(?P<partner>[^/]+)/(?P<kind>[^/]+)/(?P<name>[^/]+)$")


def message(
    code: str, *, key: str = "", line: int = 0, column: str | None = None, **params: object
) -> RowError:
    """A report line: its `code`, and the catalogue's message `key` (the code unless given)
    with its parameters, rendered in Dutch and English when the report is built."""
    return RowError(
        line=line,
        column=column,
        code=code,
        params={name: str(value) for name, value in params.items()},
        key=key,
    )


# --- which delivery ------------------------------------------------------------------------------


def delivery_id_for(ref: S3ObjectRef) -> str:
    """The same upload always gets the same id: S3 may notify an upload more than once, each
    time with the same key, version or sequencer, and event time. A later upload of the same
    key (a new event time) is a new delivery."""
    version = ref.version_id or ref.sequencer or ref.etag or ""
    identity = f"{ref.bucket}/{ref.key}#{version}#{ref.event_time}"
    return hashlib.sha256(identity.encode()).hexdigest()[:32]


def received_at(ref: S3ObjectRef) -> datetime:
    return datetime.fromisoformat(ref.event_time.replace("Z", "+00:00")).astimezone(UTC)


def delivery_seq(ref: S3ObjectRef) -> str:
    """Sortable position of the delivery in the partner's order: upload time, then sequencer."""
    return f"{received_at(ref):%Y%m%dT%H%M%S.%f}#{ref.sequencer.rjust(32, '0')}"


@dataclass(frozen=True)
class ObjectKey:
    """What the key says a file is: incoming/<partner>/<full|mutation|check>/<name>."""

    partner_id: str
    kind: str
    well_formed: bool


def names_a_folder(key: str) -> bool:
    """A key ending in ``/`` is a folder an S3 or SFTP client created (a zero-byte marker),
    never a file: no delivery at all."""
    return key.endswith("/")


def read_object_key(key: str) -> ObjectKey:
    match = KEY_PATTERN.match(key)
    if match is not None:
        return ObjectKey(match["partner"], match["kind"], well_formed=True)
    parts = key.split("/")
    if len(parts) >= 3 and parts[0] == "incoming" and parts[1]:
        # Under a partner's prefix but not at the contract's depth (a date folder, a file right
        # under the partner): still the partner's upload, so its rejection is filed under it,
        # where the partner reads its deliveries and from where it is told.
        return ObjectKey(parts[1], "unknown", well_formed=False)
    return ObjectKey(UNKNOWN_PARTNER, "unknown", well_formed=False)


def unacceptable(key: ObjectKey, partners: Collection[str]) -> RowError | None:
    """Why the file cannot be a delivery at all, if it cannot."""
    if not key.well_formed:
        return message(
            "invalid_object_key",
        )
    if key.partner_id not in partners:
        return message("unknown_partner", partner=key.partner_id)
    if key.kind not in DELIVERY_KINDS:
        return message(
            "unknown_delivery_kind",
        )
    return None


def validation_kind(kind: str) -> DeliveryKind:
    """The contract a file's rows are checked against: a check-only file as a full delivery
    (a mutation file's processing codes are still checked when it has the column)."""
    return "mutation" if kind == "mutation" else "full"


def writes_register(kind: str) -> bool:
    return kind != CHECK_ONLY


# --- a policy's rows -----------------------------------------------------------------------------


# `map` with these runs in C: cheaper than a comprehension for a policy's few rows.
_ROW = attrgetter("row")
_PARTY = attrgetter("party")
_ROLE = attrgetter("role")
_POLICY = attrgetter("policy")

# The policy's own columns, repeated on each of its rows: (PolicyFields attribute, label).
_POLICY_COLUMNS = (
    ("branch", "PP_BRANCHE"),
    ("product", "PP_PRODUCC"),
    ("start_date", "PP_INGDAT"),
    ("end_date", "PP_EXPDAT"),
    ("processing_code", "PP_VRWRKCD"),
    ("modules", "PP_DEKKING"),
    ("conditions", "PP_VOORW"),
    ("clauses", "PP_CLAUSULES"),
    ("deductible_eur", "PP_EIGENRISICO"),
    ("household", "PP_GEZIN"),
)
_UNORDERED = frozenset({"modules", "clauses"})  # `RP|VK` and `VK|RP` are one coverage
# Processing codes that do something else than store the policy: `0` new and `1` changed both
# store it (a mutation may mark the row of a party it adds `0` beside the others' `1`).
_OWN_EFFECT_CODES = frozenset({"2", "4"})


def _comparable(name: str, value: Any) -> Any:
    """A policy column's checked value as it compares whatever notation the row used."""
    if name in _UNORDERED:
        return frozenset(value)
    if name == "processing_code" and value not in _OWN_EFFECT_CODES:
        return "store"
    return value


def _given_values(policies: Sequence[PolicyFields]) -> list[list[tuple[int, Any, Any]]]:
    """Per policy column, the values its rows give: (row index, value, comparable). A row that
    leaves an optional column empty gives nothing (an export may write the policy's details on
    the policyholder's row only)."""
    return [
        [
            (index, value, _comparable(name, value))
            for index, value in enumerate(getattr(policy, name) for policy in policies)
            if value is not None and value != ()
        ]
        for name, _ in _POLICY_COLUMNS
    ]


def agreed_policy(policies: Sequence[PolicyFields]) -> PolicyFields | None:
    """The policy its rows give together (`92` and `092` agree; an empty optional column agrees
    with any value): each column the value the rows give, the first row's where it gives one;
    None when two rows give a column two values. Rows that repeat the same text share one
    `PolicyFields` (rules.rows checks a run of equal values once): the ingest finds those with
    one `list.count` in C and calls this only when some row differs."""
    chosen: dict[str, Any] = {}
    for (name, _), given in zip(_POLICY_COLUMNS, _given_values(policies), strict=True):
        if len({comparable for _, _, comparable in given}) > 1:
            return None
        if given and given[0][0] > 0:
            chosen[name] = given[0][1]
    return replace(policies[0], **chosen) if chosen else policies[0]


def _disagreement(group: PolicyGroup) -> RowError | None:
    """The policy columns its valid rows give two values for, at the first row that gives one
    other than the first: the register cannot tell which row is the policy."""
    rows = [
        (o.row.policy, line) for o, line in zip(group.outcomes, group.lines, strict=True) if o.row
    ]
    if len(rows) < 2 or agreed_policy([policy for policy, _ in rows]) is not None:
        return None
    labels: list[str] = []
    differing: list[int] = []
    for (_, label), given in zip(_POLICY_COLUMNS, _given_values([p for p, _ in rows]), strict=True):
        other = [index for index, _, comparable in given if comparable != given[0][2]]
        if other:
            labels.append(label)
            differing.append(other[0])
    return message(
        "policy_rows_disagree",
        line=rows[min(differing)][1],
        column="/".join(labels),
        policy=group.policy_number,
        columns=", ".join(labels),
    )


class PolicyGroup:
    """The consecutive rows of one policy (a policy's rows must be adjacent in a file). A plain
    class with slots: one is made per policy, so its construction is on the ingest's hot path.
    The ingest appends each row's outcome and line to `outcomes` and `lines` while the policy
    has fewer than MAX_ROWS_PER_POLICY, and counts any further row in `overflow`."""

    __slots__ = ("lines", "outcomes", "overflow", "policy_number")

    def __init__(self, policy_number: str | None) -> None:
        self.policy_number = policy_number
        self.outcomes: list[RowOutcome] = []
        self.lines: list[int] = []
        self.overflow = 0  # rows past MAX_ROWS_PER_POLICY: counted, not kept


class GroupVerdict(NamedTuple):
    """Either `rows` (the policy may be written) or the errors that refuse it."""

    rows: list[ValidRow] | None
    rejected_rows: int = 0
    errors: Sequence[RowError] = ()


def _policy_reason(group: PolicyGroup) -> RowError | None:
    """Why a policy whose rows are each valid still cannot be written, if it cannot."""
    if group.overflow:
        return message(
            "too_many_parties",
            line=group.lines[0],
            policy=group.policy_number,
            limit=MAX_ROWS_PER_POLICY,
        )
    disagreement = _disagreement(group)
    if disagreement is not None:
        return disagreement
    parties = [o.row.party for o in group.outcomes if o.row]
    if not told_apart(parties):
        # Two rows that would be the same client (twins with the same initials and no first
        # names, or a row repeated): storing both is impossible, storing one would lose one.
        return message(
            "duplicate_party",
            line=group.lines[0],
            policy=group.policy_number,
        )
    if sum(1 for party in parties if party.role == "VP") != 1:
        return message(
            "policy_needs_one_policyholder",
            line=group.lines[0],
            policy=group.policy_number,
            column="ENTITEIT",
        )
    return None


def writable_rows(group: PolicyGroup) -> list[ValidRow] | None:
    """The policy's rows when it may be written as it is (every row valid, no two giving a policy
    column two values, one policyholder, every party told apart, within the limit), each with
    the policy they give together; None: `judge_group` says why not. Decides the common cases
    (one row; a household repeating its policy columns) building nothing but the list of
    rows."""
    outcomes = group.outcomes
    if group.overflow:
        return None
    if len(outcomes) == 1:
        row = outcomes[0].row
        return [row] if row is not None and row.party.role == "VP" else None
    rows = list(map(_ROW, outcomes))
    # `all`, not `None in rows`: `in` compares each ValidRow with None through the dataclass's
    # Python-level __eq__ (a call a row); a ValidRow is always true, a missing row None.
    if not all(rows):
        return None
    valid = cast(list[ValidRow], rows)
    policies = list(map(_POLICY, valid))
    if policies.count(policies[0]) != len(policies):
        policy = agreed_policy(policies)
        if policy is None:
            return None
        valid = [ValidRow(row.line, policy, row.party) for row in valid]
    parties = list(map(_PARTY, valid))
    if list(map(_ROLE, parties)).count("VP") != 1:
        return None
    return valid if told_apart(parties) else None


def judge_group(group: PolicyGroup) -> GroupVerdict:
    """A policy is written whole or not at all: every row valid, no two rows giving a policy
    column two values (which would be the policy?), one policyholder, no party twice,
    at most MAX_ROWS_PER_POLICY rows. Otherwise every row is rejected, each with why."""
    rows = writable_rows(group)
    if rows is not None:
        return GroupVerdict(rows)
    invalid = [o for o in group.outcomes if o.errors or o.row is None]
    if group.overflow:
        reason: RowError | None = _policy_reason(group)
    else:
        reason = None if invalid else _policy_reason(group)
    if not invalid and reason is None:
        return GroupVerdict([o.row for o in group.outcomes if o.row is not None])
    errors = [error for outcome in invalid for error in outcome.errors]
    if reason is not None:
        errors.append(reason)
    else:
        invalid_ids = {id(o) for o in invalid}
        errors.extend(
            message(
                "policy_has_rejected_rows",
                line=line,
                policy=group.policy_number,
            )
            for outcome, line in zip(group.outcomes, group.lines, strict=True)
            if id(outcome) not in invalid_ids
        )
    return GroupVerdict(None, len(group.outcomes) + group.overflow, errors)


_SURNAME = PARTY_VALUE_LABELS.index("ANAAM")
_BIRTH_DATE = PARTY_VALUE_LABELS.index("GEBDAT")


def of_unknown_policy(outcome: RowOutcome) -> bool:
    """A row whose policy number could not be read (empty, or not one) but that carries a party
    (a surname or a birth date): it may be a row of any policy. A line with neither (a footer,
    a DOS end-of-file mark) is no row of a policy."""
    if outcome.policy_number is not None:
        return False
    party = outcome.party_values
    return bool(party) and bool(party[_SURNAME] or party[_BIRTH_DATE])


def rows_of_unknown_policy(outcomes: Sequence[RowOutcome]) -> int:
    """The rows of a refused group that may have been any policy's (`of_unknown_policy`)."""
    return sum(map(of_unknown_policy, outcomes))


def rows_not_adjacent(group: PolicyGroup) -> RowError:
    return message(
        "policy_rows_not_adjacent",
        line=group.lines[0],
        policy=group.policy_number,
        column="PP_NUMMER",
    )


def policy_refused(group: PolicyGroup, line: int) -> RowError:
    return message(
        "storage_refused",
        key="policy_storage_refused",
        line=line,
        policy=group.policy_number,
    )


def storage_refused() -> RowError:
    return message(
        "storage_refused",
    )


# The status a full delivery gives the active policies it no longer contains.
REMOVED_FROM_PORTFOLIO = "removed_from_portfolio"


# --- a stored policy -----------------------------------------------------------------------------


def last_change(policy: Mapping[str, Any]) -> str:
    """The newest delivery that changed the policy: its data, or its status (a removal)."""
    return max(str(policy.get("data_seq", "")), str(policy.get("status_seq", "")))


def superseded(current: Mapping[str, Any] | None, seq: str) -> bool:
    """A later delivery already changed the policy: this delivery's rows do not apply."""
    return current is not None and last_change(current) > seq


def portfolio_replaced_since(full_seq: str, seq: str) -> bool:
    """A newer full delivery of the partner has already replaced the whole portfolio (its
    notification came first): every row of this older delivery is superseded, as it would have
    been had the two arrived in order."""
    return full_seq > seq


def unchanged(
    current: Mapping[str, Any] | None, content_hash: str, seq: str, earliest_expiry: int | None
) -> bool:
    """The policy is stored exactly as this delivery has it, and its stored expiry is no earlier
    than `earliest_expiry` (a write `RETENTION_REFRESH_MONTHS` ago would have set that; None
    when that is 0: every re-delivery is written, even one in the same second): there
    is nothing to write. A retry of the delivery that wrote it always writes again (a write
    cut short must be completed). A policy a full delivery removed from the portfolio is
    written again: its stored content, status aside, may well be what this delivery has."""
    return (
        current is not None
        and earliest_expiry is not None
        and current.get("status") != REMOVED_FROM_PORTFOLIO
        and current.get("content_hash") == content_hash
        and current.get("data_seq") != seq
        and int(current.get("expires_at", 0)) >= earliest_expiry
    )


def written_earlier_in_delivery(
    current: Mapping[str, Any] | None, seq: str, group: PolicyGroup
) -> bool:
    """This delivery already wrote the policy from other rows: its rows are split in the file.
    (The same rows written again — a retry of the same batch — are fine.)"""
    return (
        current is not None
        and current.get("data_seq") == seq
        and int(current.get("source_line", group.lines[0])) != group.lines[0]
    )


def status_after(
    policy: PolicyFields, current: Mapping[str, Any] | None, day: str
) -> tuple[str, str | None]:
    """The written policy's status and the day it ended, by the row's processing code."""
    if policy.processing_code == "2":
        # Cancelled: cover ends at PP_EXPDAT when given (it may lie ahead), else today.
        return "cancelled", policy.end_date or day
    if policy.processing_code == "4" and current is not None:
        # "For information": the contract itself did not change.
        return str(current.get("status", "active")), current.get("ended_on")
    return "active", None


def was_active_before(current: Mapping[str, Any] | None, seq: str) -> bool:
    """An active policy from an earlier delivery (the base of the removal share)."""
    return (
        current is not None
        and current.get("status") == "active"
        and str(current.get("first_seen_seq", seq)) < seq
    )


def missing_from(policy: Mapping[str, Any], seq: str, day: str) -> bool:
    """Active, not in the full delivery `seq` (read fresh, not from the lagging index), and
    not ended by its own end date before the delivery's `day`: a partner's current portfolio
    leaves out the policies that ran out, which need no ending and are no sign of a truncated
    file (the API already shows them `ended`)."""
    if policy.get("status") != "active" or str(policy.get("seen_seq", "")) >= seq:
        return False
    end = policy.get("end_date")
    return not (end and str(end) < day)


class PolicyNumbers:
    """A set of policy numbers kept as sorted 8-byte digests: 8 bytes a policy, so the
    ~600,000 policies of a 1M-row delivery take about 5 MB (a set of strings would take ten
    times that). Two numbers sharing a digest (odds ~1e-8 at that size) would keep a missing
    policy from being ended, never end a delivered one."""

    # Numbers added one batch at a time wait in a set until there are this many, then are merged
    # into the sorted digests (a merge per 65,536 numbers, not one per batch).
    MERGE_AT = 65_536

    def __init__(self, numbers: Iterable[str] = ()) -> None:
        self._digests = array("Q", sorted(self._digest(number) for number in numbers))
        self._recent: set[int] = set()

    def add(self, numbers: Iterable[str]) -> None:
        self._recent.update(self._digest(number) for number in numbers)
        if len(self._recent) >= self.MERGE_AT:
            self._digests = array("Q", sorted({*self._digests, *self._recent}))
            self._recent = set()

    @staticmethod
    def _digest(number: str) -> int:
        return int.from_bytes(hashlib.blake2b(number.encode(), digest_size=8).digest(), "big")

    def __contains__(self, number: object) -> bool:
        if not isinstance(number, str):
            return False
        digest = self._digest(number)
        if digest in self._recent:
            return True
        at = bisect_left(self._digests, digest)
        return at < len(self._digests) and self._digests[at] == digest

    def __len__(self) -> int:
        return len(self._digests) + len(self._recent)


def ended_by(policy: Mapping[str, Any], seq: str) -> bool:
    return policy.get("status") == REMOVED_FROM_PORTFOLIO and policy.get("status_seq") == seq


# --- the delivery --------------------------------------------------------------------------------


def no_valid_rows(progress: Progress) -> bool:
    """Every row was refused: nothing of the file is stored, so the file is rejected."""
    return bool(progress.rows_rejected) and not (progress.rows_accepted or progress.rows_superseded)


def reconcilable(kind: str, progress: Progress) -> bool:
    """Only a complete full delivery with stored rows may end the policies it lacks: not one
    with a line that could not be read into values, which may have held any policy."""
    return (
        kind == "full"
        and not progress.rejected
        and not progress.truncated
        and not progress.unreadable_lines
        and not progress.rows_of_unknown_policy
        and progress.rows_accepted > 0
    )


def unreconciled_warning(kind: str, progress: Progress) -> Notice | None:
    """Why a full delivery that stored rows ends none of the policies it lacks (a check's
    report says it too: why the real delivery of the file would not); None when it may."""
    if progress.rejected or kind not in ("full", CHECK_ONLY):
        return None
    if progress.truncated:
        return notice("incomplete_not_reconciled") if kind == "full" else None
    if progress.unreadable_lines:
        return notice("unreadable_not_reconciled", count=progress.unreadable_lines)
    if progress.rows_of_unknown_policy:
        return notice("unknown_policy_not_reconciled", count=progress.rows_of_unknown_policy)
    if kind == "full" and not reconcilable(kind, progress):
        return notice("incomplete_not_reconciled")
    return None


@dataclass(frozen=True)
class RemovalDecision:
    missing: int
    base: int
    share: float
    held: bool


def decide_removals(missing: int, existing_active_seen: int, max_pct: float) -> RemovalDecision:
    """End the missing policies now, or hold the delivery when they are too large a share of
    the portfolio (a partner that sent half a file by mistake)."""
    base = missing + existing_active_seen
    share = 100.0 * missing / base if base else 0.0
    return RemovalDecision(missing, base, share, held=bool(missing) and share > max_pct)


def held_warning(decision: RemovalDecision) -> Notice:
    return notice(
        "removals_held",
        missing=decision.missing,
        base=decision.base,
        share=f"{decision.share:.0f}",
    )


def final_status(progress: Progress) -> DeliveryStatus:
    if progress.rejected:
        return "rejected"
    if progress.phase == "held":
        return "held_for_review"
    if progress.rows_rejected or progress.truncated:
        return "accepted_with_errors"
    return "accepted"
