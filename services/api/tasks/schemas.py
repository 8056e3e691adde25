"""What the task inbox takes and answers: a task, a page of them with counts per step, the
overdue overview, and the versioned bodies of claim, release and assignment."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.api.answers import Moment, Page
from services.domain.form_fields import INT4_MAX, ShortText
from services.domain.vocabulary import Role

# The workflows whose waits the inbox holds (`tasks.source`).
TaskSource = Literal["identification", "monitoring", "self_report", "follow_up"]
ClaimFilter = Literal["mine", "free", "others"]


class VersionedChange(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"version": 3}]})

    version: int = Field(ge=1, le=INT4_MAX, description="您看到的任务版本号（version）；他人已更新时返回 409")


class Assignment(VersionedChange):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"version": 2, "username": "dongkeng.zhang"},  # hand it to 东坑村 张建军
                {"version": 5, "username": None},  # take it back from whoever holds it
            ]
        }
    )

    username: ShortText | None = Field(default=None, description="改派给谁；不填表示收回（取消认领）")


class TaskView(BaseModel):
    """One wait on a person, as its reader sees it."""

    task_id: int
    source: TaskSource = Field(
        description="来源：identification 识别认定，monitoring 监测帮扶，self_report 农户申报，follow_up 脱贫户及风险已消除户的常态化走访"
    )
    step: str = Field(description="环节，如 home_verification、visit、self_report_acceptance、escalation")
    step_label: str
    title: str
    action: str | None = Field(description="办理此任务的操作；为空表示没有对应的单一操作")
    subject: str | None = Field(description="操作的对象，如部门、走访月份、异议编号")
    case_id: str = Field(description="案件、监测期或申报编号")
    household_code: str | None = Field(description="户编号；尚未建档的申报为空")
    head_name: str | None
    village_code: str
    village_name: str | None
    role: Role = Field(description="办理人员的角色")
    role_label: str
    area_code: str = Field(description="办理人员所在的区划")
    due_at: Moment | None = Field(description="办理期限；为空表示没有自己的期限")
    overdue: bool
    escalated_at: Moment | None
    opened_at: Moment
    closed_at: Moment | None
    claimed_by: str | None
    claimed_by_name: str | None
    claimed_at: Moment | None
    assigned_by: str | None = Field(description="改派人；本人认领时为空")
    can_act: bool = Field(description="读者现在能否办理")
    version: int = Field(description="认领、释放、改派时需回传的版本号")
    detail: dict[str, Any]


class TaskPage(Page[TaskView]):
    """A page of the caller's open tasks, with the whole inbox's open tasks per step."""

    counts: dict[str, int] = Field(description="各环节未办结任务数（整个待办，不受筛选影响）")
    total: int


class AreaOverdue(BaseModel):
    area_code: str
    name: str
    overdue_tasks: int
    overdue_cases: int


class OverdueOverview(Page[TaskView]):
    """Overdue tasks and cases of a county by township, or of a township by village, with the tasks themselves."""

    area_code: str
    by_area: list[AreaOverdue]
