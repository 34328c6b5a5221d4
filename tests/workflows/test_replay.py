"""Replay recorded histories of every path: a non-deterministic change to the workflow fails here.

The histories under ``tests/histories`` come from real runs of the workflow tests
(``make histories``). Re-record them only for a deliberate, versioned change.
Earlier versions' histories are kept for good, never re-recorded: orders already running
when the next version was deployed must finish under it. ``tests/histories_v1`` holds those
recorded before matching and dispatch policies came in; ``tests/histories_v2`` those recorded
before the automated follow-up calls and SMS; ``tests/histories_v3`` those recorded before the
apps (hurry, check-in/out, the on-site review, the follow-up confirming a review);
``tests/histories_v4`` those recorded before the projections became local activities.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from tests.helpers import HISTORIES
from workflows.order import OrderWorkflow
from workflows.recognition.workflow import RecognitionWorkflow

# Each path of the loop that must keep replaying: the test that recorded it.
PATHS = (
    "test_full_lifecycle_persists_every_transition_once",
    "test_decline_returns_to_pending_and_remembers_who_declined",
    "test_accept_timeout_returns_order_to_pending",
    "test_escalates_at_the_deadline_and_again_every_repeat",
    "test_review_window_expiry_goes_to_follow_up_which_records_the_rating",
    "test_follow_up_correction_keeps_both_ratings",
    "test_cancel_before_completion_ends_the_workflow",
    "test_unreachable_resident_closes_without_a_rating",
    "test_concurrent_accepts_have_exactly_one_winner",
    "test_auto_policy_dispatches_itself_moves_on_and_gives_up_after_max_attempts",
    "test_suggest_policy_waits_for_the_admin_then_moves_on_by_itself",
    "test_open_call_first_accept_wins_and_everyone_else_is_told_it_is_taken",
    "test_open_call_declines_and_timeout_pass_over_everyone",
    "test_team_dispatch_goes_through_the_leader_with_its_own_timeout",
    "test_redispatch_of_an_accepted_order_keeps_the_deadline",
    # Automated follow-up calls and SMS.
    "test_a_rating_pressed_on_the_call_settles_the_follow_up",
    "test_unanswered_calls_retry_later_then_reach_the_call_center",
    "test_dissatisfied_or_nine_goes_to_staff_at_once",
    "test_no_valid_key_twice_is_a_failed_attempt_and_is_tried_again",
    "test_callbacks_twilio_repeats_are_applied_once",
    "test_staff_may_settle_it_between_calls_and_no_more_calls_follow",
    "test_the_first_call_waits_for_calling_hours",
    # The apps.
    "test_hurry_check_in_out_and_an_on_site_review_reach_the_read_model",
    "test_after_a_review_the_call_waits_and_a_changed_answer_is_a_correction",
    # Honour rolls: a period computed and stored, then run again (nothing changes).
    "test_the_roll_is_stored_once_and_published",
)
# Versions before this one; each directory is frozen.
EARLIER = ("histories_v1", "histories_v2", "histories_v3", "histories_v4")


def _histories() -> list[Path]:
    return sorted(HISTORIES.glob("*.json"))


def _all_histories() -> list[Path]:
    earlier = [p for d in EARLIER for p in sorted((HISTORIES.parent / d).glob("*.json"))]
    return _histories() + earlier


def test_every_path_has_a_recorded_history() -> None:
    # ``test_x[case]-1.json`` → ``test_x``: a parametrized test records one per case.
    names = {p.name.rsplit("-", 1)[0].split("[")[0] for p in _histories()}
    missing = [p for p in PATHS if p not in names]
    assert not missing, f"record histories with `make histories`; missing {missing}"


@pytest.mark.parametrize(
    "text",
    [pytest.param(p.read_text(), id=f"{p.parent.name}/{p.stem}") for p in _all_histories()],
)
async def test_history_replays_deterministically(text: str, request: pytest.FixtureRequest) -> None:
    history = WorkflowHistory.from_json(f"replay-{request.node.callspec.id}", json.loads(text))
    result = await Replayer(workflows=[OrderWorkflow, RecognitionWorkflow]).replay_workflow(history)
    assert result.replay_failure is None
