"""Normalisation of the values partners deliver and the API receives as queries.

Pure functions, each usable on its own: the ingest normalises portfolio rows with them and the
API normalises recognition queries with the very same functions, so a stored lookup key and a
queried key are always built the same way (docs/architecture.md, lookup kinds).

Every function takes the raw text (surrounding whitespace allowed) and returns the normalised
form, or None when the value is not valid. None of them raises on bad input.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from iso3166 import countries_by_alpha3

__all__ = [
    "APOSTROPHES",
    "TUSSENVOEGSEL_WORDS",
    "display_case",
    "display_initials",
    "name_key",
    "normalise_country",
    "normalise_email",
    "normalise_house_number",
    "normalise_kvk",
    "normalise_phone",
    "normalise_policy_number",
    "normalise_postcode",
    "parse_date",
    "split_tussenvoegsels",
    "surname_key",
]

# --- postcode ---------------------------------------------------------------------------------

# Letter combinations PostNL never issues.
_POSTCODE_NOT_ISSUED = frozenset({"SA", "SD", "SS"})


def normalise_postcode(value: str) -> str | None:
    """Dutch postcode to ``"1234AB"``; None if it is not a postcode that can exist.

    Accepts ``1234AB``, ``1234 ab`` and surrounding whitespace. Not python-stdnum's
    ``nl.postcode``: that also accepts an ``NL-`` prefix, dashes and spaces anywhere
    (``12 34-AB``), which the delivery contract does not.
    """
    text = value.strip()
    size = len(text)
    if size == 6:
        letters = text[4:]
    elif size == 7 and text[4] == " ":
        letters = text[5:]
    else:
        return None
    digits = text[:4]
    # ASCII only: "1234" and "AB", not other scripts' digits and letters.
    if not (digits.isdigit() and letters.isalpha() and text.isascii() and digits[0] != "0"):
        return None
    letters = letters.upper()
    if letters in _POSTCODE_NOT_ISSUED:
        return None
    return digits + letters


# --- country ----------------------------------------------------------------------------------

_NETHERLANDS_NAMES = frozenset({"NEDERLAND", "NETHERLANDS", "THE NETHERLANDS"})
# Alpha-3 codes ISO 3166 withdrew that administrations still hold (Netherlands Antilles,
# Yugoslavia, Serbia and Montenegro), as the two-letter codes they hold beside them.
_WITHDRAWN_ALPHA3 = {"ANT": "AN", "YUG": "YU", "SCG": "CS"}


def normalise_country(value: str) -> str | None:
    """A two-letter country code, upper case: two letters as delivered (``"be"`` -> ``"BE"``;
    also a code ISO 3166 withdrew or never had that portfolios still hold, such as ``AN``,
    ``EL``, ``UK``), an ISO 3166-1 alpha-3 code as its alpha-2 code (``"DEU"`` -> ``"DE"``),
    or the Netherlands by name; None if it is none of these."""
    text = value.strip().upper()
    if len(text) == 2 and text.isascii() and text.isalpha():
        return text
    if text in _NETHERLANDS_NAMES:
        return "NL"
    country = countries_by_alpha3.get(text)
    return country.alpha2 if country is not None else _WITHDRAWN_ALPHA3.get(text)


# --- names ------------------------------------------------------------------------------------

# Words that, in any combination, form Dutch (and the common foreign) tussenvoegsels:
# "van der", "in 't", "op de", "uit den", "v.d.", "von", "le", "d'", ...
TUSSENVOEGSEL_WORDS = frozenset(
    {
        "van", "de", "den", "der", "des", "het", "'t", "'s", "te", "ten", "ter", "in", "op",
        "uit", "aan", "bij", "onder", "over", "voor", "tot", "vd", "vd.", "v.d.", "v/d", "v.",
        "d.", "von", "vom", "zu", "zum", "zur", "la", "le", "les", "l'", "du", "d'", "da", "dal",
        "dalla", "del", "della", "dei", "di", "do", "dos", "das", "el", "al", "lo", "los", "las",
        "y", "o'", "mac", "sur",
    }
)  # fmt: skip
# "d'Ancona", "l'Ecluse": the tussenvoegsel is glued to the surname.
_GLUED_PREFIX_RE = re.compile(r"(?i)(d'|l')(\w.*)")
APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'"})
_WS_RE = re.compile(r"\s+")


def _leading_tussenvoegsels(tokens: list[str]) -> int:
    """How many leading tokens are tussenvoegsels, always leaving at least one token."""
    n = 0
    last = len(tokens) - 1
    while n < last and tokens[n].lower() in TUSSENVOEGSEL_WORDS:
        n += 1
    return n


def _clean_tussenvoegsels(text: str) -> str | None:
    text = _WS_RE.sub(" ", text.translate(APOSTROPHES)).strip().lower()
    return text or None


def split_tussenvoegsels(surname: str, tussenvoegsels: str | None = None) -> tuple[str, str | None]:
    """Split a delivered surname into (core surname, tussenvoegsels).

    ``"Van der Berg"`` -> ``("Berg", "van der")``; ``"Berg, van der"`` -> ``("Berg", "van der")``;
    ``("Berg", "van der")`` -> ``("Berg", "van der")``; ``"d'Ancona"`` -> ``("Ancona", "d'")``.
    The core keeps its delivered spelling; tussenvoegsels come back lower case with single
    spaces. A separately delivered ``tussenvoegsels`` wins over one found in ``surname``.
    The whole name is never stripped: ``"De"`` stays ``("De", None)``.
    """
    name = surname.strip()
    found: str | None = None
    if "," in name:
        core, _, rest = name.partition(",")
        rest_tokens = rest.translate(APOSTROPHES).split()
        if (
            core.strip()
            and rest_tokens
            and all(t.lower() in TUSSENVOEGSEL_WORDS for t in rest_tokens)
        ):
            name = core.strip()
            found = " ".join(rest_tokens)
    if " " in name or "'" in name or "\u2019" in name or "\t" in name:
        tokens = name.translate(APOSTROPHES).split()
        n = _leading_tussenvoegsels(tokens)
        if n:
            found = " ".join(tokens[:n]) if found is None else " ".join(tokens[:n]) + " " + found
            name = " ".join(tokens[n:])
        elif len(tokens) > 1:
            name = " ".join(tokens)
        m = _GLUED_PREFIX_RE.fullmatch(name) if "'" in name else None
        if m is not None:
            glued = m.group(1)
            found = glued if found is None else found + " " + glued
            name = m.group(2)
    given = _clean_tussenvoegsels(tussenvoegsels) if tussenvoegsels else None
    if given is not None:
        return name, given
    return name, _clean_tussenvoegsels(found) if found else None


_KEY_DROP_RE = re.compile(r"[^a-z0-9]+")
# Letters NFKD does not decompose into a base letter plus a combining mark.
_KEY_SPECIAL = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "ı": "i", "þ": "th", "ĳ": "ij"}
)


def _fold(text: str) -> str:
    """Lower case, diacritics removed, only ``a-z0-9``."""
    if text.isascii():
        return _KEY_DROP_RE.sub("", text.lower())
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_KEY_SPECIAL))
    return _KEY_DROP_RE.sub("", decomposed)


@lru_cache(maxsize=2048)
def surname_key(surname: str, tussenvoegsels: str | None = None) -> str:
    """The matching key of a surname: core surname without tussenvoegsels, no diacritics,
    lower case, only ``a-z0-9``. ``Van der Berg``, ``Berg, van der``, ``vd Berg``,
    ``VAN DER BERG`` and ``Bérg`` all give ``"berg"``. Empty when nothing is left."""
    core, _ = split_tussenvoegsels(surname, tussenvoegsels)
    return _fold(core)


_NAME_PART_RE = re.compile(r"([\s\-']+)")
_NOT_A_NAME_RE = re.compile(r"[^\w\s\-'.]")
_INITIALS_SPLIT_RE = re.compile(r"[.\s]+")


def display_case(name: str) -> str:
    """A name as it is shown: delivered in capitals (``VAN DER MEER``), each word capitalised
    and the tussenvoegsel words inside it lower case (``SCHAFER-VAN DER MEER`` ->
    ``Schafer-van der Meer``). Anything else is kept as delivered: a name in mixed or lower
    case (``McDonald``, ``van Beek-de Vries``), and text that is not a name at all (markup,
    a formula), which is shown as the text it is."""
    if not name.isupper() or _NOT_A_NAME_RE.search(name):
        return name
    parts = _NAME_PART_RE.split(name.lower())
    words = [i for i, part in enumerate(parts) if part and not _NAME_PART_RE.fullmatch(part)]
    for position, index in enumerate(words):
        word = parts[index]
        inside = 0 < position < len(words) - 1
        if not (inside and word in TUSSENVOEGSEL_WORDS):
            parts[index] = word[:1].upper() + word[1:]
    return "".join(parts)


def display_initials(initials: str) -> str:
    """Initials shown one way: ``JP``, ``j.p.`` and ``J. P.`` -> ``J.P.``; an abbreviation
    with its dot (``Th.``) stays one initial."""
    text = initials.strip()
    if not text:
        return ""
    if "." not in text and " " not in text:
        return "".join(f"{letter.upper()}." for letter in text if letter.isalnum())
    parts = [part for part in _INITIALS_SPLIT_RE.split(text) if part]
    return "".join(f"{part[:1].upper()}{part[1:]}." for part in parts)


def name_key(first_name_or_initials: str) -> str:
    """Matching key of a first name or initials (``"J.P."`` -> ``"jp"``, ``"Hélène"`` ->
    ``"helene"``): lower case, no diacritics, only ``a-z0-9``."""
    return _fold(first_name_or_initials)


# --- phone ------------------------------------------------------------------------------------

_PHONE_STRIP_RE = re.compile(r"[\s\-./()]+")
# After removing separators: optional +31 / 0031 (with the "(0)" trunk zero some write after
# it), or the trunk 0 alone, or nothing (a spreadsheet dropped the 0); then 9 digits.
_NL_PHONE_RE = re.compile(r"(?:(?:\+|00)310?|0)?([1-9][0-9]{8})")
_INTL_PHONE_RE = re.compile(r"(?:\+|00)([1-9][0-9]{7,14})")


def normalise_phone(value: str) -> str | None:
    """Phone number to E.164 (``+31612345678``); None if invalid.

    Dutch numbers (``06-12345678``, ``020-1234567``, ``+31 6 12345678``, ``0031 6 12345678``,
    ``+31 (0)6 12345678``) need a national significant number of exactly 9 digits. A 9-digit
    number without the leading 0 (what a spreadsheet makes of ``0612345678``) is taken as Dutch.
    Other countries (``+<digits>`` or ``00<digits>``) are kept with 8 to 15 digits.
    """
    text = value.replace("-", "").replace(" ", "")
    # Fast path for the common notations (06-12345678, 020 1234567, +31612345678).
    if text.isdigit() and text.isascii():
        if len(text) == 10 and text[0] == "0" and text[1] != "0":
            return "+31" + text[1:]
    elif len(text) == 12 and text[:3] == "+31" and text[3] != "0" and text[3:].isdigit():
        return text if text.isascii() else None
    text = _PHONE_STRIP_RE.sub("", text)
    m = _NL_PHONE_RE.fullmatch(text)
    if m is not None:
        return "+31" + m.group(1)
    m = _INTL_PHONE_RE.fullmatch(text)
    if m is None or m.group(1).startswith("31"):
        return None
    return "+" + m.group(1)


# --- e-mail -----------------------------------------------------------------------------------

_EMAIL_RE = re.compile(r"[^@\s]+@(?:[^@\s.]+\.)+[^@\s.]+")


def normalise_email(value: str) -> str | None:
    """E-mail address trimmed and lower-cased; None unless it has one ``@``, a domain with a
    dot, no spaces and at most 254 characters."""
    text = value.strip()
    if not text or len(text) > 254 or _EMAIL_RE.fullmatch(text) is None:
        return None
    return text.lower()


def mail_address(value: str) -> str | None:
    """The address as SES takes it: `normalise_email`'s, with a 7-bit ASCII local part and the
    domain in Punycode (`jan@bücher.nl` → `jan@xn--bcher-kva.nl`); None for an address no
    e-mail can be sent to through SES, which does not support SMTPUTF8 (a local part such as
    `jöran`), or whose domain has no IDNA form (an empty or over-long label)."""
    address = normalise_email(value)
    if address is None:
        return None
    local, _, domain = address.rpartition("@")
    if not local.isascii():
        return None
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        return None


# --- dates ------------------------------------------------------------------------------------

_MIN_YEAR = "1800"  # compared as text: four ASCII digits compare like the number
# Every month and day of a leap year as "MMDD" ("0229" needs a leap year, checked apart).
_MONTH_DAYS = frozenset(
    f"{month:02d}{day:02d}"
    for month, days in enumerate((31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31), start=1)
    for day in range(1, days + 1)
)


def parse_date(value: str) -> str | None:
    """``YYYYMMDD`` or ``YYYY-MM-DD`` to ISO ``YYYY-MM-DD`` if it is a real calendar date
    (year 1800 to 9999; ``99991231`` is a common "no end date"), else None."""
    text = value.strip()
    size = len(text)
    if size == 10:
        if text[4] != "-" or text[7] != "-":
            return None
        month_day = text[5:7] + text[8:]
    elif size == 8:
        month_day = text[4:]
    else:
        return None
    year = text[:4]
    # `_MONTH_DAYS` holds ASCII digits only, so membership also checks the month and day text.
    if month_day not in _MONTH_DAYS or not (year.isdigit() and year.isascii()):
        return None
    if year < _MIN_YEAR:
        return None
    if month_day == "0229":
        y = int(year)
        if not (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)):
            return None
    return text if size == 10 else f"{year}-{month_day[:2]}-{month_day[2:]}"


# --- house number -----------------------------------------------------------------------------

_HOUSE_RE = re.compile(r"0*([0-9]{1,5})(.*)", re.DOTALL)
_NON_ALNUM_RE = re.compile(r"[\W_]+")


def normalise_house_number(value: str) -> tuple[str, str | None] | None:
    """``"12"`` -> ``("12", None)``; ``"12a"``, ``"12-A"``, ``"12 bis"`` -> ``("12", "A")`` /
    ``("12", "BIS")``: the addition upper case without separators. None when the value does
    not start with a number of at most 5 digits. Leading zeros are dropped."""
    m = _HOUSE_RE.fullmatch(value.strip())
    if m is None:
        return None
    number, rest = m.groups()
    if rest and rest[0].isdigit():  # more than 5 digits
        return None
    addition = _NON_ALNUM_RE.sub("", rest).upper() if rest else ""
    return number, (addition or None)


def normalise_house_number_addition(value: str) -> str | None:
    """A separately delivered addition (``TOEVOEG``): upper case, separators removed."""
    addition = _NON_ALNUM_RE.sub("", value).upper()
    return addition or None


# --- KvK, policy number -----------------------------------------------------------------------

_KVK_STRIP_RE = re.compile(r"[\s.]+")
_KVK_RE = re.compile(r"[0-9]{8}")


def normalise_kvk(value: str) -> str | None:
    """Chamber of Commerce number: exactly 8 digits after removing spaces and dots."""
    text = _KVK_STRIP_RE.sub("", value)
    return text if _KVK_RE.fullmatch(text) else None


_POLICY_RE = re.compile(r"[A-Za-z0-9.\-/]{1,30}")


def normalise_policy_number(value: str) -> str | None:
    """Policy number trimmed and upper-cased: 1 to 30 of ``A-Z a-z 0-9 . - /``; else None."""
    text = value.strip()
    if len(text) <= 30 and text.isalnum() and text.isascii():  # the common case, no regex
        return text.upper()
    return text.upper() if _POLICY_RE.fullmatch(text) else None
