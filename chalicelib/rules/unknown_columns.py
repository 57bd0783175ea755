"""Which columns of a delivered file the report names as unknown (docs/file-contract.md, "The
report"): labels the contract does not know are not read, and a partner should learn which
(an export writing `EMAILADRES` for `EMAIL` delivers no e-mail address at all).

Labels only, never a value, and only labels that look like one: a file whose header did not
map is never listed (the ingest refuses it first: its labels may be a person's values), and a
label that could be a value anyway (digits, `@`, longer than a label) is not named, only said
to exist. At most `LISTED_AT_MOST` are named, each spelling once whatever its case."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Final

from chalicelib.models.delivery import Notice, notice
from chalicelib.rules.rows import normalise_label

LISTED_AT_MOST: Final = 10
# A column label as exporters write them: a letter, then letters, digits, spaces, `_ . -`, 40
# characters at most; no run of four digits (a BSN, a phone number, a date are values).
_LABEL_SHAPE: Final = re.compile(r"[^\W\d_][\w .\-]{0,39}")
_DIGITS: Final = re.compile(r"\d{4}")


def nameable(label: str) -> bool:
    """Whether the report may name `label`: it looks like a column label, not a value."""
    return bool(_LABEL_SHAPE.fullmatch(label)) and _DIGITS.search(label) is None


def note_unknown(named: Sequence[str], more: bool, labels: Iterable[str]) -> tuple[list[str], bool]:
    """The unknown labels to name after `labels` were seen besides the `named` ones: `named`
    first, then each new nameable label until `LISTED_AT_MOST`; `more` when a label is left
    unnamed (beyond the cap, or not nameable)."""
    kept = list(named)
    known = {normalise_label(label) for label in kept}
    for raw in labels:
        label = raw.strip()
        key = normalise_label(label)
        if not key or key in known:
            continue
        if len(kept) >= LISTED_AT_MOST or not nameable(label):
            more = True
            continue
        kept.append(label)
        known.add(key)
    return kept, more


def unknown_columns_warning(named: Sequence[str], more: bool) -> Notice | None:
    """The report's warning for the file's unknown columns, None when it had none."""
    if not named:
        return notice("unknown_columns_unnamed") if more else None
    return notice("unknown_columns", columns=", ".join([*named, "…"] if more else named))
