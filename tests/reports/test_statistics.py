"""Every statistic against the hand-made county of conftest.py, whose answers are worked out by hand;
"as of" a past day from the recorded events; each reader only inside their own area."""

from __future__ import annotations

from typing import Any

import pytest

from services.demo_case import CaseDriver
from tests.reports.county import COUNTY, T1, T2, A, C, People

STATS = "/api/v1/reports/statistics"
MARCH = {"from_date": "2025-03-01", "as_of": "2025-03-31"}


def counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    return {row["code"]: row["count"] for row in rows if row["count"]}


async def stats(driver: CaseDriver, who: str, **params: Any) -> dict[str, Any]:
    answer = await driver.get(who, STATS, **params)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_households_by_status_category_and_risk(driver: CaseDriver, report_county: People) -> None:
    county = await stats(driver, report_county.officer, **MARCH)
    assert county["area_name"] == "测试县"
    households = county["households"]
    assert households["total"] == 5  # H1, H2, H3, H4, H6 (H5 only from April)
    assert counts(households["by_status"]) == {"risk_not_eliminated": 4, "risk_eliminated": 1}
    assert counts(households["by_category"]) == {"marginal": 3, "sudden_hardship": 1, "unstable_formerly_poor": 1}
    assert counts(households["by_risk_type"]) == {
        "illness": 2,
        "schooling": 1,
        "disaster": 1,
        "housing": 1,
        "accident": 1,
    }
    labels = {row["code"]: row["label"] for row in households["by_status"]}
    assert labels == {"risk_not_eliminated": "风险未消除", "risk_eliminated": "风险已消除"}


async def test_as_of_an_earlier_day_reads_the_events_then(driver: CaseDriver, report_county: People) -> None:
    february = await stats(driver, report_county.officer, from_date="2025-02-01", as_of="2025-02-28")
    # H1 and H3 monitored; H6's first period had ended in December; H3's elimination (April) not yet.
    assert counts(february["households"]["by_status"]) == {"risk_not_eliminated": 2, "risk_eliminated": 1}
    assert february["months"] == [{"month": "2025-02", "identified": 1, "exited": 0}]
    on_the_28th = await stats(driver, report_county.officer, from_date="2025-03-01", as_of="2025-03-28")
    # C5 had just opened at home verification (its step deadline still ahead); C6 not yet opened.
    open_cases = on_the_28th["open_cases"]
    assert (open_cases["open"], open_cases["overdue"]) == (2, 1)
    assert {s["step"]: (s["open"], s["overdue"]) for s in open_cases["by_step"] if s["open"]} == {
        "home_verification": (1, 0),
        "cross_check": (1, 1),
    }


async def test_identifications_and_exits_per_month(driver: CaseDriver, report_county: People) -> None:
    answer = await stats(driver, report_county.officer, from_date="2025-02-01", as_of="2025-03-31")
    assert answer["months"] == [
        {"month": "2025-02", "identified": 1, "exited": 0},
        {"month": "2025-03", "identified": 3, "exited": 1},
    ]


async def test_identification_time_against_the_15_days(driver: CaseDriver, report_county: People) -> None:
    county = (await stats(driver, report_county.officer, **MARCH))["identification_time"]
    assert county["identified"] == 3
    assert county["median_days"] == 12.0
    assert county["within_limit"] == 2
    assert county["within_limit_share"] == pytest.approx(0.6667)
    assert [(c["case_id"], c["days"], c["due_on"], c["closed_on"]) for c in county["late"]] == [
        ("ceshi-c2", 19.0, "2025-03-16", "2025-03-20")
    ]
    township = (await stats(driver, report_county.approver_t1, **MARCH))["identification_time"]
    assert (township["identified"], township["median_days"], township["late"]) == (2, 10.0, [])


async def test_open_cases_by_step_and_overdue_as_of(driver: CaseDriver, report_county: People) -> None:
    open_cases = (await stats(driver, report_county.officer, **MARCH))["open_cases"]
    # C5 at authorisation (its step deadline passed), C6 at home verification, C7 past its 15 days.
    assert (open_cases["open"], open_cases["overdue"]) == (3, 2)
    assert {s["step"]: (s["open"], s["overdue"]) for s in open_cases["by_step"] if s["open"]} == {
        "home_verification": (1, 0),
        "authorisation": (1, 1),
        "cross_check": (1, 1),
    }
    assert next(s for s in open_cases["by_step"] if s["step"] == "authorisation")["label"] == "承诺授权"


async def test_self_reports_accepted_within_two_days(driver: CaseDriver, report_county: People) -> None:
    county = (await stats(driver, report_county.officer, **MARCH))["self_reports"]
    assert county == {
        "submitted": 4,
        "accepted": 2,
        "accepted_within_limit": 1,
        "within_limit_share": 0.5,
        "pending": 2,  # S3, and S4 decided only in April
    }
    village = (await stats(driver, report_county.cadre_a, **MARCH))["self_reports"]
    assert (village["submitted"], village["accepted"], village["pending"]) == (2, 2, 0)


async def test_visit_coverage_as_of(driver: CaseDriver, report_county: People) -> None:
    march = (await stats(driver, report_county.officer, **MARCH))["visits"]
    # Owed: H2, H3, H4, H6 (H1's was cancelled); H6 was visited only on April 1st.
    assert march == {"owed": 4, "visited": 2, "overdue": 0, "coverage": 0.5}
    both = (await stats(driver, report_county.officer, from_date="2025-02-01", as_of="2025-03-31"))["visits"]
    assert both == {"owed": 5, "visited": 2, "overdue": 1, "coverage": 0.4}
    later = (await stats(driver, report_county.officer, from_date="2025-03-01", as_of="2025-04-02"))["visits"]
    assert (later["visited"], later["overdue"]) == (3, 1)  # H6 visited; H3's March passed unvisited


async def test_measures_by_kind_and_delivered(driver: CaseDriver, report_county: People) -> None:
    measures = {m["kind"]: m for m in (await stats(driver, report_county.officer, **MARCH))["measures"]}
    assert {k: (m["planned"], m["delivered"], m["delivered_in_period"]) for k, m in measures.items()} == {
        "industry": (0, 0, 0),  # withdrawn
        "employment": (2, 2, 1),
        "finance": (1, 0, 0),
        "social_security": (0, 0, 0),  # its plan came in April
        "social_assistance": (0, 0, 0),
        "motivation_and_skills": (0, 0, 0),
    }
    assert measures["employment"]["label"] == "就业帮扶"


async def test_early_warnings_by_outcome(driver: CaseDriver, report_county: People) -> None:
    county = (await stats(driver, report_county.officer, **MARCH))["early_warnings"]
    assert counts(county) == {"opened": 1, "below_threshold": 1, "unknown_person": 1}
    assert counts((await stats(driver, report_county.approver_t1, **MARCH))["early_warnings"]) == {"opened": 1}
    assert counts((await stats(driver, report_county.approver_t2, **MARCH))["early_warnings"]) == {"below_threshold": 1}


async def test_every_figure_is_scoped_to_the_area(driver: CaseDriver, report_county: People) -> None:
    township = await stats(driver, report_county.approver_t1, **MARCH)
    assert township["area"] == T1
    assert counts(township["households"]["by_status"]) == {"risk_not_eliminated": 3, "risk_eliminated": 1}
    assert township["months"] == [{"month": "2025-03", "identified": 2, "exited": 1}]
    assert township["open_cases"]["open"] == 2  # C5, C7
    assert township["visits"]["owed"] == 3
    village = await stats(driver, report_county.cadre_a, **MARCH)
    assert village["area"] == A
    assert village["households"]["total"] == 3  # H1, H2, H6
    county_asking_for_c = await stats(driver, report_county.officer, area=C, **MARCH)
    assert county_asking_for_c["households"]["total"] == 1  # H4
    assert county_asking_for_c["identification_time"]["late"][0]["case_id"] == "ceshi-c2"


async def test_outside_the_area_is_refused(
    driver: CaseDriver, report_county: People, other_county: dict[str, str]
) -> None:
    for who, area in (
        (report_county.approver_t2, T1),
        (report_county.cadre_a, T1),
        (report_county.approver_t1, COUNTY),
        (other_county["county_officer"], COUNTY),
    ):
        answer = await driver.get(who, STATS, area=area, **MARCH)
        assert answer.status_code == 403, (who, area)
        assert answer.json()["detail"]["code"] == "forbidden"
    assert (await driver.get(report_county.approver_t2, STATS, area=T2, **MARCH)).status_code == 200


async def test_bad_periods_are_refused_naming_the_field(driver: CaseDriver, report_county: People) -> None:
    backwards = await driver.get(report_county.officer, STATS, from_date="2025-04-01", as_of="2025-03-31")
    assert backwards.status_code == 422
    assert backwards.json()["detail"]["errors"][0]["field"] == "from_date"
    future = await driver.get(report_county.officer, STATS, as_of="2100-01-01")
    assert future.status_code == 422
    assert future.json()["detail"]["errors"][0]["field"] == "as_of"


async def test_open_cases_as_of_today_read_the_rows_unchanged_since(driver: CaseDriver, report_county: People) -> None:
    """Nothing has happened to C5 and C7 since their rows were written (today, before the cutoff):
    their own rows count, with no audit look-up. The hand-made rows still say 入户核查 while their
    audit entries moved them on to 信息比对, so the step shows which of the two was read."""
    today = await stats(driver, report_county.officer)
    open_cases = today["open_cases"]
    assert (open_cases["open"], open_cases["overdue"]) == (2, 2)  # both long past their 15 days
    assert {s["step"]: (s["open"], s["overdue"]) for s in open_cases["by_step"] if s["open"]} == {
        "home_verification": (2, 2)
    }
    # Every level of the area: C5 (村 A) and C7 (村 B) in 镇 T1, none in T2; 村 A holds C5 alone.
    assert (await stats(driver, report_county.approver_t1))["open_cases"]["open"] == 2
    assert (await stats(driver, report_county.approver_t2))["open_cases"]["open"] == 0
    assert (await stats(driver, report_county.cadre_a))["open_cases"]["open"] == 1
