"""How one workflow is reached from another, or from an activity: its id and the signals it hears.

Kept apart from the workflow classes because the calls go both ways: the identification
workflow hands a case over to monitoring and answers self-reports, while monitoring and
self-reports open identification cases through activities (services/identification_starts.py).
Each workflow imports the activities it calls; an activity that starts or signals a workflow
therefore names it from here instead of importing its class (the modules would import each other).
tests/workflows/test_hand_over.py checks these names against the classes.
"""

from __future__ import annotations

MONITORING_WORKFLOW = "MonitoringWorkflow"
# Signals the monitoring workflow hears from identification cases of its household.
IDENTIFICATION_OPENED = "identification_opened"
IDENTIFICATION_CONCLUDED = "identification_concluded"
# The signal a self-report hears when the case it is linked to has closed.
CASE_CLOSED = "case_closed"


def monitoring_workflow_id(household_code: str) -> str:
    """One monitoring workflow per household, whatever the number of its monitoring periods."""
    return f"monitoring-{household_code}"


def self_report_workflow_id(application_id: str) -> str:
    return f"self-report-{application_id}"
