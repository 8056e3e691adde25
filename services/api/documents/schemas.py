"""What the document endpoints answer as data: the village's result announcement and exit
notice. Only what may be posted in a village: names, size, category, dates (DOMAIN.md, step 6)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class AnnouncedHousehold(BaseModel):
    head_name: str
    household_size: int | None
    category: str | None
    category_label: str | None


class ResultAnnouncement(BaseModel):
    """结果公告: the households of one village whose identification was announced on one day."""

    village_code: str
    village_name: str
    township_name: str
    on: date = Field(description="公告日期")
    title: str
    households: list[AnnouncedHousehold]


class ExitNoticeEntry(BaseModel):
    head_name: str
    category: str | None
    category_label: str | None
    monitored_since: date = Field(description="纳入监测日期")
    notice_starts_on: date
    notice_ends_on: date


class ExitNotice(BaseModel):
    """风险消除公示: the monitoring targets of one village on notice for risk elimination on one day."""

    village_code: str
    village_name: str
    on: date
    title: str
    households: list[ExitNoticeEntry]
