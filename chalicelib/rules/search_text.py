"""The search box: free text as an employee types what a caller says, read into the structured
query fields. ``1077XL 232``, ``1077 xl 232-a``, ``VOL 9100 000001``, ``06-12345678``,
``j.jansen@example.nl``, ``Jansen 12-03-1980``, ``Kees Visser 12 maart 1980``, a KvK number.

Text that allows more than one reading (8 digits: a KvK number, a policy number or a date)
gives every reading; the caller of `read_search_text` looks each up and ranks the union.

Also here: the keys that make two notations of one house-number addition or one policy number
equal (``HS``/``H``, ``II``/``2``; ``VM-2019-073607``/``2019 073607``/``VM2019073607``).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace

from chalicelib.normalise import (
    normalise_email,
    normalise_house_number,
    normalise_kvk,
    normalise_phone,
    normalise_postcode,
    parse_date,
)

# --- house-number additions -------------------------------------------------------------------

_ROMAN = {"I": "1", "II": "2", "III": "3", "IV": "4", "V": "5", "VI": "6", "VII": "7"}
# Ground floor, written in every way Dutch addresses do.
_GROUND_FLOOR = frozenset({"H", "HS", "HUIS", "BG", "BEG", "BGG", "BEGANEGROND", "0"})


def addition_key(addition: str | None) -> str | None:
    """One key per way of writing the same addition: ``HS``/``H``/``huis``/``bg`` -> ``H``,
    ``II``/``2`` -> ``2``, ``I``/``1`` -> ``1``; letters stay (``A``). Input as
    `normalise_house_number` returns it (upper case, no separators) or raw text."""
    if not addition:
        return None
    text = re.sub(r"[\W_]+", "", addition).upper()
    if not text:
        return None
    if text in _GROUND_FLOOR:
        return "H"
    return _ROMAN.get(text, text.lstrip("0") or "0")


# --- policy numbers ---------------------------------------------------------------------------

_POLICY_SEPARATORS_RE = re.compile(r"[\s.\-/_]+")
_LETTER_PREFIX_RE = re.compile(r"[A-Z]+(?=[0-9])")


def policy_search_key(policy_number: str) -> str | None:
    """The key under which a policy number is found however a caller reads it: separators
    and spaces removed, a leading letter prefix dropped (callers omit the partner's ``VM-``),
    leading zeros dropped (``0005631853`` -> ``5631853``). None when nothing is left.
    ``VM-2019-073607``, ``2019-073607``, ``VM2019073607`` and ``vm 2019 073607`` are one key."""
    text = _POLICY_SEPARATORS_RE.sub("", policy_number).upper()
    if not text.isalnum() or not text.isascii():
        return None
    prefix = _LETTER_PREFIX_RE.match(text)
    if prefix is not None:
        text = text[prefix.end() :]
    text = text.lstrip("0")
    return text or None


def policy_lookup_key(policy_number: str) -> str:
    """The partition a policy is stored and searched under (`policy_number` as
    `normalise_policy_number` returns it): its search key, or, when that leaves nothing
    (``VK00000``, ``VK-0000``, ``0000``: a number an insurer may issue), the number without its
    separators (``VK0000``), so that separators do not count here either."""
    return policy_search_key(policy_number) or (
        _POLICY_SEPARATORS_RE.sub("", policy_number) or policy_number
    )


# --- free text --------------------------------------------------------------------------------

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("januari", "jan", "january"),
            ("februari", "feb", "february"),
            ("maart", "mrt", "march", "mar"),
            ("april", "apr"),
            ("mei", "may"),
            ("juni", "jun", "june"),
            ("juli", "jul", "july"),
            ("augustus", "aug", "august"),
            ("september", "sep", "sept"),
            ("oktober", "okt", "october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_EMAIL_TOKEN_RE = re.compile(r"\S+@\S+")
_DATE_NUMERIC_RE = re.compile(r"(?<!\S)(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})(?!\S)")
_DATE_ISO_RE = re.compile(r"(?<!\S)(\d{4})-(\d{1,2})-(\d{1,2})(?!\S)")
_DATE_WORDS_RE = re.compile(r"(?<!\S)(\d{1,2})\s+([a-zA-Z]+)\.?\s+(\d{4})(?!\S)")
# A postcode may run straight into its house number (`1077xl232`).
_POSTCODE_RE = re.compile(r"(?<![\w-])([1-9]\d{3})\s?([a-zA-Z]{2})(?![a-zA-Z-])")
_HOUSE_RE = re.compile(
    r"^\s*,?\s*(\d{1,5}(?:\s*-?\s*(?:[a-zA-Z]{1,4}|[IVX]{1,4}|\d{1,3})\b)?)(.*)$", re.DOTALL
)
# The house number said before the postcode (`232 1077XL`, `232-a, 1077 XL`).
_HOUSE_BEFORE_RE = re.compile(r"(?<!\S)(\d{1,5}(?:-?[a-zA-Z]{1,4})?)\s*,?\s*$")
_EIGHT_DIGITS_RE = re.compile(r"(?<!\S)\d{8}(?!\S)")
_PHONE_RE = re.compile(r"(?<![\w-])(\+|00)?[\d][\d\s\-()]{7,16}\d(?![\w-])")
_KVK_OR_NUMBER_RE = re.compile(r"[0-9]{8}")
_KVK_SEPARATORS_RE = re.compile(r"[\s.]+")  # read aloud in groups: "1234 5678", "1234.5678"
_POLICY_LIKE_RE = re.compile(r"[A-Za-z]{0,5}[\s\-/.]?\d[\d\s\-/.A-Za-z]*")


@dataclass(frozen=True, slots=True)
class SearchReading:
    """One reading of the search text, as the structured query fields (all normalised)."""

    name: str | None = None
    birth_date: str | None = None
    postcode: str | None = None
    house_number: str | None = None
    house_number_addition: str | None = None
    phone: str | None = None
    email: str | None = None
    kvk: str | None = None
    policy_number: str | None = None

    def as_query(self) -> dict[str, str]:
        """The reading as `GET /v1/clients` parameters (the fields it has)."""
        return {k: v for k, v in asdict(self).items() if v}


def _take(pattern: re.Pattern[str], text: str) -> tuple[re.Match[str] | None, str]:
    m = pattern.search(text)
    if m is None:
        return None, text
    return m, text[: m.start()] + " " + text[m.end() :]


def _date(day: str, month: int | str, year: str) -> str | None:
    return parse_date(f"{year}-{int(month):02d}-{int(day):02d}")


def _take_date(text: str) -> tuple[str | None, str]:
    m, rest = _take(_DATE_NUMERIC_RE, text)
    if m is not None:
        return _date(m.group(1), m.group(2), m.group(3)), rest
    m, rest = _take(_DATE_ISO_RE, text)
    if m is not None:
        return _date(m.group(3), m.group(2), m.group(1)), rest
    for m in _DATE_WORDS_RE.finditer(text):
        month = _MONTHS.get(m.group(2).lower())
        if month is not None:
            return _date(m.group(1), month, m.group(3)), text[: m.start()] + " " + text[m.end() :]
    return None, text


def _take_address(text: str) -> tuple[tuple[str, str, str | None] | None, str]:
    m = _POSTCODE_RE.search(text)
    if m is None:
        return None, text
    postcode = normalise_postcode(m.group(1) + m.group(2))
    if postcode is None:
        return None, text
    after = _HOUSE_RE.match(text[m.end() :])
    if after is not None:
        house = normalise_house_number(after.group(1).replace(" ", ""))
        rest = text[: m.start()] + " " + after.group(2)
    else:
        before = _HOUSE_BEFORE_RE.search(text[: m.start()])
        if before is None:
            return None, text
        house = normalise_house_number(before.group(1))
        rest = text[: before.start()] + " " + text[m.end() :]
    if house is None:
        return None, text
    return (postcode, house[0], house[1]), rest


def _names_and_numbers(text: str) -> tuple[str | None, str | None]:
    """What is left: words are a name, a run with digits a policy number."""
    words = [w for w in text.split() if any(c.isalnum() for c in w)]
    if not any(any(c.isdigit() for c in w) for w in words):
        return (" ".join(words) or None), None
    first_digit = next(i for i, w in enumerate(words) if any(c.isdigit() for c in w))
    # A short upper-case prefix just before the digits belongs to the number
    # ("VOL 9100 000001"); "Bos 12345678" is a name and a number.
    start = first_digit
    prefix = words[start - 1] if start else ""
    if prefix.isalpha() and prefix.isupper() and len(prefix) <= 5:
        start -= 1
    return (" ".join(words[:start]) or None), ("".join(words[start:]) or None)


def _name_and_eight_digit_date(base: SearchReading, rest: str) -> list[SearchReading]:
    """A name beside eight digits that are a date (`Visser 12031980`, `19800312 Kees Visser`):
    the name with that birth date, day first, then year first (the readings as a policy number
    follow)."""
    for token in _EIGHT_DIGITS_RE.finditer(rest):
        digits = token.group(0)
        name, number = _names_and_numbers(rest[: token.start()] + " " + rest[token.end() :])
        if name is None or number is not None:
            continue
        dates = (
            _date(digits[:2], digits[2:4], digits[4:]),
            _date(digits[6:], digits[4:6], digits[:4]),
        )
        return [replace(base, name=name, birth_date=d) for d in dict.fromkeys(dates) if d]
    return []


def read_search_text(text: str) -> list[SearchReading]:
    """Every reading of the search text, the most likely first; empty when nothing in it can
    be looked up."""
    text = " ".join(text.split())
    email_match, rest = _take(_EMAIL_TOKEN_RE, text)
    email = normalise_email(email_match.group(0)) if email_match else None
    birth_date, rest = _take_date(rest)
    address, rest = _take_address(rest)
    base = SearchReading(email=email, birth_date=birth_date)
    if address is not None:
        base = replace(
            base, postcode=address[0], house_number=address[1], house_number_addition=address[2]
        )
    readings: list[SearchReading] = []
    eight = _KVK_OR_NUMBER_RE.fullmatch(_KVK_SEPARATORS_RE.sub("", rest))
    if eight is not None:
        digits = eight.group(0)
        readings.append(replace(base, kvk=normalise_kvk(digits)))
        readings.append(replace(base, policy_number=digits))
        as_date = _date(digits[:2], digits[2:4], digits[4:])
        if as_date and base.birth_date is None:
            readings.append(replace(base, birth_date=as_date))
        return readings
    if base.birth_date is None:
        readings += _name_and_eight_digit_date(base, rest)
    phone_match = _PHONE_RE.search(rest)
    if phone_match is not None:
        phone = normalise_phone(phone_match.group(0))
        if phone is not None:
            without = rest[: phone_match.start()] + " " + rest[phone_match.end() :]
            name, _ = _names_and_numbers(without)
            readings.append(replace(base, phone=phone, name=name))
    name, number = _names_and_numbers(rest)
    if number is not None:
        readings.append(replace(base, name=name, policy_number=number.upper()))
    elif name is not None or base != SearchReading():
        readings.append(replace(base, name=name))
    return [r for r in readings if r != SearchReading()]
