"""A one-sheet Excel workbook (xlsx) written as a stream: rows go into the zip as they come and
the bytes leave at once, so memory stays flat however many rows there are.

Cells are inline strings and numbers (no shared-string table, which would have to hold every
text until the end). The zip is written to an unseekable sink, so zipfile adds data descriptors
and ZIP64 sizes where needed, as Excel, LibreOffice and openpyxl all read."""

from __future__ import annotations

import zipfile
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from datetime import date
from typing import IO, Any, cast
from xml.sax.saxutils import escape

# Characters XML 1.0 does not allow (C0 controls other than tab and line breaks): dropped from cells.
_NOT_XML = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
# Bytes gathered before they are handed on: large enough for few, cheap chunks.
_CHUNK = 256 * 1024

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/></Relationships>'
)
_SHEET_START = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
_SHEET_END = "</sheetData></worksheet>"


def _workbook(sheet_name: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<sheets><sheet name="{escape(sheet_name[:31], {chr(34): "&quot;"})}" sheetId="1" r:id="rId1"/></sheets>'
        "</workbook>"
    )


def _cell(value: Any) -> str:
    if value is None:
        return "<c/>"
    if isinstance(value, bool):
        value = "是" if value else "否"
    elif isinstance(value, int | float):
        return f"<c><v>{value}</v></c>"
    elif isinstance(value, date):
        value = value.isoformat()
    text = escape(str(value).translate(_NOT_XML))
    return f'<c t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def row_xml(values: Sequence[Any]) -> str:
    return "<row>" + "".join(_cell(v) for v in values) + "</row>"


class _Sink:
    """What zipfile writes to: keeps the bytes until they are taken (never seeks)."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._size = 0
        self._position = 0

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        self._size += len(data)
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        pass

    def pending(self) -> int:
        return self._size

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts, self._size = [], 0
        return data


async def xlsx_stream(
    sheet_name: str, headings: Sequence[str], rows: AsyncIterable[Sequence[str]]
) -> AsyncIterator[bytes]:
    """The workbook's bytes: one sheet, a heading row, then each batch of `rows`, rows already
    rendered as worksheet XML (`row_xml`, or by the database: services/api/reports/sql_cells.py)."""
    sink = _Sink()
    # Level 1: most of the size gain of deflate at a fraction of its time.
    with zipfile.ZipFile(cast(IO[bytes], sink), "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as package:
        package.writestr("[Content_Types].xml", _CONTENT_TYPES)
        package.writestr("_rels/.rels", _ROOT_RELS)
        package.writestr("xl/workbook.xml", _workbook(sheet_name))
        package.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with package.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write((_SHEET_START + row_xml(headings)).encode())
            async for batch in rows:
                sheet.write("".join(batch).encode())
                if sink.pending() >= _CHUNK:
                    yield sink.take()
            sheet.write(_SHEET_END.encode())
    yield sink.take()
