"""How the API tells the workers' inbox forwarders (services/workers/departments/inbox.py) that a
department sent something: a PostgreSQL notification on one channel, its payload naming the inbox
the row went to, so a forwarder claims from that inbox only (every worker hears every notification)."""

from __future__ import annotations

CHANNEL = "department_inbox"
RESULTS = "results"  # cross_check_callbacks
WARNINGS = "warnings"  # early_warnings
BOTH = frozenset({RESULTS, WARNINGS})


def notify_sql(inbox: str) -> str:
    """The SQL expression that notifies the forwarders of a new row in `inbox` (sent at commit)."""
    assert inbox in BOTH
    return f"pg_notify('{CHANNEL}', '{inbox}')"
