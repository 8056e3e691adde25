"""Which of the exit's forms the monitoring page offers, step by step and role by role (no server:
the page's own choice from a period's view): the proposal to the support person alone while
monitored and no exit is under way; each step's form to its role at that step only; one
resolution form per open objection during the notice; the reversal to the county once eliminated."""

from __future__ import annotations

from typing import Any

import pytest

from services.db.tables import Account
from services.web.monitoring_routes import numbered_forms, period_forms

SUPPORT, OTHER_CADRE = "support.cadre", "other.cadre"
PEOPLE = {
    SUPPORT: "village_cadre",
    OTHER_CADRE: "village_cadre",
    "approver": "township_approver",
    "officer": "county_officer",
}
EXIT_FORMS = {
    "propose_exit",
    "verify_exit",
    "review_exit",
    "file_exit_objection",
    "review_exit_in_township",
    "decide_exit_in_county",
    "reverse_exit",
}


def _view(status: str, step: str | None, objections: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    exits = [] if step is None else [{"exit_no": 1, "step": step, "notice": {"objections": objections or []}}]
    return {"status": status, "support_people": [{"username": SUPPORT}], "plans": [], "exits": exits}


def _offered(view: dict[str, Any]) -> dict[str, set[str]]:
    offered = {}
    for username, role in PEOPLE.items():
        reader = Account(username=username, role=role)
        forms = {action for action, _, _ in period_forms(reader, view)} & EXIT_FORMS
        offered[username] = forms | set(numbered_forms(reader, view))
    return offered


@pytest.mark.parametrize(
    ("status", "step", "expected"),
    [
        ("risk_not_eliminated", None, {SUPPORT: {"propose_exit"}}),
        ("risk_not_eliminated", "home_verification", {SUPPORT: {"verify_exit"}, OTHER_CADRE: {"verify_exit"}}),
        ("risk_not_eliminated", "democratic_review", {SUPPORT: {"review_exit"}, OTHER_CADRE: {"review_exit"}}),
        ("risk_not_eliminated", "township_review", {"approver": {"review_exit_in_township"}}),
        ("risk_not_eliminated", "county_decision", {"officer": {"decide_exit_in_county"}}),
        ("risk_eliminated", "closed", {"officer": {"reverse_exit"}}),
        ("risk_not_eliminated", "closed", {SUPPORT: {"propose_exit"}}),  # a refused exit: propose again later
    ],
)
def test_each_exit_step_offers_its_form_to_its_role(
    status: str, step: str | None, expected: dict[str, set[str]]
) -> None:
    assert _offered(_view(status, step)) == {username: expected.get(username, set()) for username in PEOPLE}


def test_one_resolution_form_per_open_objection_during_the_notice() -> None:
    objections = [
        {"objection_id": 1, "resolution": {"decision": "dismissed"}},
        {"objection_id": 2, "resolution": None},
        {"objection_id": 3, "resolution": None},
    ]
    offered = _offered(_view("risk_not_eliminated", "village_notice", objections))
    village = {"file_exit_objection", "resolve_exit_objection-2", "resolve_exit_objection-3"}
    assert offered == {SUPPORT: village, OTHER_CADRE: village, "approver": set(), "officer": set()}
