"""How one field of a query matched one delivered party: the explanation an employee reads
before saying any personal data out loud, and the part of the score that field earns.

Kinds: ``exact`` (equal after normalisation), ``phonetic`` (sounds the same in Dutch:
``Meijer``/``Meyer``), ``similar`` (a typo, one part of a double surname, another
tussenvoegsel, an initial for a first name; with a similarity 0..1), ``different``,
``not given`` (the query did not have the field).

String similarity is rapidfuzz's Jaro-Winkler and optimal string alignment distance (an edit
distance that counts two swapped neighbours as one edit): C implementations, maintained, and the
same metrics a hand-written version would approximate more slowly.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz.distance import OSA, JaroWinkler

from chalicelib.normalise import name_key, parse_date
from chalicelib.rules.names import SpokenName, surname_parts
from chalicelib.rules.phonetic import phonetic_key

EXACT = "exact"
PHONETIC = "phonetic"
SIMILAR = "similar"
DIFFERENT = "different"
NOT_GIVEN = "not given"
OTHER_ADDRESS = "other address"

# Jaro-Winkler at or above this is a typo of the same name (``Visser``/``Vissser`` 0.97,
# ``Aydin``/``Ayydin`` 0.96), below it another name (``Vries``/``Vos`` 0.78,
# ``Jansen``/``Janssens`` is phonetic anyway).
SIMILAR_AT = 0.88
# One part of a double surname, or the same surname with other tussenvoegsels.
PART_SIMILARITY = 0.9
OTHER_TUSSENVOEGSEL_SIMILARITY = 0.95
INITIAL_SIMILARITY = 0.9
SWAPPED_DATE_SIMILARITY = 0.8
# A typo adds or drops a letter or two, not a syllable.
MAX_LENGTH_DIFFERENCE = 2
# Names shorter than this are too short for one wrong letter to say "the same name".
MIN_TYPO_LENGTH = 3

# Abbreviations callers and partners write for "van de", "van den" and "van der".
_VAN_D_ABBREVIATIONS = frozenset({"vd", "vd.", "v.d.", "v/d", "v d"})


@dataclass(frozen=True, slots=True)
class FieldMatch:
    how: str
    similarity: float

    @property
    def matched(self) -> bool:
        return self.how not in (DIFFERENT, NOT_GIVEN)


_EXACT = FieldMatch(EXACT, 1.0)
_DIFFERENT = FieldMatch(DIFFERENT, 0.0)
NOT_GIVEN_MATCH = FieldMatch(NOT_GIVEN, 0.0)


def _tussenvoegsels_agree(asked: str | None, delivered: str | None) -> bool:
    """A caller who leaves the tussenvoegsels out says nothing against them; ``vd`` agrees
    with any ``van de``/``van den``/``van der``."""
    if asked is None or asked == delivered:
        return True
    if delivered is None:
        return False
    if asked in _VAN_D_ABBREVIATIONS:
        return delivered.startswith("van d")
    if delivered in _VAN_D_ABBREVIATIONS:
        return asked.startswith("van d")
    return False


def _word_match(asked: str, delivered: str) -> FieldMatch:
    """Two folded words: exact, phonetic, a typo (similar) or different."""
    if asked == delivered:
        return _EXACT
    similarity = JaroWinkler.normalized_similarity(asked, delivered)
    if phonetic_key(asked) == phonetic_key(delivered):
        return FieldMatch(PHONETIC, round(similarity, 2))
    # One letter changed, added, dropped, or two neighbours swapped (optimal string
    # alignment): a typist's slip, also in a three-letter name (``Bos``/``Bso``), where
    # Jaro-Winkler alone is too low.
    typo = len(asked) >= MIN_TYPO_LENGTH and OSA.distance(asked, delivered) <= 1
    # Jaro-Winkler rewards a shared beginning: Dijk/Dijkstra (0.9) are two names, not a typo.
    close = similarity >= SIMILAR_AT and abs(len(asked) - len(delivered)) <= MAX_LENGTH_DIFFERENCE
    if typo or close:
        return FieldMatch(SIMILAR, round(similarity, 2))
    return _DIFFERENT


def _rank(match: FieldMatch) -> tuple[int, float]:
    order = {EXACT: 3, PHONETIC: 2, SIMILAR: 1}
    return order.get(match.how, 0), match.similarity


def compare_surname(
    asked: SpokenName, delivered_surname: str, delivered_tussenvoegsels: str | None
) -> FieldMatch:
    """The asked surname against a delivered one. The whole surname (parts joined) is
    compared first; otherwise the best of each asked part against each delivered part
    (``Schafer`` for ``Schafer-van der Meer``, a birth name for a double name), which is at
    best ``similar``: a part alone is not the name."""
    asked_parts = surname_parts(asked.surname)
    delivered_parts = surname_parts(delivered_surname)
    if not asked_parts or not delivered_parts:
        return _DIFFERENT
    whole = _word_match("".join(asked_parts), "".join(delivered_parts))
    if whole.how == EXACT and not _tussenvoegsels_agree(
        asked.tussenvoegsels, delivered_tussenvoegsels
    ):
        return FieldMatch(SIMILAR, OTHER_TUSSENVOEGSEL_SIMILARITY)
    if whole.how in (EXACT, PHONETIC) or len(asked_parts) == len(delivered_parts):
        return whole
    best = max(
        (_word_match(a, d) for a in asked_parts for d in delivered_parts),
        key=_rank,
    )
    if not best.matched:
        return _DIFFERENT
    return FieldMatch(SIMILAR, round(min(best.similarity, PART_SIMILARITY), 2))


def compare_given(asked: str | None, first_name: str | None, initials: str | None) -> FieldMatch:
    """A first name or initials (as a key: ``kees``, ``jp``) against the delivered first name
    and initials. Initials against initials, or a first name against the first name, can be
    exact; an initial that fits the first name, or a first name that fits the initials, is
    similar (``J`` for ``Jan``). Twins ``Piet`` and ``Jan`` stay different."""
    if not asked:
        return NOT_GIVEN_MATCH
    first = name_key(first_name or "")
    delivered_initials = name_key(initials or "")
    if asked in (first, delivered_initials):
        return _EXACT
    if delivered_initials and len(asked) <= 3 and delivered_initials.startswith(asked):
        return _EXACT if len(asked) > 1 else FieldMatch(SIMILAR, INITIAL_SIMILARITY)
    if first:
        word = _word_match(asked, first)
        if word.matched:
            return word
        if len(asked) == 1 and first.startswith(asked):
            return FieldMatch(SIMILAR, INITIAL_SIMILARITY)
        return _DIFFERENT
    if delivered_initials and asked[0] == delivered_initials[0]:
        return FieldMatch(SIMILAR, INITIAL_SIMILARITY)
    return _DIFFERENT


def swapped_day_and_month(iso_date: str) -> str | None:
    """The date with its day and month swapped (``1980-12-03`` -> ``1980-03-12``), when that
    is another real date; None otherwise (the 3rd of March, the 13th of anything)."""
    swapped = parse_date(f"{iso_date[:4]}-{iso_date[8:10]}-{iso_date[5:7]}")
    return swapped if swapped != iso_date else None


def compare_birth_date(asked: str | None, delivered: str | None) -> FieldMatch:
    """ISO dates. Only a day and month swapped (``03-12`` heard for ``12-03``) is similar;
    any other difference is another person (``Jansen`` 1980 is not ``Jansen`` 1981)."""
    if not asked:
        return NOT_GIVEN_MATCH
    if asked == delivered:
        return _EXACT
    if delivered is not None and delivered == swapped_day_and_month(asked):
        return FieldMatch(SIMILAR, SWAPPED_DATE_SIMILARITY)
    return _DIFFERENT
