"""Reading import files (services/workers/screening/file_rows.py), no database: a row that cannot be
read deep in a CSV (past the first megabyte the encoding is judged by) comes as `Unreadable` in its
own place, and Excel's own cell types (a month made a date, a number made a float) read as what
they stand for."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from services.domain.screening.import_rows import Heading, ImportKind, Refusal
from services.workers.screening.file_rows import Unreadable, file_rows
from tests.screening.files import xlsx_file

CODE = "610824100201000012"
MEGABYTE = 1 << 20


def _csv(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


def _numbered(path: Path, file_format: str = "csv") -> dict[int, object]:
    """Each row by its number in the file (the heading is row 1), as the import numbers them."""
    return dict(enumerate(file_rows(path, file_format), start=1))


def _padded(count: int, text: bytes = b"wage", pad: int = 4000) -> list[bytes]:
    """Income rows of about 4 KB each (a remark column no kind reads): 300 of them pass 1 MB."""
    return [b"%s,%d,%s,%d,%s" % (CODE.encode(), 2000 + n // 4, text, 100 + n, b"x" * pad) for n in range(count)]


def test_a_byte_outside_utf8_past_the_first_megabyte_refuses_its_row_alone(tmp_path: Path) -> None:
    lines = [b"household_code,year,source,yuan,remark", *_padded(400)]
    lines[300] = lines[300].replace(b",wage,", b",wage\xff,", 1)  # row 301, about 1.2 MB in
    assert sum(map(len, lines[:300])) > MEGABYTE
    rows = _numbered(_csv(tmp_path / "incomes.csv", lines))
    assert len(rows) == 401
    assert rows[301] == Unreadable(
        "本行含有无法识别的字符（文件按UTF-8编码读取）：请把整个文件存为 UTF-8 或 GB18030 编码后重新导入"
    )
    # The rows on either side read whole: the error names its own row, not its decoder's block.
    assert [rows[300], rows[302]] == [
        [CODE, "2074", "wage", "398", "x" * 4000],
        [CODE, "2075", "wage", "400", "x" * 4000],
    ]
    assert all(isinstance(rows[n], list) for n in rows if n != 301)


def test_a_gb18030_file_with_a_broken_sequence_deep_in_it(tmp_path: Path) -> None:
    lines = ["户编号,年度,收入来源,金额,备注".encode("gb18030"), *_padded(400, "工资性收入".encode("gb18030"))]
    lines[350] += b"\x81\x20"  # half a character: no GB18030 sequence
    rows = _numbered(_csv(tmp_path / "收入.csv", lines))
    assert rows[2] == [CODE, "2000", "工资性收入", "100", "x" * 4000]
    assert isinstance(rows[351], Unreadable) and "GB18030" in rows[351].message and not rows[351].rest
    assert isinstance(rows[352], list) and len(rows) == 401


def test_a_quote_never_closed_deep_in_a_csv_ends_the_file_at_its_row(tmp_path: Path) -> None:
    lines = [b"household_code,year,source,yuan,remark", *_padded(400)]
    lines[320] = lines[320].replace(b",wage,", b',"wage,', 1)  # row 321: what follows is one field
    rows = _numbered(_csv(tmp_path / "incomes.csv", lines))
    assert len(rows) == 321 and all(isinstance(rows[n], list) for n in range(1, 321))
    assert rows[321] == Unreadable(
        "从本行起引号不配对，文件无法继续读取：本行及其后的行均未导入，请修正后重新导入", rest=True
    )


def test_a_quote_never_closed_near_the_end_names_the_rows_it_swallowed(tmp_path: Path) -> None:
    lines = [b"household_code,year,source,yuan,remark", *_padded(10)]
    lines[8] = lines[8].replace(b",wage,", b',"wage,', 1)  # row 9 takes rows 10 and 11 into one field
    rows = _numbered(_csv(tmp_path / "incomes.csv", lines))
    assert len(rows) == 9
    assert rows[9] == Unreadable(
        "本行有单元格跨了2个换行（引号不配对，或单元格内有换行）：本行未导入，被读进本行的各行也未导入"
    )


def test_a_heading_in_neither_encoding_is_still_the_whole_file_refused(tmp_path: Path) -> None:
    path = _csv(tmp_path / "bad.csv", [b"\xff\xfe\x00\xff" * 8])
    with pytest.raises(ValueError):
        next(file_rows(path, "csv"))


def test_an_excel_sheet_broken_part_way_ends_the_file_at_the_row_it_breaks(tmp_path: Path) -> None:
    rows = [["户编号", "月份", "信号类型", "金额"], *([CODE, "2026-03", "学生辍学", None] for _ in range(2000))]
    whole = zipfile.ZipFile(io.BytesIO(xlsx_file(rows)))
    broken = tmp_path / "信号.xlsx"
    with zipfile.ZipFile(broken, "w") as book:
        for item in whole.infolist():
            content = whole.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = content[: len(content) * 6 // 10] + b"<<<"  # the sheet's XML cut off
            book.writestr(item, content)
    read = _numbered(broken, "xlsx")
    last = max(read)
    assert 1000 < last < 1300 and all(read[n] == rows[n - 1] for n in range(1, last))
    assert read[last] == Unreadable("Excel 文件从本行起已损坏，无法继续读取：本行及其后的行均未导入", rest=True)


def test_excel_cells_read_as_what_they_stand_for(tmp_path: Path) -> None:
    heading = ["户编号", "月份", "信号类型", "金额"]
    path = tmp_path / "信号.xlsx"
    path.write_bytes(
        xlsx_file(
            [
                heading,
                [CODE, datetime(2026, 3, 1), "医疗费用", 7500.0],  # row 2: "2026-03" typed, Excel made it a date
                [CODE, "2026-04", "工资发放", 1200],  # row 3: a whole number is a number too
                [CODE, datetime(2026, 3, 15), "学生辍学", None],  # row 4: a day, not a month
                [CODE, datetime(2026, 5, 1, 8, 30), "学生辍学", None],  # row 5: a moment
                [float(CODE), "2026-06", "学生辍学", None],  # row 6: the code as Excel's float: digits lost
                [CODE, 2026.03, "学生辍学", None],  # row 7: a number is no month
            ]
        )
    )
    rows = _numbered(path, "xlsx")
    signals = Heading(ImportKind.signals, rows[1])  # type: ignore[arg-type]
    read = {n: signals.read(n, rows[n]) for n in range(2, 8)}  # type: ignore[arg-type]
    assert read[2] == {"household_code": CODE, "month": "2026-03", "kind": "medical_bill", "amount": 7500.0}
    assert read[3] == {"household_code": CODE, "month": "2026-04", "kind": "wages_paid", "amount": 1200.0}
    assert read[4] == [Refusal(4, "月份", "应为年月，如2026-03")]
    assert read[5] == [Refusal(5, "月份", "应为年月，如2026-03")]
    assert read[6] == [Refusal(6, "户编号", "户编号应为18位数字")]
    assert read[7] == [Refusal(7, "月份", "应为年月，如2026-03")]
    assert rows[4][1] == "2026-03-15" and rows[5][1] == "2026-05-01 08:30:00"  # type: ignore[index]
