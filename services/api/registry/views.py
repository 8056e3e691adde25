"""What readers see of a household and its members: personal data whole only for the roles
that act on the household, inside their area."""

from __future__ import annotations

from collections.abc import Mapping

from services.api.access import sees_personal_data
from services.api.registry.schemas import HouseholdChangeView, HouseholdView, MemberView
from services.db.tables import Account, Household, HouseholdChange, Member
from services.domain.household_register import CHANGE_KIND_LABELS, FLAG_NAMES, ChangeKind, HouseholdFlags
from services.domain.personal_data import mask_id_number, mask_phone
from services.domain.vocabulary import HOUSEHOLD_STATUS_LABELS, HouseholdStatus


def household_view(household: Household, reader: Account, in_list: bool = False) -> HouseholdView:
    """Lists never show the phone whole."""
    phone = household.phone
    if in_list:
        phone = mask_phone(phone) if phone else None
    elif phone is not None and not sees_personal_data(reader, household.village_code):
        phone = mask_phone(phone)
    status = HouseholdStatus(household.status)
    return HouseholdView(
        code=household.code,
        county_code=household.county_code,
        township_code=household.township_code,
        village_code=household.village_code,
        head_name=household.head_name,
        address=household.address,
        phone=phone,
        category=household.category,
        status=status,
        status_label=HOUSEHOLD_STATUS_LABELS[status],
        created_at=household.created_at,
        flags=household_flags(household),
        merged_into=household.merged_into,
    )


def household_flags(household: Household) -> HouseholdFlags:
    return HouseholdFlags.model_validate({name: getattr(household, name) for name in FLAG_NAMES})


def member_view(member: Member, show_personal_data: bool, change_kinds: Mapping[int, str]) -> MemberView:
    """`change_kinds`: the kind of each of the household's changes, by id (how members came and went)."""
    return MemberView(
        member_id=member.id or 0,
        name=member.name,
        id_number=member.id_number if show_personal_data else mask_id_number(member.id_number),
        relation=member.relation,
        sex=member.sex,
        birth_date=member.birth_date if show_personal_data else None,
        labour_capacity=member.labour_capacity,
        health=member.health if show_personal_data else None,
        disability=member.disability if show_personal_data else None,
        schooling=member.schooling,
        joined_on=member.joined_on,
        joined_by=_kind_label(change_kinds, member.joined_change),
        ended_on=member.ended_on,
        ended_by=_kind_label(change_kinds, member.ended_change),
    )


def _kind_label(change_kinds: Mapping[int, str], change_id: int | None) -> str | None:
    if change_id is None or change_id not in change_kinds:
        return None
    return CHANGE_KIND_LABELS[ChangeKind(change_kinds[change_id])]


def change_view(change: HouseholdChange) -> HouseholdChangeView:
    return HouseholdChangeView(
        change_id=change.id or 0,
        kind=change.kind,
        kind_label=CHANGE_KIND_LABELS[ChangeKind(change.kind)],
        occurred_on=change.occurred_on,
        reason=change.reason,
        other_household=change.other_household,
        recorded_by=change.recorded_by,
        recorded_at=change.recorded_at,
    )
