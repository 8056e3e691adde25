"""The household register's rules (户籍与家庭成员变动, 户的标识): which changes bring a member in
or end one, and the flags the rules depend on. Pure: no database, no HTTP."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

FIRST_POVERTY_EXIT_YEAR = 2013  # 精准扶贫: households left poverty from 2014 to 2020; 2013 covers the first lists
LAST_POVERTY_EXIT_YEAR = 2020  # 脱贫攻坚 ended with 2020: later households are monitoring targets, not 脱贫户


class ChangeKind(StrEnum):
    birth = "birth"
    death = "death"
    marriage_in = "marriage_in"
    marriage_out = "marriage_out"
    move_in = "move_in"
    move_out = "move_out"
    split_household = "split"  # some members leave to form a new household (分户)
    merge_households = "merge"  # another household's members join this one (合户)


CHANGE_KIND_LABELS = {
    ChangeKind.birth: "出生",
    ChangeKind.death: "死亡",
    ChangeKind.marriage_in: "婚入",
    ChangeKind.marriage_out: "婚出",
    ChangeKind.move_in: "迁入",
    ChangeKind.move_out: "迁出",
    ChangeKind.split_household: "分户",
    ChangeKind.merge_households: "合户",
}
JOINING = frozenset({ChangeKind.birth, ChangeKind.marriage_in, ChangeKind.move_in})
LEAVING = frozenset({ChangeKind.death, ChangeKind.marriage_out, ChangeKind.move_out})


class HouseholdFlags(BaseModel):
    """户的标识: 脱贫户 (with the year it left poverty), 低保, 特困, 残疾."""

    model_config = ConfigDict(extra="forbid")

    formerly_poor: bool = Field(default=False, description="脱贫户（原建档立卡贫困户）")
    poverty_exit_year: int | None = Field(
        default=None, ge=FIRST_POVERTY_EXIT_YEAR, le=LAST_POVERTY_EXIT_YEAR, description="脱贫年度（脱贫户必填）"
    )
    minimum_living_allowance: bool = Field(default=False, description="低保户")
    extreme_poverty_support: bool = Field(default=False, description="特困供养户")
    disabled_member: bool = Field(default=False, description="有残疾人")


def flags_problem(flags: HouseholdFlags) -> tuple[str, str] | None:
    """(field, Chinese message) when the flags contradict each other; None when they hold together."""
    if flags.formerly_poor and flags.poverty_exit_year is None:
        return "poverty_exit_year", "脱贫户须填写脱贫年度"
    if not flags.formerly_poor and flags.poverty_exit_year is not None:
        return "poverty_exit_year", "只有脱贫户才有脱贫年度"
    return None


FLAG_NAMES = tuple(HouseholdFlags.model_fields)


def counts_as_low_income(flags: HouseholdFlags) -> bool:
    """低收入人口 by the register: 脱贫户, 低保 and 特困 (DOMAIN.md, department early warnings)."""
    return flags.formerly_poor or flags.minimum_living_allowance or flags.extreme_poverty_support
