"""Validation and normalisation of one portfolio row (docs/file-contract.md, the column table).

Pure: no I/O. The ingest maps the file's header once (`map_header`) and then calls
`validate_row` for every row with the values in file column order.

Required columns (a file without them cannot be read at all, `HeaderMap.missing`):

- ``full``: PP_NUMMER, PP_BRANCHE, PP_INGDAT, PP_DEKKING, ANAAM, HUISNR, PCODE;
- ``mutation``: the same plus PP_VRWRKCD.

PCODE is a required *column*: every Dutch address needs one, and a portfolio of a Dutch insurer
without a single Dutch address is a broken export, not a foreign portfolio (rows with another
LAND may leave it empty). GEBDAT is *not* a required column: legal entities have no birth date,
so a file of companies may lack it; a missing GEBDAT column makes every natural-person row fail
with ``required``. A party label counts as present with or without entity prefix
(``VP_ANAAM`` satisfies ANAAM).

Entity prefixes: a party label may carry ``VP_``, ``SP_``, ``KN_`` or ``VZ_``. One row is one
party, so a row's role is the prefix whose columns hold values (a file may have ``VP_ANAAM`` and
``SP_ANAAM`` columns; a row filling the SP columns is an SP party). A row filling the columns of
two prefixes is rejected (``multiple_parties``); an ``ENTITEIT`` value that contradicts the
prefix is ``invalid_role``. Unprefixed party columns apply to every role (fallback when the
prefixed column is empty).

Error codes (stable, used in delivery reports): ``required``, ``invalid_policy_number``,
``invalid_branch``, ``branch_not_in_scope``, ``invalid_date``, ``end_before_start``,
``invalid_modules``, ``invalid_processing_code``, ``invalid_deductible``,
``ambiguous_deductible``,
``invalid_household``, ``invalid_role``, ``multiple_parties``, ``invalid_gender``,
``invalid_name``, ``birth_date_in_future``, ``invalid_house_number``, ``invalid_country``,
``invalid_postcode``, ``invalid_email``, ``invalid_phone``, ``invalid_kvk``, ``value_too_long``.

Length bounds (`MAX_LENGTHS`): a value longer than its column's bound is ``value_too_long``
and the row's other checks of that part (policy or party) are skipped: such a value is a broken
export, and it must reach neither a DynamoDB key nor the rules' caches.

Messages never contain a delivered value, except a branch code (``branch_not_in_scope``):
a value in the wrong column may be personal data.

A BSN (``BSNR``, any prefix) is never read beyond "is it empty": a non-empty value only sets
``RowOutcome.bsn_dropped``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cached_property, lru_cache
from operator import gt, itemgetter
from typing import Final

from chalicelib.models.portfolio import (
    DeliveryKind,
    PartyFields,
    PartyRole,
    PolicyFields,
    RowError,
    RowOutcome,
    ValidRow,
)
from chalicelib.normalise import (
    name_key,
    normalise_country,
    normalise_email,
    normalise_house_number,
    normalise_house_number_addition,
    normalise_kvk,
    normalise_phone,
    normalise_policy_number,
    normalise_postcode,
    parse_date,
    split_tussenvoegsels,
    surname_key,
)

__all__ = [
    "BRANCHES_IN_SCOPE",
    "ENTITY_PREFIXES",
    "HEADER_LABELS",
    "MAX_LENGTHS",
    "MODULES",
    "PARTY_LABELS",
    "PARTY_VALUE_LABELS",
    "POLICY_LABELS",
    "POLICY_VALUE_LABELS",
    "PROCESSING_CODES",
    "REQUIRED_COLUMNS_FULL",
    "REQUIRED_COLUMNS_MUTATION",
    "ColumnRef",
    "HeaderMap",
    "map_header",
    "required_columns",
    "validate_row",
]

POLICY_LABELS: Final = (
    "PP_NUMMER",
    "PP_BRANCHE",
    "PP_PRODUCC",
    "PP_INGDAT",
    "PP_EXPDAT",
    "PP_VRWRKCD",
    "PP_DEKKING",
    "PP_VOORW",
    "PP_CLAUSULES",
    "PP_EIGENRISICO",
    "PP_GEZIN",
    "ENTITEIT",
)
PARTY_LABELS: Final = (
    "GESLACH",
    "ANAAM",
    "VOORV",
    "VOORL",
    "RNAAM",
    "GEBDAT",
    "STRAAT",
    "HUISNR",
    "TOEVOEG",
    "PCODE",
    "PLAATS",
    "LAND",
    "EMAIL",
    "TELNUM",
    "MOBIEL",
    "KVKNR",
    "BSNR",
)
HEADER_LABELS: Final = POLICY_LABELS + PARTY_LABELS

REQUIRED_COLUMNS_FULL: Final = (
    "PP_NUMMER",
    "PP_BRANCHE",
    "PP_INGDAT",
    "PP_DEKKING",
    "ANAAM",
    "HUISNR",
    "PCODE",
)
REQUIRED_COLUMNS_MUTATION: Final = (*REQUIRED_COLUMNS_FULL, "PP_VRWRKCD")

ENTITY_PREFIXES: Final[tuple[PartyRole, ...]] = ("VP", "SP", "KN", "VZ")
BRANCHES_IN_SCOPE: Final = frozenset({"090", "091", "092", "093", "990"})
MODULES: Final = frozenset({"RP", "VK", "WC", "IN", "FV"})
PROCESSING_CODES: Final = frozenset({"0", "1", "2", "4"})
_HOUSEHOLD_CODES: Final = frozenset({"A", "H", "I", "K"})
_GENDERS: Final = frozenset({"M", "V", "X", "R"})
_ROLES: Final[dict[str, PartyRole]] = {r: r for r in ENTITY_PREFIXES}
# A portfolio names few countries: each is looked up once.
_country = lru_cache(maxsize=256)(normalise_country)

# Longest value of each column, in characters (docs/file-contract.md, "Length bounds"). Every
# value lands in an item of an index (both project all attributes, and an item of an index is
# limited like any other); the policy number, surname, postcode, house number, e-mail, phone and
# KvK number also land in a key, which DynamoDB limits to 2,048 bytes (partition) and 1,024
# bytes (sort). tests/unit/test_row_bounds.py shows that no row within these bounds builds a key
# beyond those limits, in UTF-8 bytes, whatever characters it holds. PP_NUMMER has its own rule
# (1-30 characters, ``invalid_policy_number``), ENTITEIT too (one of VP, SP, KN, VZ).
MAX_LENGTHS: Final[dict[str, int]] = {
    "PP_BRANCHE": 10,
    "PP_PRODUCC": 100,
    "PP_INGDAT": 20,
    "PP_EXPDAT": 20,
    "PP_VRWRKCD": 10,
    "PP_DEKKING": 100,
    "PP_VOORW": 200,
    "PP_CLAUSULES": 500,
    "PP_EIGENRISICO": 30,
    "PP_GEZIN": 10,
    "GESLACH": 10,
    "ANAAM": 200,
    "VOORV": 50,
    "VOORL": 50,
    "RNAAM": 100,
    "GEBDAT": 20,
    "STRAAT": 200,
    "HUISNR": 30,
    "TOEVOEG": 20,
    "PCODE": 20,
    "PLAATS": 100,
    "LAND": 50,
    "EMAIL": 254,
    "TELNUM": 30,
    "MOBIEL": 30,
    "KVKNR": 20,
}

_POLICY_SET: Final = frozenset(POLICY_LABELS)
_PARTY_SET: Final = frozenset(PARTY_LABELS)


def required_columns(kind: DeliveryKind) -> tuple[str, ...]:
    return REQUIRED_COLUMNS_MUTATION if kind == "mutation" else REQUIRED_COLUMNS_FULL


# --- header -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ColumnRef:
    """A recognised column: its canonical `label`, the entity prefix it carried (party labels
    only) and the label as the file wrote it (upper case, trimmed) for error reports."""

    label: str
    entity: PartyRole | None = None
    source: str = ""

    @property
    def name(self) -> str:
        return self.source or self.label


_POLICY_FIELDS: Final = tuple(label for label in POLICY_LABELS if label != "ENTITEIT")
_PARTY_FIELDS: Final = tuple(label for label in PARTY_LABELS if label != "BSNR")
# The columns of `RowOutcome.policy_values` and `RowOutcome.party_values`, in their order.
POLICY_VALUE_LABELS: Final = _POLICY_FIELDS
PARTY_VALUE_LABELS: Final = _PARTY_FIELDS
_Getter = Callable[[Sequence[str]], tuple[str, ...]]
# PP_NUMMER is bounded by its own rule (`normalise_policy_number`), so it is never too long here.
_POLICY_LIMITS: Final = tuple(MAX_LENGTHS.get(label, 1 << 62) for label in _POLICY_FIELDS)
_PARTY_LIMITS: Final = tuple(MAX_LENGTHS[label] for label in _PARTY_FIELDS)


@dataclass(frozen=True, slots=True)
class _PartyPlan:
    """How to read the party fields (in `_PARTY_FIELDS` order) for one entity prefix. The
    getters work on the row's stripped values with a trailing "" that absent columns (-1) hit."""

    primary: _Getter
    names: tuple[str, ...]  # column label reported in errors
    fallback: _Getter | None = None  # unprefixed columns, used where the prefixed one is empty


@dataclass(frozen=True, slots=True)
class _Plan:
    width: int
    policy: _Getter  # values of _POLICY_FIELDS
    role: int  # column of ENTITEIT (-1: none)
    party: dict[PartyRole | None, _PartyPlan]  # None = unprefixed columns only
    # prefix -> its non-BSN columns' values (with the trailing "", so always a tuple)
    prefixes: tuple[tuple[PartyRole, _Getter], ...]
    # The first prefixed column: a shorter row (a JSON Lines object without such keys) has none.
    prefixed_from: int
    bsn: tuple[int, ...]
    # The last policy part checked in this file: ((its values, kind), result). One entry, kept
    # with the file's header (not in the module), replaced as a whole by one assignment.
    last_policy: list[tuple[tuple[tuple[str, ...], DeliveryKind], _CheckedPolicy]] = field(
        default_factory=lambda: [(((), "full"), (None, None, ()))], compare=False
    )


@dataclass(frozen=True)
class HeaderMap:
    """The file's header, mapped once. `columns` has one entry per input column (None =
    unknown/ignored); `unknown` the labels not recognised; `missing` the required labels with no
    column; `duplicates` labels that occur twice (the first one is used)."""

    columns: tuple[ColumnRef | None, ...]
    unknown: tuple[str, ...] = ()
    has_bsn: bool = False
    missing: tuple[str, ...] = ()
    duplicates: tuple[str, ...] = ()

    @cached_property
    def plan(self) -> _Plan:
        return _build_plan(self.columns)


def normalise_label(label: str) -> str:
    """A delivered label as the contract names it: BOM and spaces stripped, upper case."""
    return label.replace("\ufeff", "").strip().upper()


def _contract_column(text: str) -> ColumnRef | None:
    """The contract's column a normalised label names, or None."""
    if text in _POLICY_SET or text in _PARTY_SET:
        return ColumnRef(text, None, text)
    if len(text) > 3 and text[2] == "_" and text[:2] in _ROLES and text[3:] in _PARTY_SET:
        return ColumnRef(text[3:], _ROLES[text[:2]], text)
    return None


def map_header(labels: Sequence[str], kind: DeliveryKind) -> HeaderMap:
    """Map the delivered labels (case-insensitive, trimmed, BOM stripped) onto the contract."""
    columns: list[ColumnRef | None] = []
    unknown: list[str] = []
    duplicates: list[str] = []
    seen: set[tuple[str, str | None]] = set()
    for raw in labels:
        text = normalise_label(raw)
        ref = _contract_column(text)
        if ref is None:
            if text:
                unknown.append(raw.strip())
            columns.append(None)
            continue
        key = (ref.label, ref.entity)
        if key in seen:
            duplicates.append(text)
            columns.append(None)
            continue
        seen.add(key)
        columns.append(ref)
    present = {c.label for c in columns if c is not None}
    missing = tuple(label for label in required_columns(kind) if label not in present)
    return HeaderMap(
        columns=tuple(columns),
        unknown=tuple(unknown),
        has_bsn="BSNR" in present,
        missing=missing,
        duplicates=tuple(duplicates),
    )


def kept_labels(labels: Sequence[str]) -> list[str]:
    """The labels as they may be stored (with a delivery's checkpoint, to read on after a
    hand-over): a label of the contract as delivered, every other one "" in its place. A file
    without its header row has a person's values where the labels should be (a BSN among
    them); what is not a label of the contract is never read, so nothing is lost."""
    return [label if _contract_column(normalise_label(label)) else "" for label in labels]


def _build_plan(columns: tuple[ColumnRef | None, ...]) -> _Plan:
    policy: dict[str, int] = {}
    plain: dict[str, int] = {}
    prefixed: dict[PartyRole, dict[str, int]] = {}
    bsn: list[int] = []
    for i, ref in enumerate(columns):
        if ref is None:
            continue
        if ref.label == "BSNR":
            bsn.append(i)
        elif ref.entity is not None:
            prefixed.setdefault(ref.entity, {})[ref.label] = i
        elif ref.label in _PARTY_SET:
            plain[ref.label] = i
        else:
            policy[ref.label] = i

    plain_getter = itemgetter(*(plain.get(label, -1) for label in _PARTY_FIELDS))
    party: dict[PartyRole | None, _PartyPlan] = {None: _PartyPlan(plain_getter, _PARTY_FIELDS)}
    for role, own in prefixed.items():
        party[role] = _PartyPlan(
            primary=itemgetter(*(own.get(label, plain.get(label, -1)) for label in _PARTY_FIELDS)),
            names=tuple(f"{role}_{label}" if label in own else label for label in _PARTY_FIELDS),
            fallback=plain_getter if any(label in plain for label in own) else None,
        )
    return _Plan(
        width=len(columns),
        policy=itemgetter(*(policy.get(label, -1) for label in _POLICY_FIELDS)),
        role=policy.get("ENTITEIT", -1),
        party=party,
        prefixes=tuple((role, itemgetter(*cols.values(), -1)) for role, cols in prefixed.items()),
        prefixed_from=min(
            (i for cols in prefixed.values() for i in cols.values()), default=1 << 62
        ),
        bsn=tuple(bsn),
    )


def _error(line: int, column: str, code: str, value: str = "") -> RowError:
    return RowError(line=line, column=column, code=code, params={"column": column, "value": value})


# --- row --------------------------------------------------------------------------------------


@lru_cache(maxsize=32)
def _iso(today: date) -> str:
    return today.isoformat()


@lru_cache(maxsize=1024)
def _modules(text: str) -> tuple[str, ...] | None:
    """``"RP|VK"`` -> ``("RP", "VK")``; None if any module is unknown or none is given."""
    out: list[str] = []
    for part in text.split("|"):
        code = part.strip().upper()
        if not code:
            continue
        if code not in MODULES:
            return None
        if code not in out:
            out.append(code)
    return tuple(out) if out else None


@lru_cache(maxsize=1024)
def _clauses(text: str) -> tuple[str, ...]:
    out: list[str] = []
    for part in text.split("|"):
        code = part.strip()
        if code and code not in out:
            out.append(code)
    return tuple(out)


_AMOUNT_RE = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,6})?")
# Digits in thousands groups: "1.250.000" (Dutch) or "1,250,000" (English).
_GROUPED_RE = {mark: re.compile(rf"[0-9]{{1,3}}(?:\{mark}[0-9]{{3}})*") for mark in ".,"}
_OTHER_MARK = {".": ",", ",": "."}


@lru_cache(maxsize=1024)
def _deductible(text: str) -> Decimal | str:
    """An amount in euro of 0 or more, else the error code. Accepted (docs/file-contract.md,
    "Amounts"): ``"250"``, ``"€ 250"``, a decimal comma or point (``"250,50"``, ``"250.5"``),
    thousands groups with the other mark as the decimal one (``"1.250,50"``, ``"1,250.50"``),
    thousands groups alone (``"1.250.000"``). One mark before exactly three digits
    (``"1.250"``, ``"1,250"``) is 1250 in one notation and 1.25 in the other:
    ``ambiguous_deductible``, never a guess."""
    text = text.replace("€", "").replace(" ", "")
    marks = [mark for mark in ".," if mark in text]
    if len(marks) == 2:
        decimal_mark = "." if text.rfind(".") > text.rfind(",") else ","
        whole, _, fraction = text.rpartition(decimal_mark)
        thousands = _OTHER_MARK[decimal_mark]
        if not _GROUPED_RE[thousands].fullmatch(whole):
            return "invalid_deductible"
        text = f"{whole.replace(thousands, '')}.{fraction}"
    elif marks:
        (mark,) = marks
        whole, _, fraction = text.partition(mark)
        if mark in fraction:
            if not _GROUPED_RE[mark].fullmatch(text):
                return "invalid_deductible"
            text = text.replace(mark, "")
        elif len(fraction) == 3 and len(whole) <= 3 and whole[:1] not in ("", "0"):
            return "ambiguous_deductible"
        else:
            text = f"{whole}.{fraction}"
    if _AMOUNT_RE.fullmatch(text) is None:
        return "invalid_deductible"
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the regex admits only valid decimals
        return "invalid_deductible"


# Bounded caches of values that repeat across a portfolio (a few MB when full, whatever the
# file's size): surnames (8,192 entries of about 330 bytes), house numbers, codes.
@lru_cache(maxsize=8192)
def _names(surname: str, tussenvoegsels: str, legal_entity: bool) -> tuple[str, str | None, str]:
    """(surname as stored, tussenvoegsels, matching key). Legal entities keep the full company
    name; their key is built the same way as a person's so one query normalisation fits both."""
    if legal_entity:
        return surname, (tussenvoegsels or None), surname_key(surname, tussenvoegsels or None)
    core, tv = split_tussenvoegsels(surname, tussenvoegsels or None)
    return core, tv, name_key(core)


@lru_cache(maxsize=256)
def _branch(text: str) -> str | None:
    """ADN branch code, zero-padded to 3 digits (a spreadsheet turns ``090`` into ``90``)."""
    if not text.isdigit() or not text.isascii() or len(text) > 3:
        return None
    return text.zfill(3)


# A portfolio's policies start and end on a few thousand distinct days (a cache of 8,192 holds
# 22 years of one date notation). Birth dates and postcodes are not cached: they vary too much
# for a bounded cache to hit often, and parsing one costs only a few cache lookups.
_policy_date = lru_cache(maxsize=8192)(parse_date)
_house_number = lru_cache(maxsize=4096)(normalise_house_number)
_addition = lru_cache(maxsize=1024)(normalise_house_number_addition)

# (column, code, value) of an error, without the line.
_Problem = tuple[str, str, str]
# (policy number when readable, the policy unless a problem, the problems)
_CheckedPolicy = tuple[str | None, PolicyFields | None, tuple[_Problem, ...]]


def _too_long(
    values: tuple[str, ...], limits: tuple[int, ...], columns: Sequence[str]
) -> list[_Problem]:
    """A ``value_too_long`` problem per value beyond its limit (`values`, `limits` and
    `columns` aligned); empty in the common case after one pass in C."""
    if not any(map(gt, map(len, values), limits)):
        return []
    return [
        (column, "value_too_long", str(limit))
        for value, limit, column in zip(values, limits, columns, strict=True)
        if len(value) > limit
    ]


def _check_policy(raw: tuple[str, ...], kind: DeliveryKind) -> _CheckedPolicy:
    """The policy part of a row (the values of `_POLICY_FIELDS`, stripped)."""
    (
        raw_number,
        raw_branch,
        product,
        raw_start,
        raw_end,
        raw_processing,
        raw_modules,
        conditions,
        clauses,
        raw_deductible,
        raw_household,
    ) = raw
    problems = _too_long(raw, _POLICY_LIMITS, _POLICY_FIELDS)
    if problems:
        # PP_NUMMER has its own bound: the policy stays recognisable for the report.
        return normalise_policy_number(raw_number), None, tuple(problems)

    policy_number: str | None = None
    if not raw_number:
        problems.append(("PP_NUMMER", "required", ""))
    else:
        policy_number = normalise_policy_number(raw_number)
        if policy_number is None:
            problems.append(("PP_NUMMER", "invalid_policy_number", ""))

    branch: str | None = None
    if not raw_branch:
        problems.append(("PP_BRANCHE", "required", ""))
    else:
        branch = _branch(raw_branch)
        if branch is None:
            problems.append(("PP_BRANCHE", "invalid_branch", ""))
        elif branch not in BRANCHES_IN_SCOPE:
            problems.append(("PP_BRANCHE", "branch_not_in_scope", branch))

    start: str | None = None
    if not raw_start:
        problems.append(("PP_INGDAT", "required", ""))
    else:
        start = _policy_date(raw_start)
        if start is None:
            problems.append(("PP_INGDAT", "invalid_date", ""))

    end: str | None = None
    if raw_end:
        end = _policy_date(raw_end)
        if end is None:
            problems.append(("PP_EXPDAT", "invalid_date", ""))
        elif start is not None and end < start:
            problems.append(("PP_EXPDAT", "end_before_start", ""))

    processing: str | None = None
    if raw_processing:
        if raw_processing in PROCESSING_CODES:
            processing = raw_processing
        else:
            problems.append(("PP_VRWRKCD", "invalid_processing_code", ""))
    elif kind == "mutation":
        problems.append(("PP_VRWRKCD", "required", ""))

    modules: tuple[str, ...] | None = None
    if not raw_modules.strip("| "):
        problems.append(("PP_DEKKING", "required", ""))
    else:
        modules = _modules(raw_modules)
        if modules is None:
            problems.append(("PP_DEKKING", "invalid_modules", ""))

    deductible: Decimal | None = None
    if raw_deductible:
        amount = _deductible(raw_deductible)
        if isinstance(amount, str):
            problems.append(("PP_EIGENRISICO", amount, ""))
        else:
            deductible = amount

    household: str | None = None
    if raw_household:
        household = raw_household.upper()
        if household not in _HOUSEHOLD_CODES:
            problems.append(("PP_GEZIN", "invalid_household", ""))
            household = None

    if problems:
        return policy_number, None, tuple(problems)
    assert policy_number is not None
    assert branch is not None
    assert start is not None
    assert modules is not None
    # Positional for speed, like PartyFields in `_check_party` (tests/unit/test_rows.py checks
    # every field by name).
    policy = PolicyFields(
        policy_number,
        branch,
        start,
        modules,
        product or None,
        end,
        processing,
        conditions or None,
        _clauses(clauses) if clauses else (),
        deductible,
        household,
    )
    return policy_number, policy, ()


def validate_row(
    values: Sequence[str],
    header: HeaderMap,
    *,
    kind: DeliveryKind,
    line: int,
    today: date,
) -> RowOutcome:
    """Validate and normalise one row; collect every error of the row.

    `values` are the row's fields in file column order ("" = empty; a short row counts as
    empty trailing fields). Returns a `RowOutcome` with either `row` or `errors` set."""
    plan = header.plan
    vals = list(map(str.strip, values))
    given = len(vals)
    if given < plan.width:
        vals.extend([""] * (plan.width - len(vals)))
    vals.append("")  # what absent columns (index -1) read

    bsn_dropped = False
    for i in plan.bsn:
        if vals[i]:
            bsn_dropped = True

    # --- policy ---
    # Every row of a policy repeats its policy values and a policy's rows are adjacent, so the
    # policy part is checked once per run of equal values; its rows share one (frozen) policy.
    policy_key = (plan.policy(vals), kind)
    last_key, checked = plan.last_policy[0]
    if policy_key != last_key:
        checked = _check_policy(*policy_key)
        plan.last_policy[0] = (policy_key, checked)
    else:
        policy_key = last_key  # the policy's rows share one tuple: the field counts see that
    policy_number, policy, problems = checked
    errors = [_error(line, *problem) for problem in problems] if problems else []

    role, prefix, role_problems = _party_role(vals, plan, prefixed=given > plan.prefixed_from)
    party_plan = plan.party[prefix]
    values = party_plan.primary(vals)
    names = party_plan.names
    if party_plan.fallback is not None:
        # An entity prefix (VP_ANAAM) wins; its unprefixed label (ANAAM) fills what it lacks.
        plain = party_plan.fallback(vals)
        names = tuple(
            name if value else label
            for name, value, label in zip(names, values, _PARTY_FIELDS, strict=True)
        )
        values = tuple(v or w for v, w in zip(values, plain, strict=True))
    party, party_problems = _check_party(values, names, role, today)

    if role_problems or party_problems:
        errors.extend(_error(line, *problem) for problem in (*role_problems, *party_problems))
    if errors or party is None:
        return RowOutcome(None, errors, policy_number, bsn_dropped, policy_key[0], values)
    assert policy is not None
    row = ValidRow(line=line, policy=policy, party=party)
    return RowOutcome(row, errors, policy_number, bsn_dropped, policy_key[0], values)


def _party_role(
    vals: Sequence[str], plan: _Plan, *, prefixed: bool
) -> tuple[PartyRole, PartyRole | None, list[_Problem]]:
    """The party's role and the entity prefix its columns carry (VP_ANAAM), if any: from
    `ENTITEIT`, or the prefix of its filled columns, which must agree; `VP` when neither says.
    `prefixed`: the row reaches a prefixed column (else none of them holds a value)."""
    raw_role = vals[plan.role]
    if not raw_role and not prefixed:
        return "VP", None, _NO_PROBLEMS
    problems: list[_Problem] = []
    role: PartyRole | None = None
    if raw_role:
        role = _ROLES.get(raw_role.upper())
        if role is None:
            problems.append(("ENTITEIT", "invalid_role", ""))
    prefix: PartyRole | None = None
    if prefixed:
        filled = [p for p, values in plan.prefixes if any(values(vals))]
        if len(filled) > 1:
            problems.append(("/".join(filled), "multiple_parties", ""))
        elif filled:
            prefix = filled[0]
            if role is not None and role != prefix:
                problems.append(("ENTITEIT", "invalid_role", ""))
    return prefix or role or "VP", prefix, problems


_NO_PROBLEMS: list[_Problem] = []  # shared, never appended to: returned when nothing is wrong


# Where each party field sits in `_PARTY_FIELDS` (and so in a row's party values and names).
_GENDER, _SURNAME, _BIRTH, _HOUSE, _POSTCODE, _COUNTRY, _EMAIL, _PHONE, _MOBILE, _KVK = (
    _PARTY_FIELDS.index(label)
    for label in (
        "GESLACH",
        "ANAAM",
        "GEBDAT",
        "HUISNR",
        "PCODE",
        "LAND",
        "EMAIL",
        "TELNUM",
        "MOBIEL",
        "KVKNR",
    )
)


def _check_party(
    values: tuple[str, ...], names: tuple[str, ...], role: PartyRole, today: date
) -> tuple[PartyFields | None, list[_Problem]]:
    """The party part of a row (the values of `_PARTY_FIELDS`, stripped; `names` the columns
    they came from, for the errors): the party, or the problems that refuse it."""
    problems = _too_long(values, _PARTY_LIMITS, names)
    if problems:
        return None, problems
    (
        raw_gender,
        raw_surname,
        voorv,
        initials,
        first_name,
        raw_birth,
        street,
        raw_house,
        raw_addition,
        raw_postcode,
        city,
        raw_country,
        raw_email,
        raw_phone,
        raw_mobile,
        raw_kvk,
    ) = values

    gender: str | None = None
    if raw_gender:
        gender = raw_gender.upper()
        if gender not in _GENDERS:
            problems.append((names[_GENDER], "invalid_gender", ""))
            gender = None
    legal = gender == "R"

    surname = key = ""
    tussenvoegsels: str | None = None
    if not raw_surname:
        problems.append((names[_SURNAME], "required", ""))
    else:
        surname, tussenvoegsels, key = _names(raw_surname, voorv, legal)
        if not key:
            problems.append((names[_SURNAME], "invalid_name", ""))

    birth: str | None = None
    if not legal:
        if not raw_birth:
            problems.append((names[_BIRTH], "required", ""))
        else:
            birth = parse_date(raw_birth)
            if birth is None:
                problems.append((names[_BIRTH], "invalid_date", ""))
            elif birth > _iso(today):
                problems.append((names[_BIRTH], "birth_date_in_future", ""))

    house = ""
    addition: str | None = None
    if not raw_house:
        problems.append((names[_HOUSE], "required", ""))
    else:
        parsed = _house_number(raw_house)
        if parsed is None:
            problems.append((names[_HOUSE], "invalid_house_number", ""))
        else:
            house, addition = parsed
    if raw_addition:
        addition = _addition(raw_addition)

    country = "NL"
    if raw_country and raw_country != "NL":
        found = _country(raw_country)
        if found is None:
            problems.append((names[_COUNTRY], "invalid_country", ""))
        else:
            country = found

    postcode: str | None = None
    if country == "NL":
        if not raw_postcode:
            problems.append((names[_POSTCODE], "required", ""))
        else:
            postcode = normalise_postcode(raw_postcode)
            if postcode is None:
                problems.append((names[_POSTCODE], "invalid_postcode", ""))
    elif raw_postcode:
        postcode = raw_postcode

    # Optional contact values (empty in most rows: no call then).
    email = raw_email and _optional(
        raw_email, normalise_email, names[_EMAIL], "invalid_email", problems
    )
    phone = raw_phone and _optional(
        raw_phone, normalise_phone, names[_PHONE], "invalid_phone", problems
    )
    mobile = raw_mobile and _optional(
        raw_mobile, normalise_phone, names[_MOBILE], "invalid_phone", problems
    )
    kvk = raw_kvk and _optional(raw_kvk, normalise_kvk, names[_KVK], "invalid_kvk", problems)

    if problems:
        return None, problems
    # Positional on purpose: with 19 keyword arguments the call costs about 5 µs more per row
    # (measured), half the validation budget. tests/unit/test_rows.py fills every field with a
    # distinct value and compares with a PartyFields built by keyword, so a swap fails there.
    party = PartyFields(
        role,
        legal,
        surname,
        key,
        gender,
        tussenvoegsels,
        initials or None,
        first_name or None,
        birth,
        street or None,
        house,
        addition,
        postcode,
        city or None,
        country,
        email or None,
        phone or None,
        mobile or None,
        kvk or None,
    )
    return party, problems


def _optional(
    raw: str,
    normalise: Callable[[str], str | None],
    column: str,
    code: str,
    problems: list[_Problem],
) -> str | None:
    """A given optional value, normalised; a problem if it is not valid."""
    value = normalise(raw)
    if value is None:
        problems.append((column, code, ""))
    return value
