"""Migration 0008 over rows written the old way: a county running before the one inbox keeps its
monitoring and self-report waits. A fresh database of the test server is brought to 0007, given
monitoring periods and applications as the old record activities wrote them (no task rows), then
upgraded; the inbox then lists their tasks, due and overdue as the new activities would write them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import insert, select, text
from sqlalchemy.engine import make_url
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.tasks.inbox import my_tasks
from services.db.engine import create_engine
from services.db.tables import Account, Applicant, MonitoringRecord, SelfReport, Task
from services.domain.identification.forms import Objection
from services.domain.identification.state import NoticePeriod, ObjectionRecord
from services.domain.monitoring.forms import ExitProposal
from services.domain.monitoring.state import (
    ExitProcedure,
    MonitoringState,
    SupportPerson,
    VisitTask,
)
from services.domain.monitoring.vocabulary import ExitStep, VisitTaskStatus
from services.domain.self_reports.model import SelfReportForm, SelfReportState
from services.domain.vocabulary import HouseholdStatus
from tests.applicants import unregistered_head
from tests.conftest import ROOT

COUNTY, TOWNSHIP, VILLAGE = "610824000000", "610824100000", "610824100201"
NOW = datetime.now(UTC).replace(microsecond=0)


def _alembic(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = url
    return config


@pytest.fixture
def old_database(database_url: str) -> Iterator[str]:
    """A new database on the test server, at revision 0007."""
    name = f"backfill_{uuid.uuid4().hex[:12]}"

    async def admin(statement: str) -> None:
        engine = create_engine(database_url, pool_size=1).execution_options(isolation_level="AUTOCOMMIT")
        async with engine.connect() as conn:
            await conn.execute(text(statement))
        await engine.dispose()

    asyncio.run(admin(f"CREATE DATABASE {name}"))
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    command.upgrade(_alembic(url), "0007")
    yield url
    asyncio.run(admin(f"DROP DATABASE {name} WITH (FORCE)"))


def _period(monitoring_id: str, **changes: Any) -> MonitoringState:
    start = NOW - timedelta(days=70)
    fields: dict[str, Any] = {
        "monitoring_id": monitoring_id,
        "household_code": f"H{monitoring_id}",
        "county_code": COUNTY,
        "township_code": TOWNSHIP,
        "village_code": VILLAGE,
        "policy_version": 1,
        "status": HouseholdStatus.risk_not_eliminated,
        "since": start,
        "clock_started_at": start,
        "visits_owed_from": start,
    }
    return MonitoringState.model_validate(fields | changes)


def _visit(period: str, due_at: datetime, status: VisitTaskStatus) -> VisitTask:
    return VisitTask(period=period, opens_on=(due_at - timedelta(days=30)).date(), due_at=due_at, status=status)


def _exit(step: ExitStep, **changes: Any) -> ExitProcedure:
    return ExitProcedure(
        exit_no=1, step=step, proposal=ExitProposal(), proposed_by="dongkeng.cadre2", proposed_at=NOW, **changes
    )


def _periods() -> list[MonitoringState]:
    person = SupportPerson(
        username="dongkeng.cadre2",
        display_name="帮扶人",
        area_code=VILLAGE,
        appointed_by="dongkeng.approver",
        appointed_at=NOW - timedelta(days=60),
    )
    objection = ObjectionRecord(
        objection_id=1,
        objection=Objection(received_on=NOW.date(), content="收入情况与实际不符"),
        filed_by="dongkeng.cadre",
    )
    notice = NoticePeriod(starts_at=NOW - timedelta(days=1), ends_at=NOW + timedelta(days=4), objections=[objection])
    return [
        # No support person yet; last month's visit missed, this month's still owed.
        _period(
            "m-missed",
            visit_tasks=[
                _visit("2026-10", NOW - timedelta(days=5), VisitTaskStatus.overdue),
                _visit("2026-11", NOW + timedelta(days=20), VisitTaskStatus.open),
            ],
        ),
        _period("m-notice", support_people=[person], exits=[_exit(ExitStep.village_notice, notice=notice)]),
        _period("m-county", support_people=[person], exits=[_exit(ExitStep.county_decision)]),
        _period("m-ended", status=HouseholdStatus.risk_eliminated),
    ]


def _application(application_id: str, applicant_id: str, escalated: bool) -> SelfReportState:
    name, id_number = unregistered_head()
    return SelfReportState(
        application_id=application_id,
        applicant_id=applicant_id,
        form=SelfReportForm(
            head_name=name,
            id_number=id_number,
            phone="13800000000",
            village_code=VILLAGE,
            risk_types=["illness"],
            description="家里有人住院，医药费花了很多",
            consent=True,
        ),
        household_code=None,
        county_code=COUNTY,
        township_code=TOWNSHIP,
        village_code=VILLAGE,
        policy_version=1,
        submitted_at=NOW - timedelta(days=3 if escalated else 1),
        due_at=NOW - timedelta(days=1) if escalated else NOW + timedelta(days=1),
        escalated_at=NOW - timedelta(days=1) if escalated else None,
    )


async def _write_the_old_way(url: str) -> None:
    """The rows the record activities wrote before migration 0008 (no task rows for these)."""
    engine = create_engine(url, pool_size=1)
    async with engine.begin() as conn:
        for state in _periods():
            await conn.execute(
                insert(MonitoringRecord).values(
                    monitoring_id=state.monitoring_id,
                    workflow_id=f"monitoring-{state.household_code}",
                    household_code=state.household_code,
                    county_code=COUNTY,
                    township_code=TOWNSHIP,
                    village_code=VILLAGE,
                    status=state.status,
                    since=state.since,
                    tasks=[],
                    last_seq=7,
                    state=state.model_dump(mode="json"),
                )
            )
        await conn.execute(insert(Applicant).values(id="applicant1", phone="13800000000"))
        for application_id, escalated in (("a-fresh", False), ("a-late", True)):
            state = _application(application_id, "applicant1", escalated)
            await conn.execute(
                insert(SelfReport).values(
                    application_id=application_id,
                    workflow_id=f"self-report-{application_id}",
                    run_id="run",
                    applicant_id="applicant1",
                    head_id_number=state.form.id_number,
                    household_code=None,
                    county_code=COUNTY,
                    township_code=TOWNSHIP,
                    village_code=VILLAGE,
                    status=state.status,
                    submitted_at=state.submitted_at,
                    due_at=state.due_at,
                    escalated_at=state.escalated_at,
                    last_seq=2,
                    state=state.model_dump(mode="json"),
                )
            )
    await engine.dispose()


async def _inboxes(url: str) -> tuple[dict[str, list[dict[str, Any]]], list[Task]]:
    readers = {
        "cadre": Account(username="dongkeng.cadre", role="village_cadre", area_code=VILLAGE),
        "approver": Account(username="dongkeng.approver", role="township_approver", area_code=TOWNSHIP),
        "county": Account(username="county.officer", role="county_officer", area_code=COUNTY),
    }
    engine = create_engine(url, pool_size=1)
    async with AsyncSession(engine) as session:
        inboxes = {
            who: [
                t.model_dump()
                for t in (await my_tasks(session, reader, NOW, None, None, None, None, None, 50, None)).items
            ]
            for who, reader in readers.items()
        }
        rows = list((await session.scalars(select(Task).order_by(Task.key))).all())
    await engine.dispose()
    return inboxes, rows


def _seen(inbox: list[dict[str, Any]]) -> set[tuple[str, str, bool]]:
    return {(t["case_id"], t["step"], t["overdue"]) for t in inbox}


def test_the_migration_backfills_open_monitoring_and_self_report_tasks(old_database: str) -> None:
    asyncio.run(_write_the_old_way(old_database))
    command.upgrade(_alembic(old_database), "0008")
    inboxes, rows = asyncio.run(_inboxes(old_database))

    assert _seen(inboxes["approver"]) == {
        ("m-missed", "appoint_support_person", False),
        ("m-missed", "visit_overdue", False),
        ("a-fresh", "self_report_acceptance", False),
        ("a-late", "self_report_acceptance", True),
    }
    assert _seen(inboxes["cadre"]) == {
        ("m-missed", "visit", False),
        ("m-notice", "exit_village_notice", False),
        ("m-notice", "draft_plan", False),  # a support person, no plan yet
        ("m-county", "draft_plan", False),
    }
    drafts = [t for t in inboxes["cadre"] if t["step"] == "draft_plan"]
    assert all(t["detail"]["assignee"] == "dongkeng.cadre2" and not t["can_act"] for t in drafts), "theirs alone"
    assert _seen(inboxes["county"]) == {("m-county", "exit_county_decision", False), ("a-late", "escalation", True)}
    assert not any(r.case_id == "m-ended" for r in rows), "a period that ended waits on no one"
    notice = next(t for t in inboxes["cadre"] if t["step"] == "exit_village_notice")
    assert notice["action"] == "resolve_exit_objection" and notice["step_label"] == "风险消除：村级公示"
    appoint = next(t for t in inboxes["approver"] if t["step"] == "appoint_support_person")
    assert appoint["due_at"] is None and appoint["household_code"] == "Hm-missed"
    assert {r.source for r in rows} == {"monitoring", "self_report"} and all(r.opened_seq in (2, 7) for r in rows)

    # Downgrading takes them away; upgrading again brings back the same tasks.
    command.downgrade(_alembic(old_database), "0007")
    assert asyncio.run(_inboxes(old_database))[1] == []
    command.upgrade(_alembic(old_database), "0008")
    assert [r.key for r in asyncio.run(_inboxes(old_database))[1]] == [r.key for r in rows]
