"""The read model against the workflows: ``python -m api.cli verify [--repair]``.

Each order's row is compared with its workflow's state (the ``state`` query). A row behind
the workflow by a transition whose projection is still running is not drift yet: it is
read again for a while before it is reported. ``--repair`` writes the workflow's state into the
row, which the projection would have written; a second repair finds nothing to do.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta

from temporalio.client import Client
from temporalio.service import RPCError

from api.database import Database
from api.stores import projection
from workflows.order import OrderWorkflow, workflow_id
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
    repaired: bool = False


@dataclass
class Report:
    checked: int = 0
    drifted: list[Drift] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)

    @property
    def repaired(self) -> int:
        return sum(d.repaired for d in self.drifted)

    def lines(self) -> list[str]:
        out = [
            f"order {d.public_id}: {', '.join(d.columns)} differ"
            + (" (repaired)" if d.repaired else "")
            for d in self.drifted
        ]
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
        handle = client.get_workflow_handle_for(OrderWorkflow.run, workflow_id(order_id))
        try:
            state = snapshot_of(await handle.query(OrderWorkflow.state, rpc_timeout=QUERY_TIMEOUT))
        except RPCError:
            report.unanswered.append(public_id)
            continue
        row = await db.run(projection.row_snapshot, order_id)
        columns = projection.drift(row, state)
        for _ in range(SETTLE_TRIES):
            if not columns or row.seq >= state.seq:
                break
            await asyncio.sleep(SETTLE_PAUSE_S)  # its projection may be on its way
            row = await db.run(projection.row_snapshot, order_id)
            columns = projection.drift(row, state)
        if not columns:
            continue
        found = Drift(public_id, columns)
        if repair:
            found.repaired = await db.run(projection.repair, order_id, state)
        report.drifted.append(found)
    return report
