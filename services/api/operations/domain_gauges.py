"""What the county's work looks like, read from the read model when Prometheus scrapes: open cases
by step, overdue open tasks by source and step, department answers outstanding by department.
Each is one aggregate over a partial index's rows (open cases, open tasks, live requests), so a
scrape stays cheap; labels are vocabulary (steps, sources, departments), never codes of people."""

from __future__ import annotations

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

_QUERIES = {
    "cases_open": (
        "Identification cases open, by step",
        ["step"],
        "SELECT step, count(*) FROM case_records WHERE closed_at IS NULL GROUP BY step",
    ),
    "tasks_overdue": (
        "Open tasks past their due time, by source and step",
        ["source", "step"],
        "SELECT source, step, count(*) FROM tasks WHERE closed_at IS NULL AND due_at < now() GROUP BY source, step",
    ),
    "department_answers_outstanding": (
        "Cross-check requests of open cases' current rounds still awaiting their department's answer",
        ["department", "status"],
        "SELECT department, status, count(*) FROM cross_check_requests"
        " WHERE is_live AND is_latest AND answered_at IS NULL GROUP BY department, status",
    ),
}


class _Read(Collector):
    def __init__(self, families: list[GaugeMetricFamily]) -> None:
        self.families = families

    def collect(self) -> list[GaugeMetricFamily]:
        return self.families


async def domain_registry(engine: AsyncEngine) -> CollectorRegistry:
    """A registry holding the gauges as the database has them now."""
    families = []
    async with engine.connect() as conn:
        for name, (description, labels, query) in _QUERIES.items():
            family = GaugeMetricFamily(name, description, labels=labels)
            for *values, count in (await conn.execute(text(query))).all():
                family.add_metric([str(v) for v in values], count)
            families.append(family)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Read(families))
    return registry
