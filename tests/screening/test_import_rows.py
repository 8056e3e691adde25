"""An import file's cells checked into values (pure: no database)."""

from __future__ import annotations

from datetime import date

from services.domain.screening.import_rows import Heading, ImportKind, Refusal, repeated_key

VILLAGE = "610824100201"


def test_codes_and_months_take_ascii_digits_only() -> None:
    households = Heading(ImportKind.households, ["户编号", "村代码", "户主姓名", "住址", "家庭人口"])
    # Full-width digits pass str.isdigit(); the register's codes (and PostgreSQL's int cast) hold ASCII only.
    full_width = VILLAGE + "００００１２"
    assert households.read(2, [full_width, VILLAGE, "王大山", "一组", 3]) == [
        Refusal(2, "户编号", "户编号应为18位数字")
    ]
    assert households.read(3, [VILLAGE + "000012", VILLAGE, "王大山", "一组", 3]) == {
        "household_code": VILLAGE + "000012",
        "village_code": VILLAGE,
        "head_name": "王大山",
        "address": "一组",
        "household_size": 3,
    }
    signals = Heading(ImportKind.signals, ["户编号", "月份", "信号类型", "金额"])
    refused = signals.read(2, [VILLAGE + "000012", "２０２６-03", "学生辍学", None])
    assert refused == [Refusal(2, "月份", "应为年月，如2026-03")]


def test_a_nul_in_a_cell_is_refused_not_stored() -> None:
    households = Heading(ImportKind.households, ["户编号", "村代码", "户主姓名", "住址", "家庭人口"])
    refused = households.read(2, [VILLAGE + "000012", VILLAGE, "王\x00大山", "一\x00组", "3\x00"])
    assert isinstance(refused, list)
    assert [r.field for r in refused] == ["户主姓名", "住址", "家庭人口"]


def test_a_repeated_key_is_reported_in_its_kinds_key_column_naming_the_first_row() -> None:
    assert repeated_key(ImportKind.members, 4, 3) == Refusal(4, "身份证号", "与第3行重复（同一条记录出现两次）")
    assert repeated_key(ImportKind.incomes, 9, 2) == Refusal(9, "户编号", "与第2行重复（同一条记录出现两次）")


def test_a_members_birth_date_is_read_from_the_id_number_with_the_row() -> None:
    members = Heading(ImportKind.members, ["户编号", "姓名", "身份证号", "与户主关系", "性别", "劳动能力"])
    values = members.read(2, [VILLAGE + "000012", "王大山", "610824198002290019", "户主", "男", "full"])
    assert isinstance(values, dict)
    assert (values["id_number"], values["birth_date"]) == ("610824198002290019", date(1980, 2, 29))
