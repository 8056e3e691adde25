"""Households followed outside a monitoring period (常态化帮扶走访): 脱贫户, and monitoring targets
whose risk is eliminated while they stay in the monitoring system (DOMAIN.md "Support").

The 四支队伍 visit each of them at least once a month; the township names a contact person
(帮扶联系人) for every 脱贫户. A household inside a monitoring period is visited by its period
(services/domain/monitoring) instead, never by both. The month's visit and the missing contact
are rows of the one task inbox (services/domain/tasks.py), keyed so that a month has one visit
task per household however often the month is opened.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import ConfigDict, Field

from services.domain.form_fields import LongText, ShortText
from services.domain.identification.forms import Form
from services.domain.monitoring.forms import VisitReport

SOURCE = "follow_up"  # the task inbox's source for these tasks
VISIT_STEP = "follow_up_visit"
CONTACT_STEP = "appoint_contact"
STEP_LABELS = {VISIT_STEP: "常态化走访", CONTACT_STEP: "指定帮扶联系人"}


class Population(StrEnum):
    formerly_poor = "formerly_poor"  # 脱贫户
    risk_eliminated = "risk_eliminated"  # a monitoring target whose risk is eliminated


POPULATION_LABELS = {Population.formerly_poor: "脱贫户", Population.risk_eliminated: "风险已消除的监测对象"}


def visit_key(household_code: str, period: str) -> str:
    """The inbox key of a household's visit for one month: one per household and month."""
    return f"follow-up:{household_code}:visit:{period}"


def contact_key(household_code: str, contacts_so_far: int) -> str:
    """The inbox key of the wait for a household's next contact person (its first, or a successor)."""
    return f"follow-up:{household_code}:contact:{contacts_so_far + 1}"


class ContactAppointment(Form):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"username": "dongkeng.grid", "note": "网格员王芳熟悉该户"}]}
    )

    username: ShortText = Field(description="帮扶联系人账号（本村四支队伍：村干部、驻村工作队、帮扶干部、网格员）")
    note: LongText = Field(default="", description="说明")


class FollowUpVisit(VisitReport):
    """A monthly visit (走访) to a 脱贫户 or a household whose risk is eliminated."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "visited_on": "2026-11-18",
                    "visitors": ["王芳"],
                    "findings": "家中两人外出务工收入稳定，产业奖补已到位",
                    "living_conditions": {
                        "food_and_clothing": True,
                        "compulsory_education": True,
                        "basic_medical_care": True,
                        "safe_housing": True,
                        "safe_drinking_water": True,
                    },
                }
            ]
        }
    )
