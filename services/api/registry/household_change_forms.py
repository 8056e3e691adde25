"""What a cadre sends to record a change of a household's members (户籍变动): one form whose
`kind` says which of its fields the change takes (each refusal names its field)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from services.api.registry.households import HEAD, MemberIn
from services.domain.form_fields import PastDate, RequiredText, Text
from services.domain.household_register import CHANGE_KIND_LABELS, JOINING, LEAVING, ChangeKind
from services.domain.personal_data import MobilePhone

MemberId = Annotated[int, Field(ge=1, le=2**31 - 1, description="成员编号（农户档案中的 member_id）")]
Relation = Annotated[str, Text(20, min_length=1)]


class Placed(BaseModel):
    """A member and their relation to the head of the household they go to."""

    model_config = ConfigDict(extra="forbid")

    member_id: MemberId
    relation: Relation = Field(description="在新户中与户主关系：户主、配偶、子女…")


# The fields each kind of change takes besides `kind`, `occurred_on` and `reason` (and which of them it needs).
_FIELDS: dict[ChangeKind, tuple[frozenset[str], frozenset[str]]] = {
    **{k: (frozenset({"member"}), frozenset({"member"})) for k in JOINING},
    **{k: (frozenset({"member_id", "new_head_member_id"}), frozenset({"member_id"})) for k in LEAVING},
    ChangeKind.split_household: (
        frozenset({"members", "address", "phone", "new_head_member_id"}),
        frozenset({"members", "address"}),
    ),
    ChangeKind.merge_households: (frozenset({"from_household", "members"}), frozenset({"from_household", "members"})),
}


class MemberChangeIn(BaseModel):
    """One change of a household's members. `kind` says which fields it takes:
    出生/婚入/迁入 `member`; 死亡/婚出/迁出 `member_id` (+ `new_head_member_id` when the head leaves);
    分户 `members` (one 户主), `address`, `phone`; 合户 `from_household`, `members` (all of its members)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kind": "death",
                    "occurred_on": "2026-11-02",
                    "reason": "病故，见死亡证明",
                    "member_id": 12,
                    "new_head_member_id": 13,
                },
                {
                    "kind": "birth",
                    "occurred_on": "2026-10-08",
                    "reason": "出生登记，见出生医学证明",
                    "member": {
                        "name": "李小华",
                        "id_number": "610824202610080241",
                        "relation": "孙子女",
                        "sex": "female",
                        "labour_capacity": "none",
                    },
                },
                {
                    "kind": "split",
                    "occurred_on": "2026-09-01",
                    "reason": "子女成家分户",
                    "members": [{"member_id": 14, "relation": "户主"}],
                    "address": "东坑镇东坑村二组8号",
                },
            ]
        },
    )

    kind: ChangeKind = Field(
        description="出生 birth、死亡 death、婚入 marriage_in、婚出 marriage_out、迁入 move_in、"
        "迁出 move_out、分户 split、合户 merge"
    )
    occurred_on: PastDate = Field(description="变动日期")
    reason: RequiredText = Field(description="变动原因及依据（如户口簿、死亡证明）")
    member: MemberIn | None = Field(default=None, description="加入的成员（出生、婚入、迁入）")
    member_id: MemberId | None = Field(default=None, description="离开的成员（死亡、婚出、迁出）")
    new_head_member_id: MemberId | None = Field(default=None, description="户主离开时：户内接任户主的成员")
    members: list[Placed] | None = Field(
        default=None,
        min_length=1,
        max_length=29,
        description="分出的成员（一位为户主）或并入的每位成员，及其与户主关系",
    )
    address: Annotated[str, Text(200, min_length=1)] | None = Field(default=None, description="新户住址（分户）")
    phone: MobilePhone | None = Field(default=None, description="新户联系电话（分户）")
    from_household: str | None = Field(
        default=None, max_length=20, pattern=r"^\d{18,20}$", description="并入本户的农户编码（合户）"
    )


_OPTIONAL = frozenset({"member", "member_id", "new_head_member_id", "members", "address", "phone", "from_household"})


def kind_problem(body: MemberChangeIn) -> tuple[str, str] | None:
    """(field, Chinese message) when the form does not hold together for its kind."""
    allowed, needed = _FIELDS[body.kind]
    label = CHANGE_KIND_LABELS[body.kind]
    for name in sorted(_OPTIONAL - allowed):
        if getattr(body, name) is not None:
            return name, f"登记{label}时不填此项"
    for name in sorted(needed):
        if getattr(body, name) is None:
            return name, f"登记{label}时必填"
    if body.members is not None:
        if len({p.member_id for p in body.members}) != len(body.members):
            return "members", "成员不能重复"
        heads = sum(p.relation == HEAD for p in body.members)
        if body.kind == ChangeKind.split_household and heads != 1:
            return "members", "分出的成员中须有且只有一位户主（relation 为“户主”）"
        if body.kind == ChangeKind.merge_households and heads:
            return "members", "本户已有户主，并入的成员不能是户主"
    if body.member is not None and body.member.relation == HEAD:
        return "member.relation", "新加入的成员不能是户主；户主变更随户主离开一并登记"
    return None
