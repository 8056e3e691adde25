"""An event carries only what changed (`changes`); the read model applies it to the state before
(`apply_changes`). Applying must give back exactly the state after, whatever the two documents,
also when the event keeps of the old side only its keys (`changed_keys`)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from services.domain.changes import apply_changes, changed_keys, changes

_leaves = st.none() | st.booleans() | st.integers() | st.text(max_size=3)
_keys = st.sampled_from(["a", "b", "c", "d"])
documents = st.recursive(
    _leaves,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)  # a loaded machine is slow, not wrong
@given(st.dictionaries(_keys, documents, max_size=4), st.dictionaries(_keys, documents, max_size=4))
def test_applying_what_changed_gives_the_state_after(before: dict[str, Any], after: dict[str, Any]) -> None:
    old, new = changes(before, after)
    assert apply_changes(before, old, new) == after
    # An event carries of the old side only its keys: the one applying it has the old values.
    assert apply_changes(before, changed_keys(old, new), new) == after


def test_a_key_emptied_out_of_an_object_is_removed() -> None:
    before = {"cross_checks": {"civil_affairs": {"status": "completed"}}, "step": "cross_check"}
    after = {"cross_checks": {}, "step": "home_verification"}
    old, new = changes(before, after)
    assert new == {"cross_checks": {}, "step": "home_verification"}
    assert apply_changes(before, old, new) == after


def test_applying_leaves_the_state_before_as_it_was() -> None:
    before = {"notice": {"objections": [1]}, "review": {"passed": True}}
    after = {"notice": {"objections": [1, 2]}, "review": None}
    old, new = changes(before, after)
    apply_changes(before, old, new)["notice"]["objections"].append(3)
    assert before == {"notice": {"objections": [1]}, "review": {"passed": True}}
