"""The screening rules as one SQL query over the register and what imports brought in, so the
preview (counts per township under a proposed policy) and the run (the households it leads on)
flag exactly the same households.

A household's size is the platform's (`household_profiles`) or else its current members. Its
income for a year is the sum of its sources; low-income households (脱贫户, 低保, 特困, or a
monitoring target whose risk is not eliminated) have the lower medical threshold, as early
warnings do.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from services.domain.areas import area_level
from services.domain.policy import PolicyBody
from services.domain.screening.rules import ScreeningRule

_CONDITIONS = {
    ScreeningRule.income_below_line: "f.income IS NOT NULL AND f.income / f.size <= CAST(:line AS float8)",
    ScreeningRule.income_drop: "f.last_income > 0 AND f.income IS NOT NULL"
    " AND f.income / f.size < (f.last_income / f.size) * (1 - CAST(:drop_share AS float8))",
    ScreeningRule.spending_share: "f.medical > 0 AND f.medical > CAST(:spending_share AS float8) * greatest(f.income, 0)",
    ScreeningRule.medical_bill: "f.medical >= CASE WHEN f.low_income THEN CAST(:medical_low AS float8) ELSE CAST(:medical_other AS float8) END",
    ScreeningRule.pupil_left_school: "f.left_school",
    ScreeningRule.unsafe_housing: "f.unsafe_house",
}


def flagged_households(
    policy: PolicyBody, year: int, area_code: str, import_job: int | None = None
) -> tuple[str, dict[str, Any]]:
    """SQL answering (household_code, township_code, village_code, rules, score) for every household
    of `area_code` the policy's screening rules flag in `year`; only those whose imported data
    `import_job` changed, if given. Highest score first is the order leads go out in."""
    rules = policy.screening.rules
    hits = ", ".join(f"CASE WHEN {_CONDITIONS[r]} THEN '{r.value}' END" for r in rules) or "NULL"
    scope_column = f"h.{area_level(area_code).value}_code"
    changed = (
        """AND h.code IN (SELECT household_code FROM household_profiles WHERE changed_job = :job
                          UNION SELECT household_code FROM members WHERE changed_job = :job
                          UNION SELECT household_code FROM household_incomes WHERE changed_job = :job
                          UNION SELECT household_code FROM household_signals WHERE changed_job = :job)"""
        if import_job is not None
        else ""
    )
    sql = f"""
        WITH facts AS (
            SELECT h.code, h.township_code, h.village_code,
                   (h.formerly_poor OR h.minimum_living_allowance OR h.extreme_poverty_support
                    OR h.status = 'risk_not_eliminated') AS low_income,
                   greatest(coalesce(p.household_size, m.members, 1), 1)::float8 AS size,
                   i.income, i.last_income, coalesce(s.medical, 0) AS medical,
                   coalesce(s.left_school, false) AS left_school, coalesce(s.unsafe_house, false) AS unsafe_house
            FROM households h
            LEFT JOIN household_profiles p ON p.household_code = h.code
            LEFT JOIN (
                SELECT household_code, count(*) AS members FROM members WHERE ended_on IS NULL GROUP BY household_code
            ) m ON m.household_code = h.code
            LEFT JOIN (
                SELECT household_code, sum(yuan) FILTER (WHERE year = CAST(:year AS integer)) AS income,
                       sum(yuan) FILTER (WHERE year = CAST(:year AS integer) - 1) AS last_income
                FROM household_incomes WHERE year IN (CAST(:year AS integer), CAST(:year AS integer) - 1) GROUP BY household_code
            ) i ON i.household_code = h.code
            LEFT JOIN (
                SELECT household_code, sum(amount) FILTER (WHERE kind = 'medical_bill') AS medical,
                       bool_or(kind = 'pupil_left_school') AS left_school, bool_or(kind = 'unsafe_housing') AS unsafe_house
                FROM household_signals WHERE month LIKE :year_months GROUP BY household_code
            ) s ON s.household_code = h.code
            WHERE {scope_column} = :area AND h.merged_into IS NULL {changed}
              AND (i.household_code IS NOT NULL OR s.household_code IS NOT NULL)
        ), judged AS (
            SELECT f.code, f.township_code, f.village_code, array_remove(ARRAY[{hits}]::text[], NULL) AS rules
            FROM facts f
        )
        SELECT code AS household_code, township_code, village_code, to_jsonb(rules) AS rules,
               cardinality(rules) AS score
        FROM judged WHERE cardinality(rules) > 0"""
    params: dict[str, Any] = {
        "year": year,
        "year_months": f"{year}-%",
        "area": area_code,
        "line": policy.income_line_on(date(year, 12, 31)).yuan,
        "drop_share": policy.screening.income_drop_share,
        "spending_share": policy.screening.spending_share,
        "medical_low": policy.medical_expense_threshold_low_income,
        "medical_other": policy.medical_expense_threshold_other,
    }
    if import_job is not None:
        params["job"] = import_job
    return sql, params
