"""Reading an import file row by row from disk: CSV (UTF-8, with or without BOM, or GB18030 as
Chinese spreadsheets save it) or Excel (.xlsx, openpyxl's read-only mode streams the sheet), so
memory stays the same whatever the file's size.

The heading row is read or raises (the whole file is refused). A later row that cannot be read
comes as an `Unreadable` in its place, never as an exception: bytes not in the file's encoding
refuse that row alone; a CSV the parser loses its place in (a quote never closed: the field grows
past the csv module's limit) or an Excel sheet broken in the middle ends the file there (`rest`).
"""

from __future__ import annotations

import csv
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

from openpyxl import load_workbook

from services.domain.screening.import_rows import Cell

_SNIFF_BYTES = 1 << 20
# A float this large is no longer every whole number: Excel keeps 15 significant digits, so an
# 18-digit code typed as a number is already another code; its text is refused, never rounded.
_EXACT_FLOAT = 2.0**53
_SURROGATE = re.compile("[\udc80-\udcff]")
# SyntaxError: the XML parser's ParseError (xml.etree's and lxml's both derive from it).
BROKEN_SHEET = (ValueError, KeyError, EOFError, OSError, SyntaxError, zipfile.BadZipFile, zlib.error)


@dataclass(frozen=True)
class Unreadable:
    """A row that could not be read, with why (Chinese); `rest`: nor can anything after it."""

    message: str
    rest: bool = False


Row = list[Cell] | Unreadable

_NOT_ENCODED = "本行含有无法识别的字符（文件按{}编码读取）：请把整个文件存为 UTF-8 或 GB18030 编码后重新导入"
_LOST_QUOTE = "从本行起引号不配对，文件无法继续读取：本行及其后的行均未导入，请修正后重新导入"
_SPANS_LINES = "本行有单元格跨了{}个换行（引号不配对，或单元格内有换行）：本行未导入，被读进本行的各行也未导入"
_BROKEN_XLSX = "Excel 文件从本行起已损坏，无法继续读取：本行及其后的行均未导入"


def csv_encoding(path: Path) -> str:
    """UTF-8 if the file's first megabyte decodes as UTF-8 (a character cut at the end is fine), else GB18030."""
    with path.open("rb") as file:
        head = file.read(_SNIFF_BYTES)
    try:
        head.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 3:
            return "gb18030"
    return "utf-8-sig"


def file_rows(path: Path, file_format: str) -> Iterator[Row]:
    """Every row of the file's first sheet, the heading included."""
    yield from (_xlsx_rows(path) if file_format == "xlsx" else _csv_rows(path))


def heading_row(rows: Iterator[Row]) -> list[Cell]:
    """The first row: the heading, read or raised, never `Unreadable`."""
    first = next(rows, [])
    assert not isinstance(first, Unreadable)
    return first


def _csv_rows(path: Path) -> Iterator[Row]:
    encoding = csv_encoding(path)
    # Bytes the encoding cannot decode become lone surrogates, found in their own row: the error
    # names the row it is in, not the row where the decoder's 8 KB block began.
    with path.open(encoding=encoding, errors="surrogateescape", newline="") as file:
        reader = csv.reader(file)
        heading = next(reader, [])
        if _undecoded(heading):
            raise ValueError("heading not in the file's encoding")
        yield [*heading]
        lines = reader.line_num
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error:
                yield Unreadable(_LOST_QUOTE, rest=True)
                return
            spanned, lines = reader.line_num - lines, reader.line_num
            if spanned > 1:
                yield Unreadable(_SPANS_LINES.format(spanned - 1))
            elif _undecoded(cells):
                yield Unreadable(_NOT_ENCODED.format("UTF-8" if encoding.startswith("utf") else "GB18030"))
            else:
                yield list(cells)


def _undecoded(cells: list[str]) -> bool:
    return _SURROGATE.search("".join(cells)) is not None


def _xlsx_rows(path: Path) -> Iterator[Row]:
    book = load_workbook(path, read_only=True, data_only=True)
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        yield [_cell(c) for c in next(rows, ())]
        while True:
            try:
                row = next(rows, None)
            except BROKEN_SHEET:
                yield Unreadable(_BROKEN_XLSX, rest=True)
                return
            if row is None:
                return
            yield [_cell(c) for c in row]
    finally:
        book.close()


def _cell(value: object) -> Cell:
    """An Excel cell as the text or number it stands for."""
    if isinstance(value, datetime):
        if value.time() == time(0):
            return _day(value.date())
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return _day(value)
    if isinstance(value, float) and abs(value) >= _EXACT_FLOAT:
        return repr(value)
    if isinstance(value, bool) or not isinstance(value, str | int | float | None):
        return str(value)
    return value


def _day(day: date) -> str:
    """The first of a month is what Excel makes of a month typed as 2026-03 or 2026/3: that month.
    Any other day stays a date (refused where a month is due)."""
    return f"{day:%Y-%m}" if day.day == 1 else day.isoformat()
