"""Reading an import file row by row from disk: CSV (UTF-8, with or without BOM, or GB18030 as
Chinese spreadsheets save it) or Excel (.xlsx, openpyxl's read-only mode streams the sheet), so
memory stays the same whatever the file's size."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from openpyxl import load_workbook

from services.domain.screening.import_rows import Cell

_SNIFF_BYTES = 1 << 20


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


def file_rows(path: Path, file_format: str) -> Iterator[list[Cell]]:
    """Every row of the file's first sheet, the heading included."""
    if file_format == "xlsx":
        book = load_workbook(path, read_only=True, data_only=True)
        try:
            for row in book.worksheets[0].iter_rows(values_only=True):
                yield [c if isinstance(c, str | int | float) or c is None else str(c) for c in row]
        finally:
            book.close()
        return
    with path.open(encoding=csv_encoding(path), newline="") as file:
        yield from csv.reader(file)
