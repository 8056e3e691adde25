"""What the registry endpoints answer: households with their members, the household file,
areas and the village notice."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from services.api.answers import Moment, Page
from services.api.evidence.schemas import EvidenceView
from services.api.identification.schemas import CaseView
from services.api.monitoring.schemas import MonitoringWithVisits
from services.domain.household_register import HouseholdFlags
from services.domain.vocabulary import HouseholdStatus


class AreaView(BaseModel):
    code: str
    name: str
    level: str = Field(description="county、township 或 village")
    parent_code: str | None


class MemberView(BaseModel):
    """A household member; ID number masked, birth date and health withheld, for readers who may not see them."""

    member_id: int = Field(description="成员编号：登记成员变动时用它指明成员")
    name: str
    id_number: str
    relation: str
    sex: str = Field(description="male 或 female")
    birth_date: date | None
    labour_capacity: str
    health: str | None
    disability: str | None
    schooling: str | None
    joined_on: date | None = Field(description="加入本户日期（随户登记的为空）")
    joined_by: str | None = Field(description="加入方式：出生、婚入、迁入、分户、合户（随户登记的为空）")
    ended_on: date | None = Field(description="离开本户日期（在册成员为空）")
    ended_by: str | None = Field(description="离开方式：死亡、婚出、迁出、分户、合户")


class HouseholdChangeView(BaseModel):
    """一次户籍变动：日期、原因、登记人；分户、合户时另一户的编码。"""

    change_id: int
    kind: str = Field(description="birth、death、marriage_in、marriage_out、move_in、move_out、split、merge")
    kind_label: str
    occurred_on: date
    reason: str
    other_household: str | None = Field(description="分户时分出或分自的农户，合户时并入或并到的农户")
    recorded_by: str
    recorded_at: Moment | None


class HouseholdView(BaseModel):
    code: str = Field(description="户编码")
    county_code: str
    township_code: str
    village_code: str
    head_name: str
    address: str
    phone: str | None = Field(description="联系电话（列表中及无权查看者看到的是遮挡后的号码）")
    category: str | None
    status: HouseholdStatus
    status_label: str
    created_at: Moment | None
    flags: HouseholdFlags = Field(description="户的标识：脱贫户及脱贫年度、低保、特困、残疾")
    merged_into: str | None = Field(description="已并入的农户（合户后本户不再登记变动）")


class HouseholdPage(Page[HouseholdView]):
    pass


class HouseholdDetail(HouseholdView):
    members: list[MemberView] = Field(description="在册成员（现在的家庭成员）")
    former_members: list[MemberView] = Field(description="已离开的成员（死亡、婚出、迁出、分户、合户），记录永不删除")
    changes: list[HouseholdChangeView] = Field(description="户籍变动记录，按时间先后")


class HouseholdFile(BaseModel):
    """一户一档: the household with every case and monitoring period it had."""

    household: HouseholdDetail
    cases: list[CaseView]
    monitoring_periods: list[MonitoringWithVisits]
    evidence: list[EvidenceView] = Field(
        default_factory=list, description="证明材料（仅四支队伍和镇、县工作人员可见，其他读者为空）"
    )


class NoticeEntry(BaseModel):
    head_name: str
    household_size: int | None
    category: str | None
    category_label: str | None
    notice_starts_on: date
    notice_ends_on: date
    cross_checked: bool = Field(description="民主评议前各部门信息比对已全部完成（此前的案件评议时可能尚有部门未反馈）")


class VillageNotice(BaseModel):
    """村级公示: only what a notice may show (no ID numbers, phones, health or risk types)."""

    village_code: str
    village_name: str
    on: date
    title: str
    households: list[NoticeEntry]
