"""The household registry (一户一档): registering households with their members."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.errors import conflict, invalid
from services.db.audit import Acting, append_audit
from services.db.failures import sqlstate
from services.db.tables import Area, Household, Member
from services.domain.areas import AreaLevel, area_level, county_of, township_of
from services.domain.form_fields import ShortText, Text
from services.domain.personal_data import IdNumber, MobilePhone, birth_date_of
from services.domain.vocabulary import LabourCapacity

HEAD = "户主"
UNIQUE_VIOLATION = "23505"


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ShortText
    id_number: IdNumber
    relation: Annotated[str, Text(20, min_length=1)] = Field(description="与户主关系：户主、配偶、子女…")
    sex: Literal["male", "female"]
    labour_capacity: LabourCapacity
    health: Annotated[str, Text(200, strip=False)] | None = Field(default=None, description="健康状况")
    disability: Annotated[str, Text(200, strip=False)] | None = Field(default=None, description="残疾情况")
    schooling: Annotated[str, Text(50, strip=False)] | None = Field(default=None, description="在校情况")

    @model_validator(mode="after")
    def _sex_matches_id(self) -> MemberIn:
        # GB 11643: the 17th digit is odd for men, even for women.
        if (int(self.id_number[16]) % 2 == 1) != (self.sex == "male"):
            raise ValueError("性别与身份证号不一致")
        return self


class HouseholdIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "village_code": "610824100201",
                    "address": "东坑镇东坑村三组12号",
                    "phone": "13991234567",
                    "members": [
                        {
                            "name": "李振华",
                            "id_number": "610824197803121237",
                            "relation": "户主",
                            "sex": "male",
                            "labour_capacity": "partial",
                            "health": "腰椎间盘突出，不能干重活",
                        },
                        {
                            "name": "王秀兰",
                            "id_number": "610824198005061027",
                            "relation": "配偶",
                            "sex": "female",
                            "labour_capacity": "full",
                        },
                        {
                            "name": "李浩",
                            "id_number": "610824200509182033",
                            "relation": "子女",
                            "sex": "male",
                            "labour_capacity": "none",
                            "schooling": "靖边中学高三",
                        },
                    ],
                }
            ]
        },
    )

    village_code: str = Field(min_length=12, max_length=12, pattern=r"^\d{12}$", description="村级区划代码")
    address: Annotated[str, Text(200, min_length=1)] = Field(description="住址")
    phone: MobilePhone | None = Field(default=None, description="联系电话")
    members: list[MemberIn] = Field(min_length=1, max_length=30)

    @field_validator("members")
    @classmethod
    def _one_head_distinct_ids(cls, members: list[MemberIn]) -> list[MemberIn]:
        if sum(m.relation == HEAD for m in members) != 1:
            raise ValueError("家庭成员中须有且只有一位户主（relation 为“户主”）")
        if len({m.id_number for m in members}) != len(members):
            raise ValueError("家庭成员身份证号不能重复")
        return members

    @property
    def head(self) -> MemberIn:
        return next(m for m in self.members if m.relation == HEAD)


def household_code(village_code: str, number: int) -> str:
    return f"{village_code}{number:06d}"


async def register_household(session: AsyncSession, body: HouseholdIn, actor: Acting) -> Household:
    """Adds the household with its members and its audit entry; the caller commits."""
    village = await session.get(Area, body.village_code)
    if village is None or area_level(village.code) != AreaLevel.village:
        raise invalid("village_code", "没有这个村级区划代码")
    taken = (
        await session.scalars(
            select(col(Member.id_number)).where(
                col(Member.id_number).in_([m.id_number for m in body.members]), col(Member.ended_on).is_(None)
            )
        )
    ).first()
    if taken:
        raise id_number_taken()
    number: int = (await session.execute(select(func.nextval("household_number_seq")))).scalar_one()
    household = Household(
        code=household_code(body.village_code, number),
        county_code=county_of(body.village_code),
        township_code=township_of(body.village_code),
        village_code=body.village_code,
        head_name=body.head.name,
        address=body.address,
        phone=body.phone,
        created_by=actor.username,
    )
    session.add(household)
    await session.flush()
    session.add_all(
        Member(household_code=household.code, birth_date=birth_date_of(m.id_number), **m.model_dump())
        for m in body.members
    )
    try:
        await session.flush()
    except IntegrityError as error:
        if sqlstate(error) == UNIQUE_VIOLATION:  # registered by someone else at the same moment
            raise id_number_taken() from None
        raise
    given = body.model_dump(mode="json")
    await append_audit(
        session,
        actor,
        "register_household",
        "household",
        household.code,
        given,
        before={},
        after={"code": household.code, **given},
    )
    return household


def id_number_taken(field: str = "members.id_number") -> Exception:
    return conflict("id_number_registered", "有家庭成员的身份证号已登记在其他农户中，请核实", field=field)
