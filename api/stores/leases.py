"""Claims on the call center's tasks as leases: one agent at a time, lapsing by themselves.

Follow-ups and call requests alike: a task is taken (or a holder's claim extended) by one
conditional UPDATE, which the database checks against the row as it is when the update runs
(PostgreSQL re-checks it after waiting for a concurrent update of the same row), so of agents
claiming at once exactly one wins; a lease that ran out is anyone's again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from core.models import CallRequest, FollowUp

Task = type[FollowUp] | type[CallRequest]


def take(
    session: Session,
    task: Task,
    row_id: int,
    agent_id: int,
    *,
    open_status: str,
    lease: timedelta,
    now: datetime,
) -> bool:
    """Claim the open task for ``lease`` (the holder's claim is extended); whether it applied."""
    claimed = session.scalar(
        update(task)
        .where(
            task.id == row_id,
            task.status == open_status,
            or_(
                task.claimed_by.is_(None),
                task.claim_expires_at.is_(None),
                task.claim_expires_at <= now,
                task.claimed_by == agent_id,
            ),
        )
        .values(claimed_by=agent_id, claim_expires_at=now + lease)
        .returning(task.id)
        .execution_options(synchronize_session=False)
    )
    return claimed is not None
