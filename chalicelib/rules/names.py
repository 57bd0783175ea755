"""How a name typed by a call-centre employee is read: which words are the surname, which are
tussenvoegsels and which are a first name or initials, in whatever order they were heard.

``Kees Visser``, ``Visser, Kees``, ``Graaf de``, ``de Graaf``, ``MEER, Y VAN DER`` (``Y`` is an
initial, not the Spanish ``y``), ``J.P. van den Berg``, double surnames
(``Schafer-van der Meer``) and surname-first without a comma (``Visser Kees``). Where the words
allow more than one reading (``Jansen Smit``: a double surname, or first name ``Jansen``?),
every reading is returned, the most likely first; the scorer takes the one that fits a
candidate best.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from chalicelib.normalise import (
    APOSTROPHES,
    TUSSENVOEGSEL_WORDS,
    name_key,
    split_tussenvoegsels,
)

# One letter, or letters each followed by a dot: an initial or initials, never a tussenvoegsel
# (``MEER, Y VAN DER``) unless it is one of the written-out abbreviations below.
_INITIALS_RE = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]?\.?|[^\W\d_]")
_ABBREVIATED_TUSSENVOEGSELS = frozenset({"vd", "vd.", "v.d.", "v/d", "'t", "'s", "d'", "l'"})


@dataclass(frozen=True, slots=True)
class SpokenName:
    """One reading of a typed name. `surname` is the core surname as typed, a double surname
    with its hyphen and the second part's tussenvoegsels (``Schafer-van der Meer``);
    `tussenvoegsels` lower case or None; `given` the first name or initials as a key
    (``jp``, ``kees``) or None."""

    surname: str
    tussenvoegsels: str | None = None
    given: str | None = None


def _is_tussenvoegsel(token: str) -> bool:
    word = token.lower()
    if word in _ABBREVIATED_TUSSENVOEGSELS:
        return True
    return word in TUSSENVOEGSEL_WORDS and _INITIALS_RE.fullmatch(token) is None


def _is_initials(token: str) -> bool:
    return _INITIALS_RE.fullmatch(token) is not None and not _is_tussenvoegsel(token)


def _given(tokens: list[str]) -> str | None:
    return name_key("".join(tokens)) or None


def _tussenvoegsels(*runs: list[str]) -> str | None:
    words = [t.lower() for run in runs for t in run]
    return " ".join(words) or None


def _split_core(core: str) -> tuple[str, list[str]]:
    """A surname written with its tussenvoegsels before or after it (``van der Meer``,
    ``Meer van der``): (surname, tussenvoegsel words)."""
    tokens = core.split()
    end = len(tokens)
    while end > 1 and _is_tussenvoegsel(tokens[end - 1]):
        end -= 1
    trailing = tokens[end:]
    surname, leading = split_tussenvoegsels(" ".join(tokens[:end]))
    return surname, (leading.split() if leading else []) + trailing


def _with_comma(core: str, rest: str) -> tuple[SpokenName, ...]:
    surname, core_tussenvoegsels = _split_core(core)
    tokens = rest.split()
    rest_tussenvoegsels = [t for t in tokens if _is_tussenvoegsel(t)]
    given = [t for t in tokens if not _is_tussenvoegsel(t)]
    if not name_key(surname):
        return ()
    return (
        SpokenName(
            surname, _tussenvoegsels(core_tussenvoegsels, rest_tussenvoegsels), _given(given)
        ),
    )


def _without_comma(text: str) -> tuple[SpokenName, ...]:
    # A double surname: everything after the hyphen is the second surname with its own
    # tussenvoegsels; the first part is read like any name.
    first, hyphen, second = (part.strip() for part in text.partition("-"))
    tokens = first.split()
    if not tokens:
        return ()
    # Tussenvoegsels heard after the surname ("Berg van der", "Graaf de") end the name.
    trailing_start = len(tokens)
    while trailing_start > 1 and _is_tussenvoegsel(tokens[trailing_start - 1]):
        trailing_start -= 1
    trailing_words = tokens[trailing_start:]
    tokens = tokens[:trailing_start]
    second_part = f"-{second}" if hyphen and second else ""
    leading_initials = 0
    while leading_initials < len(tokens) - 1 and _is_initials(tokens[leading_initials]):
        leading_initials += 1
    first_tussenvoegsel = next(
        (i for i in range(len(tokens) - 1) if _is_tussenvoegsel(tokens[i])), None
    )
    if first_tussenvoegsel is not None:
        # "Kees de Graaf", "J. van der Berg": what precedes the tussenvoegsels is the first name.
        end = first_tussenvoegsel
        while end < len(tokens) - 1 and _is_tussenvoegsel(tokens[end]):
            end += 1
        surname, trailing = _split_core(" ".join(tokens[end:]))
        return (
            SpokenName(
                surname + second_part,
                _tussenvoegsels(tokens[first_tussenvoegsel:end], trailing, trailing_words),
                _given(tokens[:first_tussenvoegsel]),
            ),
        )
    surname, trailing = _split_core(" ".join(tokens[leading_initials:]))
    tussenvoegsels = _tussenvoegsels(trailing, trailing_words)
    words = surname.split()
    if leading_initials or len(words) == 1:
        # "J.P. Berg", "Graaf de", "Schafer-van der Meer"
        return (
            SpokenName(surname + second_part, tussenvoegsels, _given(tokens[:leading_initials])),
        )
    # "Kees Visser", "Visser Kees" or the double surname "Jansen Smit": all three readings.
    return (
        SpokenName(" ".join(words[1:]) + second_part, tussenvoegsels, _given(words[:1])),
        SpokenName(words[0], tussenvoegsels, _given(words[1:])),
        SpokenName(surname + second_part, tussenvoegsels),
    )


def read_name(text: str) -> tuple[SpokenName, ...]:
    """Every plausible reading of a typed name, the most likely first; empty when the text
    holds no surname."""
    text = " ".join(text.translate(APOSTROPHES).split())
    if "," in text:
        core, _, rest = text.partition(",")
        return _with_comma(core, rest)
    return tuple(r for r in _without_comma(text) if name_key(r.surname))


# Identity resolution compares every delivered surname with the dozens of a bucket's clients,
# and the recognition with every candidate's: the same few thousand names, split again and
# again (about a fifth of resolution's own CPU).
@lru_cache(maxsize=8192)
def surname_parts(surname: str) -> tuple[str, ...]:
    """The folded core parts of a possibly double surname: ``Schafer-van der Meer`` ->
    ``("schafer", "meer")``; a single surname gives one part."""
    parts = (split_tussenvoegsels(part)[0] for part in surname.split("-") if part.strip())
    return tuple(key for key in (name_key(part) for part in parts) if key)
