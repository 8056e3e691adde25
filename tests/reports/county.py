"""A hand-made county (测试县, 610898) whose statistics are known by hand: its households, monitoring
periods, cases with their step changes in the audit log, self-reports, visit tasks, measures and
early warnings, written straight into the tables the workflows' activities write. Every date is a
fixed day of 2025 (Beijing time), so no answer depends on the day the tests run.

As of 2025-03-31, in March 2025 (the answers the tests check):
- monitoring targets: H1 (A, since 01-10, eliminated 03-15), H2 (A, 03-05), H3 (B, 02-20, eliminated
  04-10), H4 (C, 03-20), H5 (C, 04-05: not yet), H6 (A, an earlier period 2024-06-01…2024-12-01, again 03-25);
- cases: C1 8 days, C2 19 days (late), C3 12 days made targets in March; C4 failed; C5, C6, C7 open;
- self-reports S1 (accepted in time), S2 (accepted late), S3 (pending), S4 (decided after), S5 (February)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest_asyncio
from sqlalchemy import insert

from services.api.people.security import hash_password
from services.db.engine import create_engine
from services.db.tables import (
    Account,
    Applicant,
    Area,
    AuditEntry,
    CaseRecord,
    DepartmentRecord,
    EarlyWarningRecord,
    Household,
    Member,
    MonitoringRecord,
    SelfReport,
    VisitRecord,
    VisitTaskRecord,
)
from services.demo_data import DEMO_PASSWORD, demo_id_number
from services.domain.months import CHINA_TIME
from services.settings import Settings

COUNTY, T1, T2 = "610898000000", "610898100000", "610898101000"
A, B, C = "610898100201", "610898100202", "610898101201"
TOWNSHIP_OF = {A: T1, B: T1, C: T2}


@dataclass(frozen=True)
class People:
    officer: str = "ceshi.officer"
    approver_t1: str = "ceshi.approver1"
    approver_t2: str = "ceshi.approver2"
    cadre_a: str = "ceshi.cadre.a"
    admin: str = "ceshi.admin"
    grid_a: str = "ceshi.grid.a"


PEOPLE = People()


def at(day: str, hour: int = 9) -> datetime:
    """A moment of 2025 in Beijing time: at("03-05") is 2025-03-05 09:00+08:00."""
    return datetime.fromisoformat(f"2025-{day}T{hour:02d}:00:00").replace(tzinfo=CHINA_TIME)


def hh(n: int, village: str) -> str:
    return f"{village}{n:06d}"


H1, H2, H3, H4, H5, H6 = hh(1, A), hh(2, A), hh(3, B), hh(4, C), hh(5, C), hh(6, A)
H7 = hh(7, A)  # a 脱贫户, never monitored
HEAD_ID = {
    code: demo_id_number("610898", date(1970, 1, 1) + timedelta(days=n * 40), 900 + n, True)
    for n, code in enumerate([H1, H2, H3, H4, H5, H6, H7], start=1)
}


def _places(village: str) -> dict[str, str]:
    return {"county_code": COUNTY, "township_code": TOWNSHIP_OF[village], "village_code": village}


def _household(code: str, village: str, status: str, category: str | None, **flags: Any) -> dict[str, Any]:
    return {
        "code": code,
        **_places(village),
        "head_name": f"户主{code[-1]}",
        "address": "测试地址",
        "phone": f"1390000000{code[-1]}",
        "category": category,
        "status": status,
        "created_by": "test",
        "formerly_poor": False,
        "poverty_exit_year": None,
        "minimum_living_allowance": False,
        **flags,
    }


def _period(
    mid: str,
    code: str,
    village: str,
    since: datetime,
    eliminated: datetime | None,
    category: str,
    risks: list[str],
    plans: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "monitoring_id": mid,
        "workflow_id": f"monitoring-{code}",
        "household_code": code,
        **_places(village),
        "status": "risk_eliminated" if eliminated else "risk_not_eliminated",
        "since": since,
        "risk_eliminated_at": eliminated,
        "tasks": [],
        "last_seq": 1,
        "state": {"category": category, "risk_types": risks, "plans": plans or []},
    }


def _measure(kind: str, status: str, delivered_on: str | None = None) -> dict[str, Any]:
    return {
        "kind": kind,
        "content": f"{kind}措施",
        "owner": "镇政府",
        "starts_on": "2025-03-01",
        "status": status,
        "delivery": {"delivered_on": delivered_on, "evidence": "凭证"} if delivered_on else None,
    }


def _case(
    case_id: str, code: str, village: str, opened: datetime, closed: datetime | None, outcome: str | None
) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "workflow_id": f"identification-{code}",
        "run_id": "run",
        "household_code": code,
        **_places(village),
        "channel": "cadre_screening",
        "step": "closed" if closed else "home_verification",
        "outcome": outcome,
        "policy_version": 1,
        "opened_at": opened,
        "due_at": opened + timedelta(days=15),
        "closed_at": closed,
        "last_seq": 1,
        "state": {},
    }


def _step_change(case_id: str, seq: int, moment: datetime, step: str, step_due: datetime) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "seq": seq,
        "subject_type": "case",
        "subject_id": case_id,
        "action": "test_step",
        "actor_username": "test",
        "actor_area_code": COUNTY,
        "at": moment,
        "data": {},
        "after": {"step": step, "step_due_at": step_due.isoformat()},
    }


def _self_report(
    app_id: str, village: str, submitted: datetime, status: str, decided: datetime | None
) -> dict[str, Any]:
    return {
        "application_id": app_id,
        "workflow_id": f"self-report-{app_id}",
        "run_id": "run",
        "applicant_id": "ceshi-applicant",
        "head_id_number": demo_id_number("610898", date(1980, 1, 1), int(app_id[-1]), False),
        **_places(village),
        "status": status,
        "submitted_at": submitted,
        "due_at": submitted + timedelta(days=2),
        "decided_at": decided,
        "last_seq": 1,
        "state": {},
    }


def _visit_task(mid: str, code: str, village: str, period: str, status: str, visited: date | None) -> dict[str, Any]:
    first = date.fromisoformat(f"{period}-01")
    return {
        "monitoring_id": mid,
        "period": period,
        "household_code": code,
        **_places(village),
        "opens_on": first,
        "due_at": datetime.combine((first + timedelta(days=32)).replace(day=1), datetime.min.time(), CHINA_TIME),
        "status": status,
        "visit_count": 1 if visited else 0,
        "first_visited_on": visited,
        "last_seq": 1,
    }


def _warning(n: int, department_id: int, code: str | None, outcome: str, received: datetime) -> dict[str, Any]:
    return {
        "department_id": department_id,
        "department": "medical_insurance",
        "county_code": COUNTY,
        "warning_id": f"ceshi-{n}",
        "outcome": outcome,
        "household_code": code,
        "task_queue": "identification",
        "received_at": received,
        # Handed on already: the worker's forwarder leaves it alone.
        "delivered_at": received,
        "delivered_as": outcome,
    }


@pytest_asyncio.fixture(scope="session")
async def report_county(settings: Settings) -> People:
    engine = create_engine(settings.require_database_url(), pool_size=1)
    password = hash_password(DEMO_PASSWORD)
    async with engine.begin() as conn:
        await conn.execute(
            insert(Area).values(
                [
                    {"code": COUNTY, "name": "测试县", "level": "county", "parent_code": None},
                    {"code": T1, "name": "一镇", "level": "township", "parent_code": COUNTY},
                    {"code": T2, "name": "二镇", "level": "township", "parent_code": COUNTY},
                    {"code": A, "name": "甲村", "level": "village", "parent_code": T1},
                    {"code": B, "name": "乙村", "level": "village", "parent_code": T1},
                    {"code": C, "name": "丙村", "level": "village", "parent_code": T2},
                ]
            )
        )
        accounts = [
            (PEOPLE.officer, "county_officer", COUNTY),
            (PEOPLE.approver_t1, "township_approver", T1),
            (PEOPLE.approver_t2, "township_approver", T2),
            (PEOPLE.cadre_a, "village_cadre", A),
            (PEOPLE.admin, "admin", COUNTY),
            (PEOPLE.grid_a, "grid_worker", A),
        ]
        await conn.execute(
            insert(Account).values(
                [
                    {"username": u, "display_name": u, "role": r, "area_code": a, "password_hash": password}
                    for u, r, a in accounts
                ]
            )
        )
        await conn.execute(
            insert(Household).values(
                [
                    _household(H1, A, "risk_eliminated", "marginal"),
                    _household(H2, A, "risk_not_eliminated", "sudden_hardship"),
                    _household(
                        H3, B, "risk_eliminated", "unstable_formerly_poor", formerly_poor=True, poverty_exit_year=2019
                    ),
                    _household(H4, C, "risk_not_eliminated", "marginal"),
                    _household(H5, C, "risk_not_eliminated", "marginal"),
                    _household(H6, A, "risk_not_eliminated", "marginal"),
                    _household(
                        H7,
                        A,
                        "not_monitored",
                        None,
                        formerly_poor=True,
                        poverty_exit_year=2018,
                        minimum_living_allowance=True,
                    ),
                ]
            )
        )
        await conn.execute(
            insert(Member).values(
                [
                    {
                        "household_code": code,
                        "name": f"户主{code[-1]}",
                        "id_number": id_number,
                        "relation": "户主",
                        "sex": "male",
                        "birth_date": date(1970, 1, 1),
                        "labour_capacity": "full",
                    }
                    for code, id_number in HEAD_ID.items()
                ]
            )
        )
        h2_plan = {
            "plan_no": 1,
            "submitted_at": at("03-08").isoformat(),
            "measures": [
                _measure("employment", "delivered", "2025-03-20"),
                _measure("finance", "in_progress"),
                _measure("industry", "withdrawn"),
            ],
        }
        h3_plans = [
            {
                "plan_no": 1,
                "submitted_at": at("02-25").isoformat(),
                "measures": [_measure("employment", "delivered", "2025-02-28")],
            },
            {
                "plan_no": 2,
                "submitted_at": at("04-03").isoformat(),
                "measures": [_measure("social_security", "in_progress")],
            },
        ]
        await conn.execute(
            insert(MonitoringRecord).values(
                [
                    _period("ceshi-m1", H1, A, at("01-10"), at("03-15"), "marginal", ["illness", "schooling"]),
                    _period("ceshi-m2", H2, A, at("03-05"), None, "sudden_hardship", ["illness"], [h2_plan]),
                    _period(
                        "ceshi-m3", H3, B, at("02-20"), at("04-10"), "unstable_formerly_poor", ["disaster"], h3_plans
                    ),
                    _period("ceshi-m4", H4, C, at("03-20"), None, "marginal", ["housing"]),
                    _period("ceshi-m5", H5, C, at("04-05"), None, "marginal", ["illness"]),
                    _period(
                        "ceshi-m6a",
                        H6,
                        A,
                        datetime(2024, 6, 1, tzinfo=CHINA_TIME),
                        datetime(2024, 12, 1, tzinfo=CHINA_TIME),
                        "marginal",
                        ["illness"],
                    ),
                    _period("ceshi-m6b", H6, A, at("03-25"), None, "marginal", ["accident"]),
                ]
            )
        )
        await conn.execute(
            insert(CaseRecord).values(
                [
                    _case("ceshi-c1", H2, A, at("02-25"), at("03-05"), "monitoring_target"),
                    _case("ceshi-c2", H4, C, at("03-01"), at("03-20"), "monitoring_target"),
                    _case("ceshi-c3", H6, A, at("03-13"), at("03-25"), "monitoring_target"),
                    _case("ceshi-c4", H3, B, at("03-01"), at("03-10"), "review_failed"),
                    _case("ceshi-c5", H1, A, at("03-28"), None, None),
                    _case("ceshi-c6", H5, C, at("03-30"), at("04-03"), "authorisation_refused"),
                    _case("ceshi-c7", H3, B, at("03-01", 10), None, None),
                ]
            )
        )
        await conn.execute(
            insert(AuditEntry).values(
                [
                    _step_change("ceshi-c5", 1, at("03-28"), "home_verification", at("03-30")),
                    _step_change("ceshi-c5", 2, at("03-29"), "authorisation", at("03-30")),
                    _step_change("ceshi-c5", 3, at("04-02"), "cross_check", at("04-05")),
                    _step_change("ceshi-c7", 1, at("03-02"), "cross_check", at("03-31", 12)),
                ]
            )
        )
        await conn.execute(insert(Applicant).values(id="ceshi-applicant", phone="13900009999"))
        await conn.execute(
            insert(SelfReport).values(
                [
                    _self_report("ceshi-s1", A, at("03-02", 10), "accepted", at("03-03")),
                    _self_report("ceshi-s2", A, at("03-10", 10), "accepted", at("03-14")),
                    _self_report("ceshi-s3", C, at("03-30", 10), "pending", None),
                    _self_report("ceshi-s4", B, at("03-29", 10), "rejected", at("04-02")),
                    _self_report("ceshi-s5", A, at("02-20", 10), "accepted", at("02-21")),
                ]
            )
        )
        await conn.execute(
            insert(VisitTaskRecord).values(
                [
                    _visit_task("ceshi-m1", H1, A, "2025-03", "cancelled", None),
                    _visit_task("ceshi-m2", H2, A, "2025-03", "done", date(2025, 3, 10)),
                    _visit_task("ceshi-m3", H3, B, "2025-02", "overdue", None),
                    _visit_task("ceshi-m3", H3, B, "2025-03", "overdue", None),
                    _visit_task("ceshi-m4", H4, C, "2025-03", "done", date(2025, 3, 25)),
                    _visit_task("ceshi-m6b", H6, A, "2025-03", "done", date(2025, 4, 1)),
                ]
            )
        )
        await conn.execute(
            insert(VisitRecord).values(
                monitoring_id="ceshi-m2",
                visit_no=1,
                household_code=H2,
                village_code=A,
                period="2025-03",
                visited_on=date(2025, 3, 10),
                visitors=["张三", "李四"],
                findings="家中收入<稳定>&正常",
                per_capita_net_income=8000.5,
                living_conditions={},
                new_risks=[],
                new_risk_note="",
                recorded_by="test",
                recorded_at=at("03-10"),
            )
        )
        department_id = (
            await conn.execute(
                insert(DepartmentRecord)
                .values(
                    county_code=COUNTY,
                    kind="medical_insurance",
                    name="测试县医保局",
                    base_url="http://127.0.0.1:9",
                    secret_sealed="not-used",
                    created_by="test",
                    updated_by="test",
                )
                .returning(DepartmentRecord.id)
            )
        ).scalar_one()
        await conn.execute(
            insert(EarlyWarningRecord).values(
                [
                    _warning(1, department_id, H2, "opened", at("03-03")),
                    _warning(2, department_id, H4, "below_threshold", at("03-15")),
                    _warning(3, department_id, None, "unknown_person", at("03-16")),
                    _warning(4, department_id, H2, "duplicate", at("02-10")),
                ]
            )
        )
    await engine.dispose()
    return PEOPLE
