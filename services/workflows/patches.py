"""Which code path a workflow run takes at each patch, with one marker per run instead of one per patch.

`workflow.patched(id)` writes a marker into the history the first time a run asks it, and the SDK
upserts the `TemporalChangeVersion` search attribute beside it: two events per patch, in every run,
for as long as the patch stays in the code (it must, while histories from before it may replay). A
case asked 13 of them: 26 of its about 150 events, each a write for the server.

So every patch in place when the baseline was cut is listed in `BASELINED`, and a run asks for the
baseline once, as it begins (`Patches()` in the workflow's `__init__`, its first activation). A run
that began on the baseline (its history opens with the baseline's marker: every run started since)
takes the new path of each baselined patch without asking for it. A run that began before has no
such marker, so the baseline reads False for the whole run, on replay and after, and each patch is
asked as it always was. Asking for the baseline later than the first activation would be wrong: a
run begun before could then switch paths in the middle.

A patch added after the baseline is not in `BASELINED`: it is asked for itself in every run (a run
begun on this baseline did not have it). A later baseline may list it.
"""

from __future__ import annotations

from temporalio import workflow

BASELINE = "patches-baseline-2026-12"

# Every patch in the code when BASELINE was cut (their reasons are where each is used).
BASELINED = frozenset(
    {
        # services/workflows/identification.py
        "cross-check-after-recorded-step",
        "escalate-missed-deadlines",
        "reask-silent-departments",
        "keep-answered-sends",
        "tell-monitoring-case-opened",
        "hand-over-closed-case",
        "review-after-cross-check",
        "one-timer-per-deadline",
        "stop-ended-watch-timer",
        "record-cross-check-acceptance",
        # services/workflows/hand_over.py
        "hand-over-as-local-activities",
        # services/workflows/procedure.py
        "township-return-reworks",
        "refuse-unrecordable-events",
        "light-records",
        "records-as-local-activities",
    }
)


class Patches:
    """`workflow.patched` for one run. Build it in the workflow's `__init__`, before anything else
    the run does, and ask it instead of `workflow.patched`."""

    def __init__(self) -> None:
        self.on_baseline = workflow.patched(BASELINE)

    def __call__(self, patch_id: str) -> bool:
        """Whether the run takes the new path of `patch_id` (a marker only off the baseline)."""
        if self.on_baseline and patch_id in BASELINED:
            return True
        return workflow.patched(patch_id)
