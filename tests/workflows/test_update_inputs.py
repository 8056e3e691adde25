"""Updates take one typed input; an Update sent with the separate arguments it took before
(as histories of cases and periods in flight hold them) is packed into that input, in order."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from services.domain.identification.forms import Objection, ObjectionResolution
from services.domain.identification.state import Actor
from services.domain.update_inputs import ItemStepInput, PeriodItemInput, StepInput
from services.domain.vocabulary import Role
from services.workflows import procedure

CADRE = Actor(username="cadre", display_name="村干部甲", role=Role.village_cadre, area_code="610824001001")
OBJECTION = Objection(received_on=date(2026, 3, 2), raised_by="村民乙", content="家里新买了车")


class _Workflow:
    @procedure.one_input
    def file_objection(self, act: StepInput[Objection]) -> StepInput[Objection]:
        return act

    @procedure.one_input
    async def resolve(self, act: ItemStepInput[ObjectionResolution]) -> ItemStepInput[ObjectionResolution]:
        return act

    @procedure.one_input
    def resolve_in_period(self, act: PeriodItemInput[ObjectionResolution]) -> PeriodItemInput[ObjectionResolution]:
        return act


# Temporal calls handlers untyped: older histories' separate arguments arrive as plain JSON values.
LEGACY: Any = _Workflow()


def test_one_input_is_passed_as_it_is() -> None:
    given = StepInput[Objection](actor=CADRE, form=OBJECTION)
    assert _Workflow().file_objection(given) is given


def test_separate_arguments_of_an_older_history_are_packed_in_order() -> None:
    # What Temporal hands over undecoded when the argument count does not match the signature.
    taken = LEGACY.file_objection(CADRE.model_dump(mode="json"), OBJECTION.model_dump(mode="json"))
    assert taken == StepInput[Objection](actor=CADRE, form=OBJECTION)
    assert isinstance(taken.form, Objection) and taken.form.received_on == date(2026, 3, 2)


async def test_an_async_handler_and_a_numbered_item_are_packed_too() -> None:
    resolution = {"decision": "dismissed", "findings": "车辆登记在外村亲属名下"}
    taken = await LEGACY.resolve(CADRE.model_dump(mode="json"), 3, resolution)
    assert taken.item == 3 and taken.actor == CADRE and taken.form.findings == "车辆登记在外村亲属名下"
    period = LEGACY.resolve_in_period("m1", CADRE.model_dump(mode="json"), 2, resolution)
    assert (period.monitoring_id, period.item) == ("m1", 2)


def test_arguments_that_do_not_fit_are_refused() -> None:
    with pytest.raises(ValueError):  # one argument too many
        LEGACY.file_objection(CADRE.model_dump(mode="json"), OBJECTION.model_dump(mode="json"), 1)
    with pytest.raises(ValidationError):
        LEGACY.file_objection({"username": "x"}, OBJECTION.model_dump(mode="json"))
