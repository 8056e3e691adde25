"""What a cadre sends to record a change of a household's members (户籍变动): one form per
kind of change, told apart by `kind`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.api.registry.households import HEAD, MemberIn
from services.domain.form_fields import PastDate, RequiredText, Text
from services.domain.personal_data import MobilePhone

MemberId = Annotated[int, Field(ge=1, le=2**31 - 1, description="成员编号（农户档案中的 member_id）")]
Relation = Annotated[str, Text(20, min_length=1)]


class _Change(BaseModel):
    model_config = ConfigDict(extra="forbid")

    occurred_on: PastDate = Field(description="变动日期")
    reason: RequiredText = Field(description="变动原因及依据（如户口簿、死亡证明）")


class Joining(_Change):
    """出生、婚入、迁入: a person joins the household."""

    kind: Literal["birth", "marriage_in", "move_in"]
    member: MemberIn


class Leaving(_Change):
    """死亡、婚出、迁出: a member leaves (is ended, never deleted)."""

    kind: Literal["death", "marriage_out", "move_out"]
    member_id: MemberId
    new_head_member_id: MemberId | None = Field(default=None, description="户主离开时：接任户主的成员")


class Placed(BaseModel):
    """A member and their relation to the head of the household they go to."""

    model_config = ConfigDict(extra="forbid")

    member_id: MemberId
    relation: Relation = Field(description="在新户中与户主关系：户主、配偶、子女…")


def _distinct(placed: list[Placed]) -> list[Placed]:
    if len({p.member_id for p in placed}) != len(placed):
        raise ValueError("成员不能重复")
    return placed


class Split(_Change):
    """分户: some members leave to form a new household in the same village."""

    kind: Literal["split"]
    members: list[Placed] = Field(min_length=1, max_length=29, description="分出的成员，其中一位为新户户主")
    address: Annotated[str, Text(200, min_length=1)] = Field(description="新户住址")
    phone: MobilePhone | None = Field(default=None, description="新户联系电话")
    new_head_member_id: MemberId | None = Field(default=None, description="原户主分出时：原户接任户主的成员")

    @field_validator("members")
    @classmethod
    def _one_head(cls, members: list[Placed]) -> list[Placed]:
        if sum(p.relation == HEAD for p in members) != 1:
            raise ValueError("分出的成员中须有且只有一位户主（relation 为“户主”）")
        return _distinct(members)


class Merge(_Change):
    """合户: every current member of another household joins this one; that household ends."""

    kind: Literal["merge"]
    from_household: str = Field(pattern=r"^\d{18,20}$", description="并入本户的农户编码")
    members: list[Placed] = Field(min_length=1, max_length=29, description="并入的每位成员及其与本户户主关系")

    @field_validator("members")
    @classmethod
    def _no_second_head(cls, members: list[Placed]) -> list[Placed]:
        if any(p.relation == HEAD for p in members):
            raise ValueError("本户已有户主，并入的成员不能是户主")
        return _distinct(members)


MemberChangeIn = Annotated[Joining | Leaving | Split | Merge, Field(discriminator="kind")]
