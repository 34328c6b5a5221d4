"""The order workflow: one durable workflow per request for help, through the four orders.

- ``state.py``: the state machine, pure (a check and a transition per command; no Temporal);
- ``follow_up.py``: what the automated follow-up call's webhooks mean, and how a call ends;
- ``workflow.py``: ``OrderWorkflow``, the thin Temporal shell that runs them;
- ``messages.py``: its input, commands, signal and view.

The pure modules are imported passed through the sandbox (they hold no state of their own),
so a new workflow does not rebuild them.
"""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.order.messages import (
        AcceptInput,
        AssignInput,
        CallProgress,
        CancelInput,
        CompleteInput,
        DeclineInput,
        DispatchInput,
        FollowUpPlan,
        FollowUpResultInput,
        HurryInput,
        OpenCallInput,
        OrderInput,
        OrderTimers,
        OrderView,
        ReviewInput,
        VisitInput,
    )
from workflows.order.workflow import (
    SEARCH_ATTRIBUTES,
    OrderWorkflow,
    initial_search_attributes,
    summary,
    workflow_id,
)

__all__ = [
    "SEARCH_ATTRIBUTES",
    "AcceptInput",
    "AssignInput",
    "CallProgress",
    "CancelInput",
    "CompleteInput",
    "DeclineInput",
    "DispatchInput",
    "FollowUpPlan",
    "FollowUpResultInput",
    "HurryInput",
    "OpenCallInput",
    "OrderInput",
    "OrderTimers",
    "OrderView",
    "OrderWorkflow",
    "ReviewInput",
    "VisitInput",
    "initial_search_attributes",
    "summary",
    "workflow_id",
]
