"""What one change did to a JSON document: only the differing parts, before and after.

The audit keeps these instead of two whole copies of a case (a case state runs to several
kilobytes, most of which an event leaves alone). Objects are compared key by key, recursively;
anything else (lists, numbers, text) is kept whole when it differs. A key missing on one side
is missing from that side's answer too.
"""

from __future__ import annotations

import copy
from typing import Any

# Keys that change with every event or are derived from others: left out of the comparison.
_NOT_COMPARED = frozenset({"seq", "findings_by_member"})


def changes(before: Any, after: Any) -> tuple[Any, Any]:
    """(old, new): the parts of `before` and `after` that differ."""
    if not (isinstance(before, dict) and isinstance(after, dict)):
        return before, after
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    # Keys in a fixed order (not a set's), so a workflow computing this stays deterministic.
    for key in [*before, *(k for k in after if k not in before)]:
        if key in before and key in after:
            if before[key] != after[key]:
                old[key], new[key] = changes(before[key], after[key])
        elif key in before:
            old[key] = before[key]
        else:
            new[key] = after[key]
    return old, new


def state_changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """`changes` of two dumped case states, without their event counter and derived fields."""
    old, new = changes(
        {k: v for k, v in before.items() if k not in _NOT_COMPARED},
        {k: v for k, v in after.items() if k not in _NOT_COMPARED},
    )
    return old, new


def apply_changes(document: Any, before: Any, after: Any) -> Any:
    """The inverse of `changes`: `document` as it was (`before`'s side) made into what it became.
    Where both sides are objects the keys `after` holds are set (recursively) and the keys only
    `before` holds are removed; anything else is replaced whole by `after`."""
    if not (isinstance(document, dict) and isinstance(before, dict) and isinstance(after, dict)):
        return copy.deepcopy(after)
    result = dict(document)
    for key, value in after.items():
        result[key] = apply_changes(result.get(key), before[key], value) if key in before else copy.deepcopy(value)
    for key in before:
        if key not in after:
            result.pop(key, None)
    return result


def changed_keys(before: Any, after: Any) -> Any:
    """What `apply_changes` needs of `before` (`changes`' old side): its keys, with values only
    where both sides are objects (applied key by key); every other value is None. The keys an
    object lost are there, the old values are not (whoever applies has them)."""
    if not (isinstance(before, dict) and isinstance(after, dict)):
        return None
    return {key: changed_keys(value, after.get(key)) for key, value in before.items()}
