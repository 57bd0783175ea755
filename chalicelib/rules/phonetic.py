"""A phonetic key for Dutch surnames: two spellings a caller cannot tell apart on the phone get
the same key (``Meijer``/``Meyer``/``Meier``, ``Jansen``/``Janssen``, ``Kuijpers``/``Kuipers``,
``Müller``/``Mueller``, ``Smit``/``Schmidt``/``Smidt``, ``Goud``/``Gaud``...), while names that
sound different keep different keys (``de Vries``/``de Vos``).

Why our own rules and not Soundex, Metaphone or Cologne phonetics: those are built for English
or German and collapse too much (Soundex drops every vowel after the first, so ``Vries`` and
``Vos`` would be close) or miss the Dutch spellings (``ij``/``ei``, ``ou``/``au``, ``dt``).
The rules below are the spelling alternations Dutch names actually show, applied to the
folded name (lower case, no diacritics, only ``a-z0-9``).
"""

from __future__ import annotations

import re
from functools import lru_cache

from chalicelib.normalise import name_key

# Ordered: longer spellings first, so ``uij`` is read before ``ij`` and ``sch`` before ``ch``.
_REWRITES: tuple[tuple[str, str], ...] = (
    ("uij", "ui"),
    ("uy", "ui"),
    ("eij", "Y"),
    ("ij", "Y"),
    ("ei", "Y"),
    ("ey", "Y"),
    ("y", "Y"),
    ("ouw", "U"),
    ("auw", "U"),
    ("ou", "U"),
    ("au", "U"),
    ("ue", "u"),  # Mueller is how Müller is typed without the diaeresis
    ("ae", "a"),
    ("oe", "O"),  # the Dutch oe sound; not o (Broek is not Brok)
    ("sch", "s"),  # Schmidt and Smit, Schouten and Souten: the ch is silent or swallowed
    ("ch", "g"),
    ("gh", "g"),
    ("ph", "f"),
    ("th", "t"),
    ("dt", "t"),
    ("ck", "k"),
    ("c", "k"),
    ("q", "k"),
    ("x", "ks"),
    ("z", "s"),
    ("v", "f"),
)
_REWRITE_RE = re.compile("|".join(re.escape(old) for old, _ in _REWRITES))
_REWRITE_TO = dict(_REWRITES)
_DOUBLE_RE = re.compile(r"(.)\1+")


@lru_cache(maxsize=4096)
def phonetic_key(surname: str) -> str:
    """The phonetic key of a core surname (without tussenvoegsels); empty when nothing is
    left. ``d`` at the end sounds as ``t`` in Dutch (``Brand``/``Brant``)."""
    folded = name_key(surname)
    key = _REWRITE_RE.sub(lambda m: _REWRITE_TO[m.group(0)], folded)
    key = _DOUBLE_RE.sub(r"\1", key)
    if key.endswith("d"):
        key = key[:-1] + "t"
    return key
