"""Every page of the workbench, as one router for the app."""

from fastapi import APIRouter

from services.web import (
    auth_routes,
    case_routes,
    evidence_routes,
    household_routes,
    inbox_routes,
    lead_routes,
    monitoring_routes,
    overview_routes,
    report_routes,
    self_report_routes,
    static_routes,
)

router = APIRouter(include_in_schema=False)
# `/cases/new` before `/cases/{case_id}`.
for pages in (
    static_routes,
    auth_routes,
    inbox_routes,
    overview_routes,
    report_routes,
    lead_routes,
    monitoring_routes,
    case_routes,
    household_routes,
    evidence_routes,
    self_report_routes,
):
    router.include_router(pages.router)
