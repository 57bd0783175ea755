"""Streaming reader of portfolio files (chalicelib/services/reader.py), on in-memory streams."""

from __future__ import annotations

import codecs
import dataclasses
import gzip
import io
import json
import tracemalloc
import zlib

import pytest

from chalicelib.rules.rows import kept_labels
from chalicelib.services.reader import (
    BLANK_RUN,
    CHUNK_BYTES,
    BadLine,
    BlankLines,
    FileFormat,
    FileRejected,
    RawRow,
    ReadLimits,
    ResumePoint,
    RowReader,
    RowTooLong,
    open_rows,
)

pytestmark = pytest.mark.unit

HEADER = "PP_NUMMER;ANAAM;PCODE\n"


def read(data: bytes, filename: str = "portfolio.csv", **kwargs: object) -> RowReader:
    return open_rows(io.BytesIO(data), filename=filename, **kwargs)  # type: ignore[arg-type]


def rows_of(reader: RowReader) -> list[RawRow | BadLine]:
    return list(reader)


def values(reader: RowReader) -> list[list[str]]:
    return [item.values for item in reader if isinstance(item, RawRow)]


def gzip_stream(parts: list[bytes] | None = None, *, repeat: bytes = b"", times: int = 0) -> bytes:
    """Gzip without holding the uncompressed data: `parts`, then `repeat` `times` times."""
    deflate = zlib.compressobj(6, zlib.DEFLATED, 31)
    out = [deflate.compress(part) for part in parts or []]
    out += [deflate.compress(repeat) for _ in range(times)]
    out.append(deflate.flush())
    return b"".join(out)


# --- file type ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "kind", "compressed"),
    [
        ("a.csv", "csv", False),
        ("incoming/p/full/A.CSV", "csv", False),
        ("a.jsonl", "jsonl", False),
        ("a.csv.gz", "csv", True),
        ("a.JSONL.GZ", "jsonl", True),
    ],
)
def test_file_type_comes_from_the_file_name(filename: str, kind: str, compressed: bool) -> None:
    data = b'{"PP_NUMMER": "1"}\n' if kind == "jsonl" else HEADER.encode()
    if compressed:
        data = gzip.compress(data)

    reader = read(data, filename)

    assert (reader.format.type, reader.format.compressed) == (kind, compressed)


@pytest.mark.parametrize("filename", ["a.xlsx", "a.txt", "a.gz", "a.csv.zip", "csv", ".csv"])
def test_other_file_types_are_rejected(filename: str) -> None:
    with pytest.raises(FileRejected) as caught:
        read(HEADER.encode(), filename)

    assert caught.value.code == "unsupported_file_type"
    assert caught.value.message_nl
    assert caught.value.message_en


# --- encoding and delimiter ---------------------------------------------------------------------


def test_utf8_bom_is_detected_and_stripped_from_the_first_label() -> None:
    reader = read(codecs.BOM_UTF8 + (HEADER + "1;Hélène;1234AB\n").encode())

    assert reader.format.encoding == "utf-8-sig"
    assert reader.format.labels == ("PP_NUMMER", "ANAAM", "PCODE")
    assert values(reader) == [["1", "Hélène", "1234AB"]]


def test_utf8_without_bom_is_detected() -> None:
    reader = read((HEADER + "1;Hélène;1234AB\n").encode())

    assert reader.format.encoding == "utf-8"
    assert values(reader) == [["1", "Hélène", "1234AB"]]


def test_windows_1252_is_detected() -> None:
    reader = read((HEADER + "1;Hélène;1234AB\n").encode("cp1252"))

    assert reader.format.encoding == "cp1252"
    assert values(reader) == [["1", "Hélène", "1234AB"]]


def test_a_windows_1252_line_after_the_first_chunk_of_a_utf8_file_is_still_read() -> None:
    filler = "".join(f"{i};Jansen;1234AB\n" for i in range(30_000)).encode()
    data = HEADER.encode() + filler + "x;Hélène;1234AB\n".encode("cp1252")

    reader = read(data)

    assert reader.format.encoding == "utf-8"
    assert values(reader)[-1] == ["x", "Hélène", "1234AB"]


MIXED_ROWS = ("1;Müller;1234AB\n", "2;José;1234AB\n", "3;Ünal;1234AB\n")


@pytest.mark.parametrize("windows_row", [0, 1, 2], ids=["first", "middle", "last"])
def test_one_windows_1252_row_in_a_utf8_file_changes_no_other_row(windows_row: int) -> None:
    # given a UTF-8 file with one row saved as Windows-1252, inside the first chunk
    lines = [
        row.encode("cp1252" if n == windows_row else "utf-8") for n, row in enumerate(MIXED_ROWS)
    ]

    # when it is read
    read_values = values(read(HEADER.encode() + b"".join(lines)))

    # then every name is read as written, in either encoding
    assert [v[1] for v in read_values] == ["Müller", "José", "Ünal"]


@pytest.mark.parametrize("windows_row", [0, 1])
def test_one_windows_1252_line_in_a_utf8_json_lines_file_changes_no_other_line(
    windows_row: int,
) -> None:
    names = ["Müller", "José"]
    lines = [
        (json.dumps({"PP_NUMMER": str(n), "ANAAM": name}, ensure_ascii=False) + "\n").encode(
            "cp1252" if n == windows_row else "utf-8"
        )
        for n, name in enumerate(names)
    ]

    read_values = values(read(b"".join(lines), filename="portfolio.jsonl"))

    assert [v[1] for v in read_values] == names


def test_a_windows_1252_file_reads_every_line_as_windows_1252() -> None:
    # given a file wholly in Windows-1252 (every non-ASCII line invalid as UTF-8)
    data = (HEADER + "".join(MIXED_ROWS) + "4;Hélène Öztürk;1234AB\n").encode("cp1252")

    reader = read(data)

    assert reader.format.encoding == "cp1252"
    assert [v[1] for v in values(reader)] == ["Müller", "José", "Ünal", "Hélène Öztürk"]


def test_a_json_value_with_a_lone_surrogate_escape_is_a_bad_line() -> None:
    # given JSON Lines whose second object holds half an emoji (cut at a length limit), escaped
    lines = [
        '{"PP_NUMMER": "1", "ANAAM": "Berg \\ud83d\\ude00"}',
        '{"PP_NUMMER": "2", "ANAAM": "Berg \\ud83d"}',
        '{"PP_NUMMER": "3", "ANAAM": "Smit"}',
    ]

    items = rows_of(read("\n".join(lines).encode(), filename="portfolio.jsonl"))

    # then the whole emoji is read, the half one is no text, and the next line is read
    assert isinstance(items[0], RawRow)
    assert items[0].values[:2] == ["1", "Berg \U0001f600"]
    assert isinstance(items[1], BadLine)
    assert (items[1].line, items[1].code) == (2, "invalid_encoding")
    assert isinstance(items[2], RawRow)
    assert items[2].values[:2] == ["3", "Smit"]


def test_a_lone_surrogate_in_the_first_json_object_rejects_that_row_or_the_file() -> None:
    value = '{"PP_NUMMER": "1", "ANAAM": "\\udc00Berg"}\n{"PP_NUMMER": "2", "ANAAM": "Smit"}'
    items = rows_of(read(value.encode(), filename="portfolio.jsonl"))
    assert [type(i) for i in items] == [BadLine, RawRow]
    assert items[0].code == "invalid_encoding"

    with pytest.raises(FileRejected) as caught:
        read(b'{"PP_NUMMER": "1", "\\ud800ANAAM": "Berg"}\n', filename="portfolio.jsonl")
    assert caught.value.code == "undecodable"


BIDI_CONTROLS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c"


def test_bidirectional_controls_in_a_csv_line_are_dropped_and_the_rest_kept() -> None:
    # given a file whose names and cities hold bidi controls (an override that would show
    # "Jan\u202eevil" + "van 't Hof" reversed), next to letters that are not ASCII
    lines = [
        "PP_NUMMER;RNAAM;ANAAM;PLAATS",
        "1;Jan\u202eevil;van 't Hof;Utrecht\u2067",
        f"2;Zo\u00eb;{BIDI_CONTROLS}M\u00fcller;\u2019s-Hertogenbosch",
        "3;Kees;Visser;Breda",
    ]

    # when it is read
    rows = values(read("\n".join(lines).encode()))

    # then no value holds a control, and every other character is as delivered
    assert rows == [
        ["1", "Janevil", "van 't Hof", "Utrecht"],
        ["2", "Zo\u00eb", "M\u00fcller", "\u2019s-Hertogenbosch"],
        ["3", "Kees", "Visser", "Breda"],
    ]


def test_bidirectional_controls_in_json_lines_are_dropped_raw_or_escaped() -> None:
    # given JSON Lines with an override written as a character and as a JSON escape
    lines = [
        '{"PP_NUMMER": "1", "RNAAM": "Jan\u202eevil", "ANAAM": "\\u202eHof"}',
        '{"PP_NUMMER": "2", "RNAAM": "Jan\\u202eevil", "ANAAM": "\\u2066Hof"}',
    ]

    # when it is read
    rows = values(read("\n".join(lines).encode(), filename="portfolio.jsonl"))

    # then neither value holds it, in the first object or a later one
    assert [row[:3] for row in rows] == [["1", "Janevil", "Hof"], ["2", "Janevil", "Hof"]]


def test_utf16_is_rejected_as_unsupported_encoding() -> None:
    with pytest.raises(FileRejected) as caught:
        read(HEADER.encode("utf-16"))

    assert caught.value.code == "unsupported_encoding"


@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
def test_delimiter_is_detected_from_the_header(delimiter: str) -> None:
    data = f"PP_NUMMER{delimiter}ANAAM{delimiter}PCODE\n1{delimiter}Jansen{delimiter}1234AB\n"

    reader = read(data.encode())

    assert reader.format.delimiter == delimiter
    assert values(reader) == [["1", "Jansen", "1234AB"]]


def test_delimiters_inside_quoted_labels_do_not_count() -> None:
    reader = read(b'"A,B,C";"D"\n1;2\n')

    assert reader.format.delimiter == ";"
    assert reader.format.labels == ("A,B,C", "D")


def test_header_with_one_column_is_reported_as_one_label() -> None:
    assert read(b"PP_NUMMER\n1\n").format.labels == ("PP_NUMMER",)


# --- CSV records --------------------------------------------------------------------------------


def test_quoted_delimiter_and_doubled_quotes_are_part_of_the_value() -> None:
    reader = read((HEADER + '1;"Berg; van der";"12""34"\n').encode())

    assert values(reader) == [["1", "Berg; van der", '12"34']]


def test_quoted_newline_keeps_the_record_together_and_reports_its_first_line() -> None:
    data = (HEADER + '1;"Jan\nJansen";1234AB\n2;Smit;1234AB\n').encode()

    items = rows_of(read(data))

    assert [(i.line, i.last_line) for i in items] == [(2, 3), (4, 4)]
    assert isinstance(items[0], RawRow)
    assert items[0].values == ["1", "Jan\nJansen", "1234AB"]


def test_a_quote_left_open_costs_its_own_line_and_the_next_lines_are_rows() -> None:
    # given a row whose surname starts with a quote that is never closed
    data = (HEADER + '1;"Jansen;1234AB\n2;Smit;1234AB\n\n3;Bos;1000AA\n').encode()

    # when the file is read
    items = rows_of(read(data))

    # then that line is invalid_csv, and the lines after it are read as the rows they are
    assert [(i.line, i.last_line, getattr(i, "code", None)) for i in items] == [
        (2, 2, "invalid_csv"),
        (3, 3, None),
        (5, 5, None),
    ]
    assert [i.values for i in items if isinstance(i, RawRow)] == [
        ["2", "Smit", "1234AB"],
        ["3", "Bos", "1000AA"],
    ]
    # and reading resumes exactly after the broken line
    assert items[0].end_offset == len((HEADER + '1;"Jansen;1234AB\n').encode())


def test_a_quoted_remark_whose_next_line_holds_a_delimiter_is_one_value() -> None:
    # given a file of five columns, a remark typed over two lines with the delimiter in both
    data = (
        b"PP_NUMMER;ANAAM;PCODE;PLAATS;OPMERKING\n"
        b'1;Jansen;1234AB;Utrecht;"Belt terug;\nafspraak 12-3; via mail"\n'
        b"2;Smit;1234AB;Utrecht;\n"
    )

    # when it is read
    items = rows_of(read(data))

    # then the remark's second line is part of the value (two delimiters are no row of five
    # columns), and the next line is the next row
    assert [(i.line, i.last_line, getattr(i, "code", None)) for i in items] == [
        (2, 3, None),
        (4, 4, None),
    ]
    assert isinstance(items[0], RawRow)
    assert items[0].values[-1] == "Belt terug;\nafspraak 12-3; via mail"


def test_a_quoted_value_over_several_lines_ending_in_its_quote_is_one_row() -> None:
    # given a street over three lines, the last with the quote and the row's other values
    data = (HEADER + '1;"Dorpsstraat 1\nachterhuis\nboven";1234AB\n2;Smit;1234AB\n').encode()

    # when it is read
    items = rows_of(read(data))

    # then it is one row, and so is the next
    assert [(i.line, i.last_line) for i in items] == [(2, 4), (5, 5)]
    assert isinstance(items[0], RawRow)
    assert items[0].values == ["1", "Dorpsstraat 1\nachterhuis\nboven", "1234AB"]


def test_windows_line_endings_are_not_part_of_the_values() -> None:
    data = b"PP_NUMMER;ANAAM\r\n1;Jansen\r\n2;Smit\r\n"

    reader = read(data)

    assert reader.format.labels == ("PP_NUMMER", "ANAAM")
    assert values(reader) == [["1", "Jansen"], ["2", "Smit"]]


def test_blank_lines_and_rows_of_only_delimiters_are_skipped() -> None:
    data = (HEADER + "\n1;Jansen;1234AB\n   \n;;\n2;Smit;1234AB").encode()

    items = rows_of(read(data))

    assert [(i.line, i.values) for i in items if isinstance(i, RawRow)] == [
        (3, ["1", "Jansen", "1234AB"]),
        (6, ["2", "Smit", "1234AB"]),
    ]


def test_short_rows_are_padded_and_empty_trailing_fields_dropped() -> None:
    reader = read((HEADER + "1;Jansen\n2;Smit;1234AB;;\n").encode())

    assert values(reader) == [["1", "Jansen", ""], ["2", "Smit", "1234AB"]]


def test_row_with_more_values_than_labels_is_a_bad_line() -> None:
    items = rows_of(read((HEADER + "1;Berg; van der;1234AB\n2;Smit;1234AB\n").encode()))

    assert isinstance(items[0], BadLine)
    assert (items[0].line, items[0].code) == (2, "too_many_fields")
    assert isinstance(items[1], RawRow)


def test_nul_byte_after_the_first_chunk_is_a_bad_line() -> None:
    filler = "".join(f"{i};Jansen;1234AB\n" for i in range(30_000))
    data = (HEADER + filler + "x;Jan\x00sen;1234AB\ny;Smit;1234AB\n").encode()

    items = rows_of(read(data))

    assert isinstance(items[-2], BadLine)
    assert items[-2].code == "invalid_encoding"
    assert isinstance(items[-1], RawRow)
    assert items[-1].values == ["y", "Smit", "1234AB"]


def test_bare_carriage_return_in_a_row_is_a_bad_line() -> None:
    items = rows_of(read((HEADER + "1;Jan\rsen;1234AB\n2;Smit;1234AB\n").encode()))

    assert isinstance(items[0], BadLine)
    assert items[0].code == "invalid_csv"
    assert isinstance(items[1], RawRow)


def test_a_file_with_old_mac_line_ends_is_read_line_by_line_on_carriage_returns() -> None:
    # given a CSV whose every line ends in a bare CR, as Excel for Mac's "CSV (Macintosh)"
    data = b"PP_NUMMER;ANAAM\r1;Jansen\r2;Smit\r"

    # when it is read
    reader = read(data)

    # then each CR ends a line, and offsets count the CRs
    assert values(reader) == [["1", "Jansen"], ["2", "Smit"]]
    assert [row.end_offset for row in rows_of(read(data))] == [
        data.index(b"\r2") + 1,
        len(data),
    ]


def test_a_mac_file_larger_than_one_chunk_is_read_whole() -> None:
    # given a CR-ended file far over one read chunk (one line per row, no line near the limit)
    rows = [f"{n};Jansen{n}" for n in range(40_000)]
    data = ("PP_NUMMER;ANAAM\r" + "\r".join(rows) + "\r").encode()
    assert len(data) > 2 * CHUNK_BYTES

    # when it is read, then every row is one record
    assert values(read(data)) == [row.split(";") for row in rows]


def test_resuming_a_mac_file_at_a_checkpoint_goes_on_with_its_line_ends() -> None:
    # given a CR-ended file read up to its second row
    data = b"PP_NUMMER;ANAAM\r1;Jansen\r2;Smit\r3;de Vries\r"
    reader = read(data)
    iterator = iter(reader)
    next(iterator)
    next(iterator)
    point = reader.checkpoint()

    # when the ingest resumes from the checkpoint
    resumed = values(read(data[point.offset :], resume=point))

    # then it reads the rest on CR, like the first pass
    assert point.format.newline == "\r"
    assert resumed == [["3", "de Vries"]]


def test_an_excel_for_mac_csv_keeps_its_diacritics() -> None:
    # given Excel for Mac's "CSV (Macintosh)": bare CR line ends and Mac OS Roman text
    data = "PP_NUMMER;ANAAM;RNAAM\r1;Müller;Daniëlle\r2;Café;Åsa\r".encode("mac_roman")

    # when it is read, then every name is as the partner typed it
    reader = read(data)
    assert values(reader) == [["1", "Müller", "Daniëlle"], ["2", "Café", "Åsa"]]
    assert reader.format.encoding == "mac_roman"


def test_a_mac_file_resumed_at_a_checkpoint_still_reads_mac_roman() -> None:
    data = "PP_NUMMER;ANAAM\r1;Jansen\r2;Smit\r3;Müller\r".encode("mac_roman")
    reader = read(data)
    iterator = iter(reader)
    next(iterator)
    point = reader.checkpoint()

    assert values(read(data[point.offset :], resume=point)) == [["2", "Smit"], ["3", "Müller"]]


def test_a_windows_file_with_line_feeds_still_reads_windows_1252() -> None:
    data = "PP_NUMMER;ANAAM\r\n1;Müller €\r\n".encode("cp1252")

    assert values(read(data)) == [["1", "Müller €"]]


def test_a_utf8_line_in_a_mac_file_is_read_as_utf8() -> None:
    data = "PP_NUMMER;ANAAM\r1;Müller\r".encode() + "2;Müller\r".encode("mac_roman")

    assert values(read(data)) == [["1", "Müller"], ["2", "Müller"]]


def test_a_json_lines_file_with_old_mac_line_ends_is_read_object_by_object() -> None:
    data = b'{"PP_NUMMER": "1", "ANAAM": "Jansen"}\r{"PP_NUMMER": "2", "ANAAM": "Smit"}\r'

    rows = [row for row in rows_of(read(data, "p.jsonl")) if isinstance(row, RawRow)]

    assert len(rows) == 2


def test_a_checkpoint_written_before_line_ends_were_kept_resumes_on_line_feeds() -> None:
    # given the format a checkpoint of an earlier version stored (no newline field)
    stored = {"type": "csv", "compressed": False, "encoding": "utf-8", "delimiter": ";"}

    # when it is rebuilt, then its lines end in LF as they did then
    assert FileFormat(**stored, labels=("PP_NUMMER",)).newline == "\n"


def test_undecodable_line_in_a_windows_1252_file_is_a_bad_line() -> None:
    data = HEADER.encode() + b"1;Jans\x81n;1234AB\n2;Smit;1234AB\n"

    items = rows_of(read(data))

    assert isinstance(items[0], BadLine)
    assert items[0].code == "invalid_encoding"
    assert isinstance(items[1], RawRow)


# --- unreadable files ---------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"   \n\n \r\n"])
def test_empty_file_is_rejected(data: bytes) -> None:
    with pytest.raises(FileRejected) as caught:
        read(data)

    assert caught.value.code == "empty_file"


def test_header_only_file_yields_no_rows() -> None:
    assert rows_of(read(HEADER.encode())) == []


def test_binary_file_is_rejected() -> None:
    with pytest.raises(FileRejected) as caught:
        read(b"PK\x03\x04\x00\x00\x08\x00" + bytes(range(256)))

    assert caught.value.code == "not_a_text_file"


def test_a_nul_byte_in_a_row_of_the_first_read_rejects_that_line_only() -> None:
    # given a small file (read whole at once) with one NUL byte padding a value in row 2
    data = (HEADER + "1;Jansen;1234AB\n2;Sm\x00it;1234AB\n3;Bos;1000AA\n").encode()

    # when it is read
    items = rows_of(read(data))

    # then that line is invalid_encoding and the others are rows
    assert [(i.line, getattr(i, "code", None)) for i in items] == [
        (2, None),
        (3, "invalid_encoding"),
        (4, None),
    ]


@pytest.mark.parametrize(
    "data",
    [
        (HEADER + "1;Jansen;1234AB\n").encode("utf-16-le"),  # UTF-16 without its BOM
        b"PP_NUMMER\x00;ANAAM\n1;Jansen\n",  # a NUL in the first line
    ],
    ids=["utf-16 without bom", "nul in the first line"],
)
def test_a_file_with_nul_bytes_in_its_first_line_or_many_is_no_text_file(data: bytes) -> None:
    with pytest.raises(FileRejected) as caught:
        read(data)

    assert caught.value.code == "not_a_text_file"


def test_header_that_cannot_be_decoded_is_rejected() -> None:
    with pytest.raises(FileRejected) as caught:
        read(b"PP_NUMMER;AN\x81AM\n")

    assert caught.value.code == "undecodable"


def test_five_megabyte_single_line_is_rejected_in_bounded_memory() -> None:
    data = b"A;" * (5 * 1024 * 1024 // 2)
    tracemalloc.start()
    try:
        with pytest.raises(FileRejected) as caught:
            read(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert caught.value.code == "line_too_long"
    assert peak < 4 * 1024 * 1024


def test_too_long_line_after_the_header_is_skipped_and_reading_goes_on() -> None:
    data = (HEADER + "1;" + "x" * 200_000 + ";1234AB\n2;Smit;1234AB\n").encode()

    items = rows_of(read(data, limits=ReadLimits(max_line_bytes=1000)))

    assert isinstance(items[0], RowTooLong)
    assert (items[0].line, items[0].code) == (2, "line_too_long")
    assert items[0].end_offset == len(data) - len(b"2;Smit;1234AB\n")
    assert isinstance(items[1], RawRow)
    assert (items[1].line, items[1].values) == (3, ["2", "Smit", "1234AB"])


def test_unclosed_quote_before_lines_of_rows_is_a_bad_line_and_the_rows_are_read() -> None:
    data = (HEADER + '1;"Jansen;1234AB\n' + "x;y;z\n" * 100 + "").encode()

    items = rows_of(read(data, limits=ReadLimits(max_line_bytes=200)))

    assert (items[0].line, getattr(items[0], "code", None)) == (2, "invalid_csv")
    assert all(isinstance(i, RawRow) for i in items[1:])
    assert len(items) == 101


def test_unclosed_quote_spanning_too_many_lines_is_cut_off_as_too_long() -> None:
    # lines without a delimiter may continue a quoted value (a note over many lines)
    data = (HEADER + '1;"Jansen\n' + "xyz\n" * 100 + "2;Smit;1234AB\n").encode()

    items = rows_of(read(data, limits=ReadLimits(max_line_bytes=200)))

    assert isinstance(items[0], RowTooLong)
    assert items[0].line == 2
    assert all(isinstance(i, RawRow) for i in items[1:])
    assert len(items) > 50


# --- gzip ---------------------------------------------------------------------------------------


def test_gzip_file_is_read_with_offsets_in_the_decompressed_stream() -> None:
    plain = (HEADER + "1;Jansen;1234AB\n2;Smit;1234AB\n").encode()

    items = rows_of(read(gzip.compress(plain), "p.csv.gz"))

    assert [i.values for i in items if isinstance(i, RawRow)] == [
        ["1", "Jansen", "1234AB"],
        ["2", "Smit", "1234AB"],
    ]
    assert items[-1].end_offset == len(plain)


def test_concatenated_gzip_members_are_read_as_one_stream() -> None:
    data = gzip.compress((HEADER + "1;Jansen;1234AB\n").encode()) + gzip.compress(b"2;Smit;X\n")

    assert values(read(data, "p.csv.gz")) == [["1", "Jansen", "1234AB"], ["2", "Smit", "X"]]


@pytest.mark.parametrize("padding", [1, 511, 70_000], ids=lambda n: f"{n} zero bytes")
def test_zero_bytes_after_the_last_gzip_member_are_padding_not_a_broken_file(padding: int) -> None:
    # given a gzip file padded with zero bytes to a block (gzip -d reads it whole), the padding
    # longer than one raw read in the largest case
    plain = (HEADER + "1;Jansen;1234AB\n2;Smit;1234AB\n").encode()
    data = gzip.compress(plain) + b"\x00" * padding
    assert gzip.decompress(data) == plain

    # when it is read, then every row is there and nothing is refused
    assert values(read(data, "p.csv.gz")) == [["1", "Jansen", "1234AB"], ["2", "Smit", "1234AB"]]


def test_zero_bytes_between_gzip_members_are_padding() -> None:
    data = (
        gzip.compress((HEADER + "1;Jansen;1234AB\n").encode())
        + b"\x00" * 512
        + gzip.compress(b"2;Smit;X\n")
    )

    assert values(read(data, "p.csv.gz")) == [["1", "Jansen", "1234AB"], ["2", "Smit", "X"]]


def test_bytes_after_a_gzip_member_that_are_not_zero_nor_a_member_are_rejected() -> None:
    data = gzip.compress((HEADER + "1;Jansen;1234AB\n").encode()) + b"\x00\x00garbage"

    with pytest.raises(FileRejected) as caught:
        rows_of(read(data, "p.csv.gz"))

    assert caught.value.code == "invalid_gzip"


def test_a_gzip_file_that_starts_with_zero_bytes_is_rejected() -> None:
    # padding follows a member; before the first one, gzip itself refuses the file
    with pytest.raises(FileRejected) as caught:
        rows_of(read(b"\x00" * 16 + gzip.compress(HEADER.encode()), "p.csv.gz"))

    assert caught.value.code == "invalid_gzip"


def test_corrupt_gzip_is_rejected() -> None:
    with pytest.raises(FileRejected) as caught:
        read(b"not gzip at all", "p.csv.gz")

    assert caught.value.code == "invalid_gzip"


def test_truncated_gzip_fails_when_the_end_is_reached() -> None:
    body = "".join(f"{i};Jansen;1234AB\n" for i in range(50_000)).encode()
    data = gzip.compress(HEADER.encode() + body)[:-100]
    reader = read(data, "p.csv.gz")

    with pytest.raises(FileRejected) as caught:
        rows_of(reader)

    assert caught.value.code == "invalid_gzip"


def test_gzip_bomb_is_stopped_at_the_uncompressed_limit_in_bounded_memory() -> None:
    row = b"1;" + b"0" * 1000 + b";1234AB\n"
    bomb = gzip_stream([HEADER.encode()], repeat=row * 1000, times=200)  # ~200 MB
    limits = ReadLimits(max_uncompressed_bytes=10 * 1024 * 1024)
    tracemalloc.start()
    try:
        reader = read(bomb, "bomb.csv.gz", limits=limits)
        with pytest.raises(FileRejected) as caught:
            for _ in reader:
                pass
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert caught.value.code == "too_large_uncompressed"
    assert peak < 50 * 1024 * 1024
    assert reader.bytes_read < len(bomb)


def test_gzip_bomb_of_zeros_without_newline_is_rejected_while_opening() -> None:
    bomb = gzip_stream(repeat=b"\x30" * (1024 * 1024), times=200)

    with pytest.raises(FileRejected) as caught:
        read(bomb, "bomb.csv.gz", limits=ReadLimits(max_uncompressed_bytes=10 * 1024 * 1024))

    assert caught.value.code == "too_large_uncompressed"


# --- JSON Lines ---------------------------------------------------------------------------------


def test_json_lines_labels_are_the_keys_of_the_first_object() -> None:
    data = (
        b'{"PP_NUMMER": 12, "anaam": "Jansen", "PP_DEKKING": ["RP", "VK"], "VOORV": null,'
        b' "PP_EIGENRISICO": 175.50, "X": true}\n'
        b"\n"
        b'{"pp_nummer": "A-1", "ANAAM": "Smit", "extra": 1}\n'
    )

    reader = read(data, "p.jsonl")
    items = rows_of(reader)

    first = ("PP_NUMMER", "anaam", "PP_DEKKING", "VOORV", "PP_EIGENRISICO", "X")
    assert reader.format.labels[:6] == first
    # then every label of the contract the first object left out, the BSN's last (where any
    # object's BSN is counted as dropped)
    added = reader.format.labels[6:]
    assert "GEBDAT" in added
    assert "EMAIL" in added
    assert not {"ANAAM", "PP_NUMMER"} & set(added)
    assert added[-1] == "BSNR"
    assert reader.format.delimiter is None
    assert [(i.line, i.values[:6]) for i in items if isinstance(i, RawRow)] == [
        (1, ["12", "Jansen", "RP|VK", "", "175.5", "true"]),
        (3, ["A-1", "Smit", "", "", "", ""]),
    ]
    assert all(value == "" for i in items if isinstance(i, RawRow) for value in i.values[6:])
    assert items[-1].end_offset == len(data)


def test_json_line_that_is_not_an_object_is_a_bad_line() -> None:
    data = b'{"PP_NUMMER": "1"}\n[1, 2]\n{"PP_NUMMER": \n{"PP_NUMMER": "2"}\n'

    items = rows_of(read(data, "p.jsonl"))

    assert [(i.line, getattr(i, "code", None)) for i in items] == [
        (1, None),
        (2, "invalid_json"),
        (3, "invalid_json"),
        (4, None),
    ]


@pytest.mark.parametrize(
    "deep",
    [
        b"[" * 30000 + b"]" * 30000,  # nested beyond what the parser takes
        b'{"a":' * 10000 + b"1" + b"}" * 10000,
        b'{"PP_NUMMER": "2", "ANAAM": '
        + b"[" * 990
        + b"]" * 990
        + b"}",  # parsed, too deep to read
    ],
)
def test_a_json_line_nested_too_deep_is_a_bad_line_not_a_crash(deep: bytes) -> None:
    data = b'{"PP_NUMMER": "1", "ANAAM": "Berg"}\n' + deep + b'\n{"PP_NUMMER": "3", "ANAAM": "X"}\n'

    items = rows_of(read(data, "p.jsonl"))

    assert [(i.line, getattr(i, "code", None)) for i in items] == [
        (1, None),
        (2, "invalid_json"),
        (3, None),
    ]


def test_a_json_lines_file_whose_first_line_nests_too_deep_is_rejected() -> None:
    with pytest.raises(FileRejected) as caught:
        read(b"[" * 30000 + b"]" * 30000 + b'\n{"PP_NUMMER": "1"}\n', "p.jsonl")

    assert caught.value.code == "invalid_json"


def test_json_lines_file_whose_first_line_is_not_an_object_is_rejected() -> None:
    with pytest.raises(FileRejected) as caught:
        read(b"PP_NUMMER;ANAAM\n", "p.jsonl")

    assert caught.value.code == "invalid_json"


# --- offsets and resume -------------------------------------------------------------------------

CSV_FILE = (
    codecs.BOM_UTF8
    + (
        HEADER
        + "1;Jansen;1234AB\n"
        + '2;"Jan\nvan Dijk";1234AB\n'
        + "\n"
        + "3;Hélène;2611ET\r\n"
        + "4;Smit;9999ZZ\n"
        + "5;Bos;1000AA"
    ).encode()
)


def test_end_offsets_are_exact_byte_positions() -> None:
    items = rows_of(read(CSV_FILE))

    ends = [i.end_offset for i in items]
    assert CSV_FILE[: ends[0]].endswith(b"1;Jansen;1234AB\n")
    assert CSV_FILE[: ends[1]].endswith(b'"Jan\nvan Dijk";1234AB\n')
    assert CSV_FILE[: ends[2]].endswith("3;Hélène;2611ET\r\n".encode())
    assert ends[-1] == len(CSV_FILE)


def test_checkpoint_before_any_row_is_just_after_the_header() -> None:
    reader = read(CSV_FILE)

    point = reader.checkpoint()

    assert (point.offset, point.line) == (len(codecs.BOM_UTF8) + len(HEADER), 1)


@pytest.mark.parametrize("done", [0, 1, 2, 3, 4])
def test_resuming_a_plain_file_at_a_checkpoint_yields_exactly_the_remaining_rows(
    done: int,
) -> None:
    everything = rows_of(read(CSV_FILE))
    reader = read(CSV_FILE)
    iterator = iter(reader)
    for _ in range(done):
        next(iterator)
    point = reader.checkpoint()

    resumed = rows_of(read(CSV_FILE[point.offset :], resume=point))

    assert resumed == everything[done:]


@pytest.mark.parametrize("done", [1, 3])
def test_resuming_a_gzip_file_decompresses_from_the_start_and_skips_to_the_offset(
    done: int,
) -> None:
    compressed = gzip.compress(CSV_FILE)
    everything = rows_of(read(compressed, "p.csv.gz"))
    reader = read(compressed, "p.csv.gz")
    iterator = iter(reader)
    for _ in range(done):
        next(iterator)
    point = reader.checkpoint()

    resumed = rows_of(read(compressed, "p.csv.gz", resume=point))

    assert resumed == everything[done:]
    assert resumed[0].line == everything[done].line


def test_resume_point_built_from_a_row_continues_with_absolute_offsets_and_lines() -> None:
    everything = rows_of(read(CSV_FILE))
    first = everything[1]
    point = ResumePoint(read(CSV_FILE).format, first.end_offset, first.last_line or first.line)

    resumed = rows_of(read(CSV_FILE[point.offset :], resume=point))

    assert [(i.line, i.end_offset) for i in resumed] == [
        (i.line, i.end_offset) for i in everything[2:]
    ]


def test_csv_resume_point_at_offset_zero_reads_the_header_again() -> None:
    fmt = read(CSV_FILE).format

    resumed = rows_of(read(CSV_FILE, resume=ResumePoint(fmt, 0, 0)))

    assert resumed == rows_of(read(CSV_FILE))


def test_resuming_json_lines_continues_after_the_checkpoint() -> None:
    data = b'{"PP_NUMMER": "1"}\n{"PP_NUMMER": "2"}\n{"PP_NUMMER": "3"}\n'
    reader = read(data, "p.jsonl")
    iterator = iter(reader)
    next(iterator)
    point = reader.checkpoint()

    resumed = rows_of(read(data[point.offset :], "p.jsonl", resume=point))

    assert [(i.line, i.values[0]) for i in resumed if isinstance(i, RawRow)] == [
        (2, "2"),
        (3, "3"),
    ]


def test_a_resumed_json_lines_file_reads_role_prefixed_keys_by_the_labels_kept() -> None:
    # given JSON Lines whose first object uses VP_ keys and whose second uses SP_ keys, and a
    # checkpoint after the first with the labels as the ingest keeps them (contract labels only)
    data = (
        b'{"PP_NUMMER": "1", "VP_ANAAM": "Berg", "X_NOTE": "geheim"}\n'
        b'{"PP_NUMMER": "1", "SP_ANAAM": "Visser", "SP_EMAIL": "v@example.nl"}\n'
    )
    reader = read(data, "p.jsonl")
    next(iter(reader))
    point = reader.checkpoint()
    kept = tuple(kept_labels(point.format.labels))
    assert "X_NOTE" not in kept
    resume = dataclasses.replace(point, format=dataclasses.replace(point.format, labels=kept))

    # when the rest is read from there
    (row,) = rows_of(read(data[point.offset :], "p.jsonl", resume=resume))

    # then the second object's prefixed keys are read in their columns
    assert isinstance(row, RawRow)
    by_label = dict(zip(kept, row.values, strict=False))
    assert (by_label["SP_ANAAM"], by_label["SP_EMAIL"]) == ("Visser", "v@example.nl")
    assert by_label["VP_ANAAM"] == ""


def test_a_reader_can_be_iterated_only_once() -> None:
    reader = read(CSV_FILE)
    rows_of(reader)

    with pytest.raises(RuntimeError):
        rows_of(reader)


@pytest.mark.parametrize(
    ("number", "text"),
    [("250.000", "250"), ("1.250", "1.25"), ("100.0", "100"), ("1e3", "1000"), ("0.50", "0.5")],
)
def test_a_json_number_with_a_fraction_is_read_as_plain_decimal_text(
    number: str, text: str
) -> None:
    # given a JSON Lines deductible written as a JSON number (a decimal point, never a
    # thousands separator: what a NUMERIC(12,3) column exports)
    data = b'{"PP_NUMMER": "A-1", "PP_EIGENRISICO": ' + number.encode() + b"}\n"

    # when it is read
    (row,) = [i for i in rows_of(read(data, "p.jsonl")) if isinstance(i, RawRow)]

    # then its text is the number without trailing zeros, which no amount rule reads twice
    assert row.values[1] == text


def test_a_json_number_too_large_to_write_out_is_kept_as_written() -> None:
    data = b'{"PP_NUMMER": "A-1", "PP_EIGENRISICO": 1e999999999}\n'

    (row,) = [i for i in rows_of(read(data, "p.jsonl")) if isinstance(i, RawRow)]

    assert row.values[1] == "1e999999999"


def test_a_run_of_blank_lines_is_stood_for_by_one_item_every_blank_run_lines() -> None:
    # given a row followed by two and a half runs of blank lines and ;;; rows, then a row
    data = (HEADER + "1;Jansen;1234AB\n" + "\n;;\n" * BLANK_RUN + "\n" * (BLANK_RUN // 2)).encode()
    data += b"2;Smit;1234AB\n"

    items = rows_of(read(data))

    # then the rows come as rows, and each run of skipped lines as one BlankLines item
    assert [type(item).__name__ for item in items] == [
        "RawRow",
        "BlankLines",
        "BlankLines",
        "RawRow",
    ]
    first_run = items[1]
    assert isinstance(first_run, BlankLines)
    assert first_run.line == 2 + BLANK_RUN  # the run's last skipped line
    assert data[: first_run.end_offset].endswith(b"\n")
