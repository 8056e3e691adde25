"""Setting a household's flags (脱贫户 and its exit year, 低保, 特困, 残疾): township approvers and
county officers, inside their area, audited with what changed."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.errors import invalid
from services.api.registry.views import household_flags
from services.db.audit import Acting, append_audit
from services.db.tables import Household
from services.domain.form_fields import RequiredText
from services.domain.household_register import FIRST_POVERTY_EXIT_YEAR, LAST_POVERTY_EXIT_YEAR, flags_problem


class HouseholdFlagsIn(BaseModel):
    """Only the flags sent change; `poverty_exit_year: null` clears the year (with `formerly_poor: false`)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"formerly_poor": True, "poverty_exit_year": 2019, "reason": "2019年脱贫退出，见脱贫户名册"}]
        },
    )

    formerly_poor: bool | None = Field(default=None, description="脱贫户")
    poverty_exit_year: Annotated[int, Field(ge=FIRST_POVERTY_EXIT_YEAR, le=LAST_POVERTY_EXIT_YEAR)] | None = Field(
        default=None, description="脱贫年度"
    )
    minimum_living_allowance: bool | None = Field(default=None, description="低保户")
    extreme_poverty_support: bool | None = Field(default=None, description="特困供养户")
    disabled_member: bool | None = Field(default=None, description="有残疾人")
    reason: RequiredText = Field(description="依据（如民政、残联名册）")


async def set_household_flags(
    session: AsyncSession, household: Household, body: HouseholdFlagsIn, actor: Acting
) -> None:
    """Applies the flags sent, if together with the others they hold; the caller commits."""
    given = body.model_dump(exclude={"reason"}, exclude_unset=True)
    if not given:
        raise invalid("请求", "请至少填写一项标识")
    for name, value in given.items():
        if value is None and name != "poverty_exit_year":
            raise invalid(name, "应为是或否（true/false）")
    before = household_flags(household)
    after = before.model_copy(update=given)
    problem = flags_problem(after)
    if problem is not None:
        raise invalid(*problem)
    for name, value in given.items():
        setattr(household, name, value)
    session.add(household)
    await append_audit(
        session,
        actor,
        "set_household_flags",
        "household",
        household.code,
        body.model_dump(mode="json", exclude_unset=True),
        before=before.model_dump(),
        after=after.model_dump(),
    )
