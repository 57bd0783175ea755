"""Field-level data quality of a delivery: per field of the file contract, how many rows fill
it, how many of those pass its checks, and which error codes rejected it; and how many valid
rows each query form of the legal service centre can find.

Pure counting, no I/O. The ingest feeds every validated row to a `FieldTally` (cheap: one
counter per distinct *shape* of row: which columns are filled, which errors it has) and folds
the tally into the delivery's `QualityCounts` at every checkpoint, so a resumed delivery counts
each row exactly once. Only counts are kept: never a delivered value.
"""

from __future__ import annotations

import hashlib
import heapq
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress
from operator import itemgetter
from typing import Final, Literal

from chalicelib.messages import describe
from chalicelib.models.portfolio import RowOutcome
from chalicelib.models.quality import (
    DeliveryQuality,
    ErrorCount,
    FieldCounts,
    FieldQuality,
    QualityCounts,
    QualitySnapshot,
    QualityTrendPoint,
    RecognisableShare,
    Scorecard,
)
from chalicelib.rules.rows import ENTITY_PREFIXES, PARTY_VALUE_LABELS, POLICY_VALUE_LABELS

__all__ = [
    "QUALITY_FIELDS",
    "QUERY_FORMS",
    "FieldTally",
    "QualityField",
    "client_entry",
    "count_clients",
    "field_score",
    "ranked",
    "scorecard",
    "summarise",
    "top_errors",
]

Applies = Literal["every row", "natural persons", "legal entities"]


@dataclass(frozen=True, slots=True)
class QualityField:
    """A field of the contract that recognition or coverage needs. A field of two columns is
    filled when `needs` of them are ("any": either, "all": both); it is valid when filled and
    none of its columns has an error."""

    name: str
    columns: tuple[str, ...]
    applies: Applies = "every row"
    needs: Literal["any", "all"] = "all"


QUALITY_FIELDS: Final = (
    QualityField("surname", ("ANAAM",)),
    QualityField("initials_or_first_name", ("VOORL", "RNAAM"), "natural persons", "any"),
    QualityField("birth_date", ("GEBDAT",), "natural persons"),
    QualityField("postcode_house_number", ("PCODE", "HUISNR")),
    QualityField("phone", ("TELNUM", "MOBIEL"), needs="any"),
    QualityField("email", ("EMAIL",)),
    QualityField("kvk", ("KVKNR",), "legal entities"),
    QualityField("end_date", ("PP_EXPDAT",)),
    QualityField("household", ("PP_GEZIN",)),
    QualityField("modules", ("PP_DEKKING",)),
    QualityField("conditions", ("PP_VOORW",)),
    QualityField("clauses", ("PP_CLAUSULES",)),
)

# The query forms of GET /v1/clients and the fields a valid row needs to be found by each.
QUERY_FORMS: Final[dict[str, tuple[str, ...]]] = {
    "policy_number": (),
    "address": ("postcode_house_number",),
    "name_birth_date": ("surname", "birth_date"),
    "phone": ("phone",),
    "email": ("email",),
    "kvk": ("kvk",),
}

# The columns the fields read, and where each sits in a row's policy or party values.
_POLICY_COLUMNS: Final = tuple(
    dict.fromkeys(c for f in QUALITY_FIELDS for c in f.columns if c in POLICY_VALUE_LABELS)
)
_PARTY_COLUMNS: Final = tuple(
    dict.fromkeys(c for f in QUALITY_FIELDS for c in f.columns if c in PARTY_VALUE_LABELS)
)
_PICK_POLICY: Final = itemgetter(*(POLICY_VALUE_LABELS.index(c) for c in _POLICY_COLUMNS))
_PICK_PARTY: Final = itemgetter(*(PARTY_VALUE_LABELS.index(c) for c in _PARTY_COLUMNS))
_COLUMN_ORDER: Final = _POLICY_COLUMNS + _PARTY_COLUMNS
_GENDER: Final = PARTY_VALUE_LABELS.index("GESLACH")
_PREFIXES: Final = frozenset(ENTITY_PREFIXES)
_NOTHING_FILLED: Final = (False,) * len(_COLUMN_ORDER)
# A valid row's shape as one int: bit i set when `_COLUMN_ORDER[i]` is filled, `_LEGAL_BIT` for
# a legal entity. `compress` picks the weights of a row's filled values in one pass in C, so a
# row costs a `sum` and a dict increment (the weight of a value no field reads is 0).
_POLICY_BITS: Final = tuple(
    1 << _COLUMN_ORDER.index(c) if c in _POLICY_COLUMNS else 0 for c in POLICY_VALUE_LABELS
)
_PARTY_BITS: Final = tuple(
    1 << _COLUMN_ORDER.index(c) if c in _PARTY_COLUMNS else 0 for c in PARTY_VALUE_LABELS
)
_LEGAL_BIT: Final = 1 << len(_COLUMN_ORDER)

# (which of `_COLUMN_ORDER` are filled, legal entity, (column, code) of each error, passed
#  validation): rows of one shape add the same to every count.
_Shape = tuple[tuple[bool, ...], bool, tuple[tuple[str, str], ...], bool]
# A count a shape adds to: ("rows",), ("valid_rows",), ("field", name, "applicable" | "filled"
# | "valid"), ("error", field name, code), ("form", query form).
_Key = tuple[str, ...]


def _label(column: str | None) -> str:
    """The contract label of an error's column: ``SP_EMAIL`` is ``EMAIL``."""
    if column is None:
        return ""
    if len(column) > 3 and column[2] == "_" and column[:2] in _PREFIXES:
        return column[3:]
    return column


class FieldTally:
    """Rows seen since the last fold, by shape: a portfolio has a few hundred shapes at most,
    so a row costs one counter increment and the fields are counted once per shape."""

    def __init__(self) -> None:
        self._shapes: Counter[_Shape] = Counter()
        # Valid rows (the common case, kept cheapest) by their shape as one int (`_LEGAL_BIT`).
        self._valid: dict[int, int] = {}

    def add_valid(self, outcomes: Iterable[RowOutcome]) -> None:
        """Rows that each passed validation (the rows of a policy judged writable): counted
        by the columns they fill, in one loop here rather than a call per row."""
        valid = self._valid
        # A policy's rows share one tuple of policy values: their bits are summed once.
        policy: tuple[str, ...] | None = None
        policy_bits = 0
        for outcome in outcomes:
            if outcome.policy_values is not policy:
                policy = outcome.policy_values
                policy_bits = sum(compress(_POLICY_BITS, policy))
            shape = policy_bits + sum(compress(_PARTY_BITS, outcome.party_values))
            if outcome.row.party.is_legal_entity:  # type: ignore[union-attr]
                shape += _LEGAL_BIT
            valid[shape] = valid.get(shape, 0) + 1

    def add_each(self, outcomes: Iterable[RowOutcome]) -> None:
        for outcome in outcomes:
            self.add(outcome)

    def add(self, outcome: RowOutcome) -> None:
        """One row, valid or not."""
        policy, party, errors = outcome.policy_values, outcome.party_values, outcome.errors
        if outcome.row is not None and not errors:
            self.add_valid((outcome,))
            return
        self._shapes[
            (
                tuple(map(bool, _PICK_POLICY(policy) + _PICK_PARTY(party)))
                if policy and party
                else _NOTHING_FILLED,
                bool(party) and party[_GENDER].upper() == "R",
                tuple((_label(e.column), e.code) for e in errors) if errors else (),
                outcome.row is not None,
            )
        ] += 1

    def fold_into(self, counts: QualityCounts) -> None:
        """Add the rows seen since the last fold to `counts`, and start afresh."""
        for bits, rows in self._valid.items():
            self._shapes[_valid_shape(bits)] += rows
        self._valid.clear()
        total: Counter[_Key] = Counter()
        for shape, rows in self._shapes.items():
            for key in _contribution(shape):
                total[key] += rows
        self._shapes.clear()
        for key, rows in total.items():
            _add(counts, key, rows)


def _valid_shape(bits: int) -> _Shape:
    """The shape of a valid row from `FieldTally.add_valid`'s int."""
    filled = tuple(bool(bits >> i & 1) for i in range(len(_COLUMN_ORDER)))
    return filled, bool(bits & _LEGAL_BIT), (), True


def _add(counts: QualityCounts, key: _Key, rows: int) -> None:
    kind = key[0]
    if kind == "rows":
        counts.rows += rows
    elif kind == "valid_rows":
        counts.valid_rows += rows
    elif kind == "form":
        counts.recognisable[key[1]] = counts.recognisable.get(key[1], 0) + rows
    else:
        tally = counts.fields.setdefault(key[1], FieldCounts())
        if kind == "error":
            tally.errors[key[2]] = tally.errors.get(key[2], 0) + rows
        else:
            setattr(tally, key[2], getattr(tally, key[2]) + rows)


def _applies(field: QualityField, legal: bool) -> bool:
    if field.applies == "natural persons":
        return not legal
    if field.applies == "legal entities":
        return legal
    return True


@lru_cache(maxsize=4096)
def _contribution(shape: _Shape) -> tuple[_Key, ...]:
    """What one row of this shape adds to the counts."""
    filled_flags, legal, errors, passed = shape
    filled_columns = {c for c, f in zip(_COLUMN_ORDER, filled_flags, strict=True) if f}
    keys: list[_Key] = [("rows",)]
    valid_fields: set[str] = set()
    for field in QUALITY_FIELDS:
        if not _applies(field, legal):
            continue
        keys.append(("field", field.name, "applicable"))
        codes = [code for column, code in errors if column in field.columns]
        keys.extend(("error", field.name, code) for code in codes)
        given = [c in filled_columns for c in field.columns]
        if any(given) if field.needs == "any" else all(given):
            keys.append(("field", field.name, "filled"))
            if not codes:
                keys.append(("field", field.name, "valid"))
                valid_fields.add(field.name)
    if passed:
        keys.append(("valid_rows",))
        keys.extend(
            ("form", form)
            for form, needed in QUERY_FORMS.items()
            if all(name in valid_fields for name in needed)
        )
    return tuple(keys)


# --- distinct clients --------------------------------------------------------------------------

# A query form as one bit of a number: the forms that find a client on one of its rows.
_FORM_BITS: Final = {form: 1 << i for i, form in enumerate(QUERY_FORMS)}
_FORMS_MASK: Final = (1 << 8) - 1


@lru_cache(maxsize=4096)
def _forms_of_party(party_filled: bytes, legal: bool) -> int:
    shape = ((False,) * len(_POLICY_COLUMNS) + tuple(map(bool, party_filled)), legal, (), True)
    return sum(_FORM_BITS[key[1]] for key in _contribution(shape) if key[0] == "form")


def client_entry(client_id: str, outcome: RowOutcome) -> int:
    """A client seen on a row that passed validation, as one number to count distinct clients
    by: 56 bits of a hash of its id (two of a million clients share them with a chance of about
    1 in 140,000, so the count is exact in practice), then the query forms that find it on this
    row (the forms `recognisable` counts rows by)."""
    assert outcome.row is not None
    forms = _forms_of_party(
        bytes(map(bool, _PICK_PARTY(outcome.party_values))), outcome.row.party.is_legal_entity
    )
    client = int.from_bytes(hashlib.blake2b(client_id.encode(), digest_size=7).digest(), "big")
    return client << 8 | forms


def count_clients(parts: Iterable[Iterable[int]]) -> tuple[int, dict[str, int]]:
    """Distinct clients, and per query form the clients it finds (on any of their rows), from
    `client_entry` numbers in parts that are each sorted (merged, never all held at once)."""
    by_forms: Counter[int] = Counter()
    current, forms = -1, 0
    for entry in heapq.merge(*parts):
        client = entry >> 8
        if client != current:
            if current >= 0:
                by_forms[forms] += 1
            current, forms = client, 0
        forms |= entry & _FORMS_MASK
    if current >= 0:
        by_forms[forms] += 1
    found = {
        form: sum(n for mask, n in by_forms.items() if mask & bit)
        for form, bit in _FORM_BITS.items()
    }
    return sum(by_forms.values()), found


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def summarise(counts: QualityCounts) -> DeliveryQuality:
    """The report's view of the counts: every field (also one no row applied to), with ratios."""
    fields = []
    for field in QUALITY_FIELDS:
        tally = counts.fields.get(field.name, FieldCounts())
        fields.append(
            FieldQuality(
                field=field.name,
                columns=list(field.columns),
                applicable=tally.applicable,
                filled=tally.filled,
                valid=tally.valid,
                completeness=_share(tally.filled, tally.applicable),
                validity=_share(tally.valid, tally.filled),
                errors=dict(sorted(tally.errors.items(), key=lambda kv: (-kv[1], kv[0]))),
            )
        )
    clients = counts.clients
    recognisable = [
        RecognisableShare(
            form=form,
            clients=None if clients is None else counts.recognisable_clients.get(form, 0),
            client_share=(
                None
                if clients is None
                else _share(counts.recognisable_clients.get(form, 0), clients)
            ),
            rows=counts.recognisable.get(form, 0),
            share=_share(counts.recognisable.get(form, 0), counts.valid_rows),
        )
        for form in QUERY_FORMS
    ]
    return DeliveryQuality(
        rows=counts.rows,
        valid_rows=counts.valid_rows,
        clients=clients,
        fields=fields,
        recognisable=recognisable,
    )


def field_score(fields: Iterable[FieldQuality]) -> tuple[float | None, float | None, float | None]:
    """(mean completeness, mean validity, score) over the fields that applied to any row; the
    score is the mean of completeness x validity (a field nobody filled counts as 0)."""
    applied = [f for f in fields if f.completeness is not None]
    if not applied:
        return None, None, None
    completeness = sum(f.completeness or 0.0 for f in applied) / len(applied)
    validities = [f.validity for f in applied if f.validity is not None]
    validity = sum(validities) / len(validities) if validities else None
    score = sum((f.completeness or 0.0) * (f.validity or 0.0) for f in applied) / len(applied)
    return (
        round(completeness, 4),
        (None if validity is None else round(validity, 4)),
        round(score, 4),
    )


def top_errors(error_counts: Mapping[str, int], limit: int) -> list[ErrorCount]:
    """The most frequent error codes (ties by code), each with what it means."""
    ordered = sorted(error_counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return [
        ErrorCount(
            code=code, rows=rows, message=describe(code, "nl"), message_en=describe(code, "en")
        )
        for code, rows in ordered
    ]


def scorecard(
    partner_id: str, history: Sequence[QualitySnapshot], *, top: int = 10, trend: bool = True
) -> Scorecard:
    """A partner's scorecard from its full deliveries' snapshots, newest first: the latest one
    in full, and (with `trend`) one point per snapshot, oldest first."""
    if not history:
        return Scorecard(partner_id=partner_id, delivery_id=None, score=None)
    latest = history[0]
    summary = summarise(latest.quality)
    points = []
    if trend:
        for snapshot in reversed(history):
            completeness, validity, _ = field_score(summarise(snapshot.quality).fields)
            points.append(
                QualityTrendPoint(
                    delivery_id=snapshot.delivery_id,
                    received_at=snapshot.received_at,
                    status=snapshot.status,
                    rows=snapshot.quality.rows,
                    completeness=completeness,
                    validity=validity,
                )
            )
    return Scorecard(
        partner_id=partner_id,
        delivery_id=latest.delivery_id,
        received_at=latest.received_at,
        status=latest.status,
        score=field_score(summary.fields)[2],
        fields=summary.fields,
        recognisable=summary.recognisable,
        top_errors=top_errors(latest.error_counts, top),
        trend=points,
    )


def ranked(cards: Iterable[Scorecard]) -> list[Scorecard]:
    """Worst first: partners without a scored full delivery, then by score, then by id."""
    return sorted(cards, key=lambda c: (c.score is not None, c.score or 0.0, c.partner_id))
