"""The rows of an import file: which columns each kind of file has (English names or the Chinese
headings departments use), and each cell checked into a value, or refused with a reason in Chinese.
Pure: what the register holds (villages, households) is checked where the rows are written."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from operator import itemgetter
from typing import Any

from services.domain.form_fields import text_problem
from services.domain.personal_data import birth_date_of, id_number_problem

Cell = str | int | float | None


class ImportKind(StrEnum):
    households = "households"  # 农户基本信息
    members = "members"  # 家庭成员
    incomes = "incomes"  # 分项年收入
    signals = "signals"  # 月度监测信号


class ImportMode(StrEnum):
    all_or_nothing = "all_or_nothing"  # any refused row: nothing of the file is taken
    row_by_row = "row_by_row"  # good rows are taken, refused ones reported


class RowRefused(ValueError):
    pass


def _text(limit: int) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if problem := text_problem(value):
            raise RowRefused(problem)
        if len(value) > limit:
            raise RowRefused(f"不能超过{limit}个字")
        return value

    return parse


def _digits(count: int, what: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        # ASCII only: str.isdigit() also takes full-width and other scripts' digits, which the
        # register's codes never hold (and PostgreSQL's int cast of a code's serial refuses).
        if len(value) != count or not (value.isascii() and value.isdigit()):
            raise RowRefused(f"{what}应为{count}位数字")
        return value

    return parse


def _number(low: float, high: float, whole: bool = False) -> Callable[[str], float]:
    def parse(value: str) -> float:
        try:
            number = float(value)
        except ValueError:
            raise RowRefused("应为数字") from None
        if not math.isfinite(number) or not low <= number <= high:
            raise RowRefused(f"应在{low:g}到{high:g}之间")
        if whole and number != int(number):
            raise RowRefused("应为整数")
        return int(number) if whole else number

    return parse


def _id_number(value: str) -> str:
    value = value.upper()
    if problem := id_number_problem(value):
        raise RowRefused(problem)
    return value


_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$", re.ASCII)


def _month(value: str) -> str:
    match = _MONTH.match(value.replace("/", "-"))
    if not match or not 2000 <= int(match.group(1)) <= 2100:
        raise RowRefused("应为年月，如2026-03")
    return match.group(0)


def _choice(choices: dict[str, str]) -> Callable[[str], str]:
    """Accepts the English value or its Chinese label."""
    by_label = {label: value for value, label in choices.items()}

    def parse(value: str) -> str:
        if value in choices:
            return value
        if value in by_label:
            return by_label[value]
        raise RowRefused("应为以下之一：" + "、".join(choices.values()))

    return parse


INCOME_SOURCES = {
    "wage": "工资性收入",
    "business_net": "生产经营净收入",
    "property_income": "财产净收入",
    "transfer": "转移净收入",
}
SIGNAL_KINDS = {
    "wages_paid": "工资发放",
    "medical_bill": "医疗费用",
    "subsidy": "补贴发放",
    "pupil_left_school": "学生辍学",
    "unsafe_housing": "危房鉴定",
}
SEXES = {"male": "男", "female": "女"}
LABOUR_CAPACITIES = {"full": "有劳动能力", "partial": "弱劳动力或半劳动力", "none": "无劳动能力"}
# Signals that are an amount of money; the others are events.
AMOUNT_SIGNALS = frozenset({"wages_paid", "medical_bill", "subsidy"})


@dataclass(frozen=True)
class Column:
    name: str
    label: str  # the Chinese heading, also accepted in the file
    parse: Callable[[str], Any]
    required: bool = True


HOUSEHOLD_CODE = Column("household_code", "户编号", _digits(18, "户编号"))
COLUMNS: dict[ImportKind, tuple[Column, ...]] = {
    ImportKind.households: (
        HOUSEHOLD_CODE,
        Column("village_code", "村代码", _digits(12, "村级区划代码")),
        Column("head_name", "户主姓名", _text(50)),
        Column("address", "住址", _text(200)),
        Column("household_size", "家庭人口", _number(1, 30, whole=True)),
    ),
    ImportKind.members: (
        HOUSEHOLD_CODE,
        Column("name", "姓名", _text(50)),
        Column("id_number", "身份证号", _id_number),
        Column("relation", "与户主关系", _text(20)),
        Column("sex", "性别", _choice(SEXES)),
        Column("labour_capacity", "劳动能力", _choice(LABOUR_CAPACITIES)),
        Column("health", "健康状况", _text(200), required=False),
        Column("disability", "残疾情况", _text(200), required=False),
        Column("schooling", "在校情况", _text(50), required=False),
    ),
    ImportKind.incomes: (
        HOUSEHOLD_CODE,
        Column("year", "年度", _number(2000, 2100, whole=True)),
        Column("source", "收入来源", _choice(INCOME_SOURCES)),
        Column("yuan", "金额", _number(-10_000_000, 10_000_000)),
    ),
    ImportKind.signals: (
        HOUSEHOLD_CODE,
        Column("month", "月份", _month),
        Column("kind", "信号类型", _choice(SIGNAL_KINDS)),
        Column("amount", "金额", _number(0, 10_000_000), required=False),
    ),
}
# The natural key of each kind: one row per key in the register, and per file.
KEYS: dict[ImportKind, tuple[str, ...]] = {
    ImportKind.households: ("household_code",),
    ImportKind.members: ("id_number",),  # one person is a current member of one household at most
    ImportKind.incomes: ("household_code", "year", "source"),
    ImportKind.signals: ("household_code", "month", "kind"),
}
# The column a repeated key is reported in.
_KEY_LABELS = {kind: "身份证号" if kind == ImportKind.members else "户编号" for kind in ImportKind}


@dataclass(frozen=True)
class Refusal:
    row: int  # the row's number in the file, the heading being row 1
    field: str  # the column's Chinese heading, or 文件
    message: str


def repeated_key(kind: ImportKind, row: int, first_row: int) -> Refusal:
    """Row `row` repeats the key of the file's row `first_row` (met in its chunk, or in the register)."""
    return Refusal(row, _KEY_LABELS[kind], f"与第{first_row}行重复（同一条记录出现两次）")


class Heading:
    """Where each column of a kind sits in a file, from its heading row."""

    def __init__(self, kind: ImportKind, cells: Sequence[Cell]) -> None:
        self.kind = kind
        names = [_cell_text(c) for c in cells]
        self.positions: dict[str, int] = {}
        for column in COLUMNS[kind]:
            for at, name in enumerate(names):
                if name in (column.name, column.label):
                    self.positions[column.name] = at
        self.missing = [c.label for c in COLUMNS[kind] if c.required and c.name not in self.positions]
        self._columns = [(c, self.positions.get(c.name)) for c in COLUMNS[kind]]

    def read(self, number: int, cells: Sequence[Cell]) -> dict[str, Any] | list[Refusal]:
        """The row's values by column name, or every refusal it earns."""
        values: dict[str, Any] = {}
        refusals: list[Refusal] = []
        width = len(cells)
        for column, at in self._columns:  # runs for every cell of a million-row file: kept lean
            cell = cells[at] if at is not None and at < width else None
            raw = cell.strip() if type(cell) is str else _cell_text(cell)
            if raw == "":
                if column.required:
                    refusals.append(Refusal(number, column.label, "不能为空"))
                values[column.name] = None
                continue
            try:
                values[column.name] = column.parse(raw)
            except RowRefused as refused:
                refusals.append(Refusal(number, column.label, str(refused)))
        if refusals:
            return refusals
        if self.kind == ImportKind.signals and values["kind"] in AMOUNT_SIGNALS and values["amount"] is None:
            return [Refusal(number, "金额", f"{SIGNAL_KINDS[values['kind']]}须填写金额")]
        if self.kind == ImportKind.households and not values["household_code"].startswith(values["village_code"]):
            return [Refusal(number, "户编号", "户编号应以所在村的区划代码开头")]
        # GB 11643: the 17th digit is odd for men, even for women.
        if self.kind == ImportKind.members:
            if (int(values["id_number"][16]) % 2 == 1) != (values["sex"] == "male"):
                return [Refusal(number, "性别", "性别与身份证号不一致")]
            values["birth_date"] = birth_date_of(values["id_number"])  # the one rule: written as read here
        return values


def _cell_text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))  # Excel keeps every number as a float: 2026.0 is the year 2026
    return str(cell).strip()


def key_reader(kind: ImportKind) -> Callable[[dict[str, Any]], Any]:
    """A row's natural key (a value, or a tuple of values), read from its values."""
    return itemgetter(*KEYS[kind])
