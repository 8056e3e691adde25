"""What the registry endpoints answer: households with their members, the household file,
areas and the village notice."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from services.api.answers import Moment, Page
from services.api.identification.schemas import CaseView
from services.api.monitoring.schemas import MonitoringWithVisits
from services.domain.vocabulary import HouseholdStatus


class AreaView(BaseModel):
    code: str
    name: str
    level: str = Field(description="county、township 或 village")
    parent_code: str | None


class MemberView(BaseModel):
    """A household member; ID number masked, birth date and health withheld, for readers who may not see them."""

    name: str
    id_number: str
    relation: str
    sex: str = Field(description="male 或 female")
    birth_date: date | None
    labour_capacity: str
    health: str | None
    disability: str | None
    schooling: str | None


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


class HouseholdPage(Page[HouseholdView]):
    pass


class HouseholdDetail(HouseholdView):
    members: list[MemberView]


class HouseholdFile(BaseModel):
    """一户一档: the household with every case and monitoring period it had."""

    household: HouseholdDetail
    cases: list[CaseView]
    monitoring_periods: list[MonitoringWithVisits]


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
