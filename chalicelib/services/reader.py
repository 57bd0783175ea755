"""Streaming reader of portfolio files (CSV or JSON Lines, optionally gzip).

I/O on a given binary stream only (the ingest hands it an S3 body); no AWS here.

Memory stays bounded whatever the file: the stream is read in chunks of `CHUNK_BYTES`,
gzip output is produced at most `CHUNK_BYTES` at a time (a gzip bomb is stopped by
`ReadLimits.max_uncompressed_bytes` without ever holding more than a chunk), and a line longer
than `ReadLimits.max_line_bytes` is skipped, not buffered.

What the reader decides (the ingest relies on it):

- Type from the file name: ``.csv``, ``.jsonl``, each optionally ``.gz`` (case-insensitive).
  A gzip file is its members one after another; zero bytes after a member are padding (as
  Python's gzip module reads them), anything else there is `FileRejected("invalid_gzip")`.
- Offsets (`RawRow.end_offset`, `ResumePoint.offset`) count bytes of the *decompressed* stream,
  absolute from its start (a UTF-8 BOM included).
- Line numbers are physical lines, 1 = the first line of the file (the CSV header; for JSON
  Lines the first object). A CSV record with a quoted newline reports its first line as `line`
  and its last as `last_line`.
- Blank lines (and CSV rows whose fields are all empty, like ``;;;``) are skipped; after every
  `BLANK_RUN` of them a `BlankLines` item stands for them, so that a file of nothing but blank
  lines (2 GB of them gzip to 2 MB) still lets the ingest look at its clock and hand over.
- Empty file or only whitespace: `FileRejected("empty_file")`. A CSV with a header but no rows
  is *not* rejected here: the reader yields nothing and the ingest treats 0 rows as empty.
- Encoding: each line is decoded on its own, as UTF-8 when it is valid UTF-8 and as cp1252
  (Windows-1252) otherwise, or as Mac OS Roman in a file whose lines end in a bare CR (what
  Excel for Mac's "CSV (Macintosh)" writes): a cp1252 line with a non-ASCII character is
  almost never valid UTF-8, so one row saved in the other encoding (a spreadsheet edit) does
  not change how the file's other rows read, wherever it is. A line that is neither, or that
  holds a NUL byte, yields `BadLine(code="invalid_encoding")` (a header line:
  `FileRejected("undecodable")`), wherever it is; a first read whose first line holds NUL
  bytes, or more than one and more than 1 in `_NUL_SHARE` of its bytes, is no text file:
  `FileRejected("not_a_text_file")`.
  A JSON Lines value whose escapes make a lone surrogate (``"\\ud800"``) is not text either:
  `BadLine(code="invalid_encoding")` (in the first object's keys: `FileRejected("undecodable")`).
  Unicode's bidirectional controls (U+200E/F, U+202A-E, U+2066-9, U+061C; raw or as a JSON
  escape) are dropped: invisible, they would reorder what a screen shows after them.
  UTF-16/32 (BOM) -> `FileRejected("unsupported_encoding")`. `FileFormat.encoding` names what
  the first chunk is: ``utf-8-sig`` (BOM), ``utf-8`` (valid UTF-8), ``cp1252`` or ``mac_roman``.
- Rows are yielded as `RawRow`; a row that cannot be turned into values is a `BadLine` (the
  ingest reports it as a row error and goes on): `RowTooLong` (``line_too_long``, a physical
  line or a multi-line quoted CSV record over `max_line_bytes`), ``invalid_encoding``,
  ``invalid_csv`` (the csv module refused the record, or a quote was left open: a line that
  would continue a quoted value but looks like a row, `_starts_a_row`, ends the record and is
  read again as the next one), ``too_many_fields``
  (more non-empty fields than the header has labels: a value with an unquoted delimiter would
  otherwise shift every column after it), ``invalid_json`` (a JSON Lines line that is not an
  object). Short CSV rows are padded with "" (spreadsheets drop trailing empty cells); extra
  empty trailing fields are dropped.
- JSON Lines: labels are the keys of the first object and every label of the contract it left
  out, the role-prefixed ones (``SP_ANAAM``) last (exporters leave out empty fields, and write
  each party with its own prefix: a later object may hold them); every row's values are read
  by its own keys (as written, else case-insensitively), converted to text: strings as is,
  whole numbers as written, other numbers as plain decimals without trailing zeros
  (``250.000`` -> ``250``, ``1e3`` -> ``1000``), true/false, null -> "", a list -> its items
  joined with ``|`` (``"PP_DEKKING": ["RP", "VK"]``); a key left out is "" (a row without
  role-prefixed keys stops before those columns: the validation pads it). Other keys a later
  object adds (not labels of the contract) are not read: `RowReader.keys_seen` names them (up
  to `UNKNOWN_KEYS_KEPT`) for the report, and says whether any object carried a BSN key, filled
  or not (a filled one is counted where the validation reads the `BSNR` column). A first line
  that is not an object rejects the file.
- Resume: with `resume`, the header is not read; `format` is `resume.format`. An uncompressed
  stream must start at `resume.offset`; a compressed one at byte 0 (the reader decompresses and
  discards `resume.offset` bytes). Line numbers continue after `resume.line`. A CSV resume
  point at offset 0 (nothing processed yet) reads the header again (the stream starts at 0).
  `RowReader.checkpoint()` gives the exact `ResumePoint` after the last yielded item.
- `max_uncompressed_bytes` applies to plain files too (as the absolute offset).
"""

from __future__ import annotations

import codecs
import csv
import json
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import chain
from typing import Any, BinaryIO, Final, Literal

from chalicelib.messages import CATALOGUE, render
from chalicelib.rules.rows import ENTITY_PREFIXES, PARTY_LABELS, POLICY_LABELS, normalise_label

__all__ = [
    "BLANK_RUN",
    "CHUNK_BYTES",
    "BadLine",
    "BlankLines",
    "FileFormat",
    "FileRejected",
    "KeysSeen",
    "RawRow",
    "ReadLimits",
    "ResumePoint",
    "RowReader",
    "RowTooLong",
    "open_rows",
]

CHUNK_BYTES: Final = 256 * 1024
_RAW_READ_BYTES: Final = 64 * 1024  # compressed input per read: bounded output via max_length
_PARTY_VALUE_LABELS: Final = tuple(label for label in PARTY_LABELS if label != "BSNR")
_PREFIXED_IN_ORDER: Final = tuple(
    f"{role}_{label}" for role in ENTITY_PREFIXES for label in _PARTY_VALUE_LABELS
)
_PREFIXED_LABELS: Final = frozenset(_PREFIXED_IN_ORDER)
# A JSON Lines object's BSN, under any of the contract's keys for it: counted, never read.
_BSN_LABELS: Final = frozenset({"BSNR", *(f"{role}_BSNR" for role in ENTITY_PREFIXES)})
# Labels added after the first object's keys that an object rarely holds (the row stops before).
_TAIL_LABELS: Final = _PREFIXED_LABELS | {"BSNR"}
_CONTRACT_LABELS: Final = (*POLICY_LABELS, *_PARTY_VALUE_LABELS, *_PREFIXED_IN_ORDER)
# A first read with more NUL bytes than 1 in this many is no text file (compressed data has 1 in
# 256).
_NUL_SHARE: Final = 1000
# A JSON Lines file's unknown keys kept for its report, whatever the file (it lists fewer).
UNKNOWN_KEYS_KEPT: Final = 32
# What a filled BSN key of an object puts in the `BSNR` column: the validation only asks
# whether it is empty, so the BSN itself never enters a row.
_BSN_GIVEN: Final = "dropped"


@dataclass
class KeysSeen:
    """What a JSON Lines file's objects held besides the contract's values, for the report:
    keys no label of the contract names (beyond the first object's, which are among the
    labels; at most `UNKNOWN_KEYS_KEPT`), and whether an object carried a BSN key (`BSNR`,
    `KN_BSNR`, any case), filled or not. Keys only, never a value."""

    unknown: set[str] = field(default_factory=set)
    bsn_key: bool = False


@dataclass(frozen=True)
class FileFormat:
    type: Literal["csv", "jsonl"]
    compressed: bool
    # The first chunk's: "utf-8" | "utf-8-sig" | "cp1252" | "mac_roman"; lines decode alone.
    encoding: str
    delimiter: str | None  # None for jsonl
    labels: tuple[str, ...]
    # "\r" for a file whose lines end in a bare CR (Excel for Mac's "CSV (Macintosh)"); a
    # checkpoint written before this field existed resumes with the default.
    newline: str = "\n"


@dataclass(frozen=True)
class ResumePoint:
    """Where to go on: `offset` in the decompressed stream just after the last fully processed
    row, `line` the physical line number of that row's last line."""

    format: FileFormat
    offset: int
    line: int


@dataclass(frozen=True, slots=True)
class RawRow:
    line: int
    end_offset: int
    values: list[str]  # in label order, as many as `FileFormat.labels`
    last_line: int = 0  # last physical line of the record (> line for a quoted newline)


@dataclass(frozen=True, slots=True)
class BadLine:
    """A row that could not be read into values; the ingest reports it and goes on."""

    line: int
    end_offset: int
    code: str = "invalid_line"
    last_line: int = 0

    @property
    def message_key(self) -> str:
        return self.code if self.code in CATALOGUE else "invalid_line"


@dataclass(frozen=True, slots=True)
class RowTooLong(BadLine):
    code: str = "line_too_long"


@dataclass(frozen=True, slots=True)
class BlankLines(BadLine):
    """Not a row and no error: `BLANK_RUN` skipped blank lines ending at `end_offset`."""

    code: str = "blank_lines"


# Skipped blank lines per `BlankLines` item: about a millisecond of reading.
BLANK_RUN: Final = 1000


@dataclass(frozen=True)
class ReadLimits:
    max_line_bytes: int = 65536
    max_uncompressed_bytes: int = 2 * 1024**3


class FileRejected(Exception):
    """The file cannot be read at all (or stops being readable at `line`)."""

    def __init__(
        self,
        code: str,
        *,
        line: int = 0,
    ) -> None:
        self.code = code
        self.line = line
        super().__init__(f"{code}: {self.message_en}")

    @property
    def message_key(self) -> str:
        return self.code if self.code in CATALOGUE else "invalid_line"

    @property
    def message_nl(self) -> str:
        return render(self.message_key, {}, "nl")

    @property
    def message_en(self) -> str:
        return render(self.message_key, {}, "en")


# --- bytes --------------------------------------------------------------------------------------


def _file_type(filename: str) -> tuple[Literal["csv", "jsonl"], bool]:
    name = filename.rsplit("/", 1)[-1].lower()
    compressed = name.endswith(".gz")
    if compressed:
        name = name[:-3]
    if name.endswith(".csv") and len(name) > 4:
        return "csv", compressed
    if name.endswith(".jsonl") and len(name) > 6:
        return "jsonl", compressed
    raise FileRejected("unsupported_file_type")


class _Source:
    """Decompressed chunks of at most CHUNK_BYTES; counts and bounds the decompressed size."""

    def __init__(self, raw: BinaryIO, *, compressed: bool, limit: int, position: int) -> None:
        self._raw = raw
        self._limit = limit
        self.position = position  # absolute decompressed offset of the next byte returned
        self.bytes_read = 0
        self._inflate: Any = zlib.decompressobj(wbits=31) if compressed else None
        self._tail = b""  # compressed input not yet fed to the decompressor
        self._pending_output = False
        self._in_member = False
        # A member ended: zero bytes before the next one (or the end) are padding, as gzip
        # itself reads them (block-oriented tools round a file up with zeros).
        self._after_member = False
        self._eof = False

    def read(self) -> bytes:
        """Next chunk (b"" at the end)."""
        data = self._read_inflated() if self._inflate is not None else self._read_plain()
        self.position += len(data)
        if self.position > self._limit:
            raise FileRejected("too_large_uncompressed")
        return data

    def _read_plain(self) -> bytes:
        data = self._raw.read(CHUNK_BYTES)
        self.bytes_read += len(data)
        return data

    def _read_inflated(self) -> bytes:
        try:
            while True:
                inflate = self._inflate
                if self._tail or self._pending_output:
                    data = inflate.decompress(self._tail, CHUNK_BYTES)
                    self._tail = inflate.unconsumed_tail
                    # A full chunk may leave output inside zlib even with no input left.
                    self._pending_output = len(data) == CHUNK_BYTES
                    if inflate.eof:  # end of a gzip member; another may follow
                        self._tail = inflate.unused_data.lstrip(b"\x00")
                        self._inflate = zlib.decompressobj(wbits=31)
                        self._after_member = True
                        self._in_member = bool(self._tail)
                        self._pending_output = False
                    if data:
                        return data
                    continue
                if self._eof:
                    if self._in_member:  # truncated
                        raise FileRejected("invalid_gzip")
                    return b""
                chunk = self._raw.read(_RAW_READ_BYTES)
                self.bytes_read += len(chunk)
                if not chunk:
                    self._eof = True
                    continue
                if self._after_member and not self._in_member:
                    chunk = chunk.lstrip(b"\x00")
                    if not chunk:
                        continue
                self._in_member = True
                self._tail = chunk
        except zlib.error as exc:
            raise FileRejected("invalid_gzip") from exc

    def skip(self, count: int) -> bytes:
        """Discard `count` decompressed bytes; return what was read beyond them."""
        while count > 0:
            data = self.read()
            if not data:
                return b""
            if len(data) > count:
                return data[count:]
            count -= len(data)
        return b""


def _lines(
    chunks: Iterable[bytes],
    *,
    start: int,
    first_line: int,
    max_line: int,
    newline: bytes = b"\n",
) -> Iterator[tuple[int, int, bytes | None]]:
    """Physical lines as (line number, absolute end offset after the newline, bytes without the
    newline, or None when the line was longer than `max_line` and skipped)."""
    line_no = first_line
    offset = start
    partial = b""
    skipping = False
    for chunk in chunks:
        if skipping:
            nl = chunk.find(newline)
            if nl < 0:
                offset += len(chunk)
                continue
            offset += nl + 1
            yield line_no, offset, None
            line_no += 1
            chunk = chunk[nl + 1 :]
            skipping = False
        data = partial + chunk if partial else chunk
        pieces = data.split(newline)
        partial = pieces.pop()
        for piece in pieces:
            offset += len(piece) + 1
            yield line_no, offset, (piece if len(piece) <= max_line else None)
            line_no += 1
        if len(partial) > max_line:
            offset += len(partial)
            partial = b""
            skipping = True
    if skipping:
        yield line_no, offset, None
    elif partial:
        offset += len(partial)
        yield line_no, offset, (partial if len(partial) <= max_line else None)


# Unicode's bidirectional controls (embeddings, overrides, isolates, marks): invisible, and in a
# value on a screen they reorder what follows them (RNAAM "Jan\u202eevil" before "van 't Hof"
# shows "JanfoH t' nav live"). No name, address or code of the register needs one.
_BIDI_CONTROLS: Final = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _legacy_encoding(newline: str) -> str:
    """What a line that is not UTF-8 is read as: Mac OS Roman in a file whose lines end in a
    bare CR (Excel for Mac's "CSV (Macintosh)" writes both; Windows-1252 would turn Müller
    into MŸller), else Windows-1252."""
    return "mac_roman" if newline == "\r" else "cp1252"


def _decode_line(data: bytes, legacy: str = "cp1252") -> str | None:
    """One line's text: UTF-8 when the line is valid UTF-8, else `legacy` (`_legacy_encoding`);
    None when it is neither or holds a NUL byte (binary data in a text file: no value is
    trustworthy). Bidirectional controls are dropped (Windows-1252 and Mac OS Roman have
    none)."""
    if b"\x00" in data:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return data.decode(legacy)
        except UnicodeDecodeError:  # the five bytes Windows-1252 leaves undefined
            return None
    # str.isascii() reads a flag of the string, and a one-byte search is a memchr: only a line
    # holding a lead byte of a control (that of ’ – € too) is searched for the controls.
    if text.isascii() or (b"\xe2" not in data and b"\xd8" not in data):
        return text
    return _BIDI_CONTROLS.sub("", text)


def _detect_encoding(first: bytes, *, at_eof: bool) -> str:
    if first.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if first.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)) or first.startswith(
        (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    ):
        raise FileRejected("unsupported_encoding")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(first, final=at_eof)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def _detect_delimiter(header: str) -> str:
    counts = {";": 0, ",": 0, "\t": 0}
    quoted = False
    for ch in header:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(counts.values())
    if best == 0:
        return ","
    return next(d for d in (";", ",", "\t") if counts[d] == best)


# --- rows ---------------------------------------------------------------------------------------


class _RecordTooLong(Exception):
    pass


class _QuoteLeftOpen(Exception):
    """A line inside a quoted value reads as a row of its own: the quote was left open."""


def _starts_a_row(data: bytes, delimiter: bytes, row_delimiters: int) -> bool:
    """Whether a line that continues a quoted value is a row of its own (`"Dorpsstraat` with
    no closing quote would otherwise take every later line as the rest of that value): it holds
    the delimiter before any quote (the value's closing quote would come first), and at least
    `row_delimiters` of them, half a row's (a remark over two lines holds one or two)."""
    at = data.find(delimiter)
    return at >= 0 and not 0 <= data.find(b'"') < at and data.count(delimiter) >= row_delimiters


class _CsvFeed:
    """Feeds decoded physical lines to csv.reader and remembers which lines (and bytes) the
    current record took. csv.reader pulls exactly the lines of one record, no read-ahead."""

    def __init__(
        self,
        lines: Iterator[tuple[int, int, bytes | None]],
        max_record: int,
        delimiter: str,
        width: int,
        legacy: str,
    ) -> None:
        self._source = self._lines = lines
        self._legacy = legacy
        self._max = max_record
        self._delimiter = delimiter.encode("ascii")
        self._row_delimiters = max(1, width // 2)  # half of a row's width - 1, rounded up
        self.first_line = 0
        self.last_line = 0
        self.end_offset = 0
        self.bad: str | None = None
        self._size = 0
        self._started = False

    def reset(self) -> None:
        self.bad = None
        self._size = 0
        self._started = False

    def __iter__(self) -> _CsvFeed:
        return self

    def __next__(self) -> str:
        line_no, end, data = next(self._lines)
        if not self._started:
            self._started = True
            self.first_line = line_no
        elif data is not None and _starts_a_row(data, self._delimiter, self._row_delimiters):
            # Read again as the first line of the next record; the record so far is broken.
            self._lines = chain(((line_no, end, data),), self._source)
            raise _QuoteLeftOpen
        self.last_line = line_no
        self.end_offset = end
        if data is None:
            self.bad = self.bad or "line_too_long"
            return "\n"
        self._size += len(data) + 1
        if self._size > self._max:
            self.bad = "line_too_long"
            raise _RecordTooLong
        text = _decode_line(data, self._legacy)
        if text is None:
            self.bad = self.bad or "invalid_encoding"
            return "\n"
        return text + "\n"


def _json_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, list):
        return "|".join(_json_text(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)  # numbers: text already (parse_int as written, parse_float plain)


# A number written out beyond this many digits stays as written (and no rule accepts it).
_JSON_NUMBER_DIGITS = 30


def _json_fraction(text: str) -> str:
    """A JSON number with a fraction or an exponent as plain decimal text without trailing
    zeros (``250.000`` -> ``250``, ``1.250`` -> ``1.25``, ``1e3`` -> ``1000``): JSON writes a
    decimal point and never a thousands separator, so the rows' amount rule must not see its
    ``1.250`` as the ambiguous text a CSV cell can be."""
    try:
        number = Decimal(text).normalize()
    except ArithmeticError:  # beyond what a Decimal holds (1e999999999)
        return text
    if abs(number.adjusted()) > _JSON_NUMBER_DIGITS:
        return text
    return format(number, "f")


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        obj = json.loads(text, parse_int=str, parse_float=_json_fraction, parse_constant=str)
    except (ValueError, RecursionError):  # nested deeper than Python's stack: not a row
        return None
    return obj if isinstance(obj, dict) else None


def _json_row(
    text: str, columns: _JsonColumns | KeysSeen
) -> tuple[tuple[str, ...], list[str]] | None:
    """The labels (the first line, given where to note its keys: its keys and every contract
    label it left out; else those of `columns`) and values of one JSON Lines row; None when
    it is no object, or one whose values nest too deep to read."""
    obj = _json_object(text)
    if obj is None:
        return None
    if isinstance(columns, KeysSeen):
        columns = _json_columns(_jsonl_labels(tuple(obj)), columns)
    try:
        return columns.labels, _json_values(obj, columns)
    except RecursionError:
        return None


def _unicode_text(line: str, texts: list[str]) -> list[str] | None:
    """`texts` read from the JSON Lines `line` as text: None when a JSON escape made a lone
    surrogate (``\\ud800`` without its pair, what an exporter writes when it cuts an emoji at a
    length limit): valid JSON, but not Unicode text, which no store can hold; bidirectional
    controls an escape made (``\\u202e``) dropped as from every line. Only a ``\\u`` escape
    makes either."""
    if "\\u" not in line:
        return texts
    try:
        "".join(texts).encode("utf-8")
    except UnicodeEncodeError:
        return None
    return [_BIDI_CONTROLS.sub("", text) for text in texts]


class RowReader:
    """Iterate to get `RawRow` (or `BadLine`) items; `format` is known as soon as `open_rows`
    returns. Single use."""

    def __init__(
        self,
        source: _Source,
        lines: Iterator[tuple[int, int, bytes | None]],
        fmt: FileFormat,
        limits: ReadLimits,
        *,
        start_offset: int,
        start_line: int,
        pending: RawRow | BadLine | None = None,
        keys_seen: KeysSeen | None = None,
    ) -> None:
        self.format = fmt
        self.keys_seen = keys_seen or KeysSeen()
        self._source = source
        self._lines = lines
        self._limits = limits
        self._pending = pending
        self._offset = start_offset
        self._line = start_line
        self._used = False

    @property
    def bytes_read(self) -> int:
        """Bytes read from the underlying stream so far (compressed bytes for gzip)."""
        return self._source.bytes_read

    @property
    def decompressed_offset(self) -> int:
        """Absolute offset in the decompressed stream up to which input has been consumed."""
        return self._source.position

    def checkpoint(self) -> ResumePoint:
        """Resume point just after the last item this reader yielded (or after the header)."""
        return ResumePoint(format=self.format, offset=self._offset, line=self._line)

    def __iter__(self) -> Iterator[RawRow | BadLine]:
        if self._used:
            raise RuntimeError("a RowReader can be iterated once")
        self._used = True
        items = self._csv_rows() if self.format.type == "csv" else self._json_rows()
        for item in items:
            self._offset = item.end_offset
            self._line = item.last_line or item.line
            yield item

    def _csv_rows(self) -> Iterator[RawRow | BadLine]:
        fmt = self.format
        width = len(fmt.labels)
        delimiter = fmt.delimiter or ","
        feed = _CsvFeed(
            self._lines,
            self._limits.max_line_bytes,
            delimiter,
            width,
            _legacy_encoding(fmt.newline),
        )
        reader = csv.reader(feed, delimiter=delimiter)
        blank = 0
        while True:
            feed.reset()
            try:
                record = next(reader)
            except StopIteration:
                return
            except _RecordTooLong:
                reader = csv.reader(feed, delimiter=delimiter)
                yield RowTooLong(feed.first_line, feed.end_offset, last_line=feed.last_line)
                continue
            except (csv.Error, _QuoteLeftOpen):
                reader = csv.reader(feed, delimiter=delimiter)
                yield BadLine(feed.first_line, feed.end_offset, "invalid_csv", feed.last_line)
                continue
            if feed.bad is not None:
                yield _bad_line(feed.bad, feed.first_line, feed.end_offset, feed.last_line)
                continue
            if not any(field.strip() for field in record):
                blank += 1
                if blank == BLANK_RUN:
                    blank = 0
                    yield BlankLines(feed.first_line, feed.end_offset, last_line=feed.last_line)
                continue
            if len(record) != width:
                if len(record) < width:
                    record.extend([""] * (width - len(record)))
                elif any(field.strip() for field in record[width:]):
                    yield BadLine(
                        feed.first_line, feed.end_offset, "too_many_fields", feed.last_line
                    )
                    continue
                else:
                    del record[width:]
            yield RawRow(feed.first_line, feed.end_offset, record, feed.last_line)

    def _json_rows(self) -> Iterator[RawRow | BadLine]:
        if self._pending is not None:
            yield self._pending
            self._pending = None
        columns = _json_columns(self.format.labels, self.keys_seen)
        legacy = _legacy_encoding(self.format.newline)
        blank = 0
        for line_no, end, data in self._lines:
            if data is None:
                yield RowTooLong(line_no, end, last_line=line_no)
                continue
            text = _decode_line(data, legacy)
            if text is None:
                yield BadLine(line_no, end, "invalid_encoding", line_no)
                continue
            if not text.strip():
                blank += 1
                if blank == BLANK_RUN:
                    blank = 0
                    yield BlankLines(line_no, end, last_line=line_no)
                continue
            row = _json_row(text.lstrip("\ufeff"), columns)
            if row is None:
                yield BadLine(line_no, end, "invalid_json", line_no)
                continue
            values = _unicode_text(text, row[1])
            if values is None:
                yield BadLine(line_no, end, "invalid_encoding", line_no)
                continue
            yield RawRow(line_no, end, values, line_no)


def _bad_line(code: str, line: int, end_offset: int, last_line: int) -> BadLine:
    if code == "line_too_long":
        return RowTooLong(line, end_offset, last_line=last_line)
    return BadLine(line, end_offset, code, last_line)


_MISSING: Final = object()


@dataclass(frozen=True)
class _JsonColumns:
    """Where each key of a JSON Lines object goes: its label's position, matched as written,
    else case-insensitively. `width`: the labels before the role-prefixed ones added at the
    end, the values an object without such keys needs (the row is padded after it)."""

    labels: tuple[str, ...]
    exact: dict[str, int]  # every label but a BSN's: an object's BSN key is looked at apart
    folded: dict[str, int]
    width: int
    bsn: int | None  # where a filled BSN under any of its keys is marked, to be counted
    seen: KeysSeen


def _json_columns(labels: tuple[str, ...], seen: KeysSeen) -> _JsonColumns:
    exact: dict[str, int] = {}
    folded: dict[str, int] = {}
    bsn: int | None = None
    for position, label in enumerate(labels):
        if normalise_label(label) in _BSN_LABELS:
            bsn = position if bsn is None else bsn
            continue
        exact.setdefault(label, position)
        folded.setdefault(label.upper(), position)
    width = len(labels)
    while width and labels[width - 1] in _TAIL_LABELS:
        width -= 1
    return _JsonColumns(labels, exact, folded, width, bsn, seen)


def _jsonl_labels(first_keys: tuple[str, ...]) -> tuple[str, ...]:
    """The columns of a JSON Lines file: the first object's keys, then every label of the
    contract that it left out, the role-prefixed ones last. JSON exporters leave out empty
    fields, and write each party's object with its own prefix (`VP_ANAAM`, then `SP_ANAAM`),
    so a later object may hold what the first had no value for (a company first in the file
    has no birth date; a first client without e-mail): each object is read by its own keys.
    Last a `BSNR` column, where a BSN under any of its keys is counted as dropped (as a CSV's
    BSN column is: never stored), whichever object carries it."""
    present = {normalise_label(key) for key in first_keys}
    added = tuple(label for label in (*_CONTRACT_LABELS, "BSNR") if label not in present)
    return first_keys + added


def _json_values(obj: dict[str, Any], columns: _JsonColumns) -> list[str]:
    values = [""] * columns.width
    exact = columns.exact
    other_case: list[tuple[str, Any]] = []
    for key, value in obj.items():
        position = exact.get(key)
        if position is None:
            other_case.append((key, value))
            continue
        if position >= len(values):
            values.extend([""] * (position + 1 - len(values)))
        values[position] = value if type(value) is str else _json_text(value)
    if other_case:  # a key as written wins over one that differs in case
        as_written = {exact[key] for key in obj if key in exact}
        seen = columns.seen
        for key, value in other_case:
            position = columns.folded.get(key.upper())
            if position is None:
                if normalise_label(key) not in _BSN_LABELS:
                    if len(seen.unknown) < UNKNOWN_KEYS_KEPT:
                        seen.unknown.add(key)
                    continue
                seen.bsn_key = True
                position = columns.bsn
                if position is None or not _json_text(value):
                    continue
                value = _BSN_GIVEN
            if position not in as_written:
                if position >= len(values):
                    values.extend([""] * (position + 1 - len(values)))
                values[position] = _json_text(value)
    return values


# --- open ---------------------------------------------------------------------------------------


def open_rows(
    raw: BinaryIO,
    *,
    filename: str,
    limits: ReadLimits | None = None,
    resume: ResumePoint | None = None,
) -> RowReader:
    """Open a portfolio file for streaming. Reads the header eagerly (unless resuming), so
    `FileRejected` for an unreadable file is raised here; later problems are `BadLine` items
    (or `FileRejected` from the iteration for a gzip bomb / truncated gzip)."""
    limits = limits or ReadLimits()
    file_type, compressed = _file_type(filename)

    if resume is not None and not (resume.format.type == "csv" and resume.offset == 0):
        fmt = resume.format
        source = _Source(
            raw,
            compressed=fmt.compressed,
            limit=limits.max_uncompressed_bytes,
            position=0 if fmt.compressed else resume.offset,
        )
        first = source.skip(resume.offset) if fmt.compressed else b""
        chunks = _chunks(source, first)
        lines = _lines(
            chunks,
            start=resume.offset,
            first_line=resume.line + 1,
            max_line=limits.max_line_bytes,
            newline=fmt.newline.encode("ascii"),
        )
        return RowReader(
            source, lines, fmt, limits, start_offset=resume.offset, start_line=resume.line
        )

    source = _Source(raw, compressed=compressed, limit=limits.max_uncompressed_bytes, position=0)
    first = source.read()
    while 0 < len(first) < CHUNK_BYTES:
        more = source.read()
        if not more:
            break
        first += more
    at_eof = len(first) < CHUNK_BYTES
    if not first:
        raise FileRejected("empty_file")
    encoding = _detect_encoding(first, at_eof=at_eof)
    if _binary(first):
        raise FileRejected("not_a_text_file")
    newline = _line_end(first)
    legacy = _legacy_encoding(newline)
    if encoding == "cp1252":
        encoding = legacy
    lines = _lines(
        _chunks(source, first),
        start=0,
        first_line=1,
        max_line=limits.max_line_bytes,
        newline=newline.encode("ascii"),
    )

    for line_no, end, data in lines:
        if data is None:
            raise FileRejected("line_too_long", line=line_no)
        text = _decode_line(data, legacy)
        if text is None:
            raise FileRejected("undecodable", line=line_no)
        if not text.strip():
            continue
        text = text.lstrip("\ufeff")
        if file_type == "csv":
            delimiter = _detect_delimiter(text)
            try:
                labels = tuple(next(csv.reader([text], delimiter=delimiter), []))
            except csv.Error as exc:  # e.g. a bare CR inside a line of LF-ended lines
                raise FileRejected("invalid_csv", line=line_no) from exc
            fmt = FileFormat("csv", compressed, encoding, delimiter, labels, newline)
            return RowReader(source, lines, fmt, limits, start_offset=end, start_line=line_no)
        keys_seen = KeysSeen()
        row = _json_row(text, keys_seen)
        if row is None:
            raise FileRejected("invalid_json", line=line_no)
        keys = _unicode_text(text, list(row[0]))
        if keys is None:
            raise FileRejected("undecodable", line=line_no)
        fmt = FileFormat("jsonl", compressed, encoding, None, tuple(keys), newline)
        values = _unicode_text(text, row[1])
        pending: RawRow | BadLine = (
            BadLine(line_no, end, "invalid_encoding", line_no)
            if values is None
            else RawRow(line_no, end, values, line_no)
        )
        return RowReader(
            source,
            lines,
            fmt,
            limits,
            start_offset=0,
            start_line=0,
            pending=pending,
            keys_seen=keys_seen,
        )
    raise FileRejected("empty_file")


def _binary(first: bytes) -> bool:
    """Whether the first read is no text file (a spreadsheet, an image, UTF-16 without its BOM):
    NUL bytes in its first line, or more than one and more than 1 of every `_NUL_SHARE` bytes.
    A few NUL bytes in the rows of a text file (a legacy export padding a field) reject only
    their lines."""
    nul = first.count(b"\x00")
    if not nul:
        return False
    first_line = first[: first.find(b"\n")] if b"\n" in first else first
    return b"\x00" in first_line or (nul > 1 and nul * _NUL_SHARE > len(first))


def _line_end(first: bytes) -> str:
    """A file's line end, judged on its first chunk: LF (alone or after CR) unless that chunk
    holds a CR and no LF at all, as every line of an old Mac export ends."""
    return "\r" if b"\n" not in first and b"\r" in first else "\n"


def _chunks(source: _Source, first: bytes) -> Iterator[bytes]:
    if first:
        yield first
    while True:
        data = source.read()
        if not data:
            return
        yield data
