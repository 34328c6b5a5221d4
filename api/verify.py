"""The read model against the workflows: ``python -m api.cli verify [--repair]``.

Each order's row is compared with its workflow's state (the ``state`` query), and so is what
the same projections wrote beside it: the audit trail (events 1 to the workflow's ``seq``),
the escalations, the follow-up's status. A row behind the workflow by a transition whose
projection is still running is not drift yet: it is read again for a while before it is
reported. ``--repair`` writes the workflow's state into the row, which the projection would
have written; a second repair finds nothing to do. The side tables hold more than the state
(who did what, a follow-up's result): their drift is reported, never "repaired" by guessing.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm import Session
from temporalio.client import Client
from temporalio.service import RPCError

from api.database import Database
from api.gateway import OrderGateway
from api.stores import projection
from core.snapshot import OrderSnapshot
from workflows.order.messages import OrderView
from workflows.order.state import snapshot_of

# A workflow whose worker is away does not answer a query: reported, never waited for.
QUERY_TIMEOUT = timedelta(seconds=10)
# A row behind its workflow is read again this often, this many times, before it counts.
SETTLE_PAUSE_S = 0.5
SETTLE_TRIES = 60


@dataclass
class Drift:
    public_id: str
    columns: list[str]
    # Side tables (``projection.trail_drift``): a person must look, repair cannot.
    by_hand: list[str] = field(default_factory=list)
    repaired: bool = False  # the row's columns were rewritten

    @property
    def settled(self) -> bool:
        return self.repaired and not self.by_hand

    def line(self) -> str:
        parts = []
        if self.columns:
            parts.append(
                f"{', '.join(self.columns)} differ" + (" (repaired)" if self.repaired else "")
            )
        if self.by_hand:
            parts.append(
                f"{', '.join(self.by_hand)} differ (not repairable from the workflow's state)"
            )
        return "; ".join(parts)


@dataclass
class Report:
    checked: int = 0
    drifted: list[Drift] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)

    @property
    def repaired(self) -> int:
        return sum(d.repaired for d in self.drifted)

    @property
    def left(self) -> int:
        """Orders an operator must still look at."""
        return sum(not d.settled for d in self.drifted) + len(self.unanswered)

    def lines(self) -> list[str]:
        out = [f"order {d.public_id}: {d.line()}" for d in self.drifted]
        out += [f"order {p}: its workflow did not answer" for p in self.unanswered]
        out.append(
            f"checked {self.checked}, drifted {len(self.drifted)}, repaired {self.repaired}, "
            f"unanswered {len(self.unanswered)}"
        )
        return out


async def verify(
    client: Client,
    db: Database,
    *,
    repair: bool = False,
    township: str | None = None,
    closed_too: bool = False,
) -> Report:
    report = Report()
    for order_id, public_id in await db.run(
        projection.orders_to_verify, township=township, closed_too=closed_too
    ):
        report.checked += 1
        try:
            shown = await OrderGateway(client).state(order_id, rpc_timeout=QUERY_TIMEOUT)
        except RPCError:
            shown = None
        if shown is None:
            report.unanswered.append(public_id)
            continue
        state = snapshot_of(shown)
        drift, seq = await _compare(db, order_id, public_id, shown, state)
        for _ in range(SETTLE_TRIES):
            if drift is None or seq >= state.seq:
                break
            await asyncio.sleep(SETTLE_PAUSE_S)  # its projection may be on its way
            drift, seq = await _compare(db, order_id, public_id, shown, state)
        if drift is None:
            continue
        if repair and drift.columns:
            drift.repaired = await db.run(projection.repair, order_id, state)
        report.drifted.append(drift)
    return report


async def _compare(
    db: Database, order_id: int, public_id: str, shown: OrderView, state: OrderSnapshot
) -> tuple[Drift | None, int]:
    """The order's drift from its workflow (row and side tables read in one transaction), and
    the row's ``seq``: behind the workflow's, its projection may still be on its way."""
    row, trail = await db.run(_read, order_id)
    drift = Drift(public_id, projection.drift(row, state), projection.trail_drift(trail, shown))
    return (drift if drift.columns or drift.by_hand else None), row.seq


def _read(session: Session, order_id: int) -> tuple[OrderSnapshot, projection.Trail]:
    return projection.row_snapshot(session, order_id), projection.trail(session, order_id)
