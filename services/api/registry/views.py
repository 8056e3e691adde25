"""What readers see of a household and its members: personal data whole only for the roles
that act on the household, inside their area."""

from __future__ import annotations

from services.api.access import sees_personal_data
from services.api.registry.schemas import HouseholdView, MemberView
from services.db.tables import Account, Household, Member
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
    )


def member_view(member: Member, show_personal_data: bool) -> MemberView:
    return MemberView(
        name=member.name,
        id_number=member.id_number if show_personal_data else mask_id_number(member.id_number),
        relation=member.relation,
        sex=member.sex,
        birth_date=member.birth_date if show_personal_data else None,
        labour_capacity=member.labour_capacity,
        health=member.health if show_personal_data else None,
        disability=member.disability if show_personal_data else None,
        schooling=member.schooling,
    )
