"""The order's state machine, pure: its state in one dataclass, a check and a transition a move.

One public surface over a module per phase: ``base`` (the state, effects and the steps every
phase uses), ``dispatch``, ``service``, ``review`` and ``follow_up``.

pending → dispatched → accepted → completed → reviewed → (follow-up) → closed, with decline
and the accept timeout returning the order to pending, cancel before completion, and an
escalation each time the completion deadline (and every repeat after it) passes.

No Temporal server, database or clock in here (search-attribute updates are plain values):
``now`` is an argument. A ``check_*`` raises
the named business error (``workflows.errors``) and changes nothing. A transition changes the
state and returns ``Effects``: what the Temporal shell (``workflow.py``) must then do, in
this order: upsert the search attributes that changed, persist the events (and the side
tables' rows) in one activity, then send the SMS notices.
"""

from workflows.order.state.base import (
    Effects,
    OrderState,
    details,
    event,
    notice,
    snapshot,
    snapshot_of,
    view,
)
from workflows.order.state.dispatch import (
    accept,
    assign,
    auto_dispatched,
    check_accept,
    check_assign,
    check_decline,
    check_dispatch,
    check_open_call,
    decline,
    dispatch,
    give_up,
    offer_timed_out,
    open_call,
)
from workflows.order.state.follow_up import (
    check_follow_up,
    close_follow_up,
    follow_up_opened,
    open_follow_up,
    queue_for_staff,
    record_follow_up,
)
from workflows.order.state.review import (
    check_review,
    review,
    review_window_expired,
)
from workflows.order.state.service import (
    cancel,
    check_cancel,
    check_check_out,
    check_complete,
    check_hurry,
    check_in,
    check_out,
    check_visit,
    complete,
    escalate,
    hurry,
)

__all__ = [
    "Effects",
    "OrderState",
    "accept",
    "assign",
    "auto_dispatched",
    "cancel",
    "check_accept",
    "check_assign",
    "check_cancel",
    "check_check_out",
    "check_complete",
    "check_decline",
    "check_dispatch",
    "check_follow_up",
    "check_hurry",
    "check_in",
    "check_open_call",
    "check_out",
    "check_review",
    "check_visit",
    "close_follow_up",
    "complete",
    "decline",
    "details",
    "dispatch",
    "escalate",
    "event",
    "follow_up_opened",
    "give_up",
    "hurry",
    "notice",
    "offer_timed_out",
    "open_call",
    "open_follow_up",
    "queue_for_staff",
    "record_follow_up",
    "review",
    "review_window_expired",
    "snapshot",
    "snapshot_of",
    "view",
]
