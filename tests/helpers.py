"""Small helpers the tests share: submitting orders, reading the audit trail."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session
from temporalio.client import Client, WorkflowHandle

from api import schemas
from api.commands import OrderCommands
from api.database import Database
from api.gateway import OrderGateway
from api.stores import orders, places, policies, units, volunteers
from api.stores.access import OrderRef, resolve
from core.models import Escalation, FollowUp, Order, OrderEvent, Volunteer
from core.security import Principal
from core.settings import Settings
from core.vocab import Channel, DispatchPolicy, Role, UnitKind
from tests.polling import eventually
from workflows.order import OrderView, OrderWorkflow, workflow_id

HISTORIES = Path(__file__).parent / "histories"
# The audit trail of an order that went the whole way round with a review and staff follow-up.
WHOLE_LOOP = [
    "submitted",
    "dispatched",
    "accepted",
    "completed",
    "reviewed",
    "follow_up_created",
    "followed_up",
    "closed",
]


def order_body(
    township: str, item_code: str = "care.elderly_visit", *, village_id: int | None = None
) -> schemas.OrderCreate:
    return schemas.OrderCreate(
        item_code=item_code,
        village_id=village_id,
        reason="家里老人行动不便，需要有人帮忙买药和打扫。",
        address="蓼皋街道 龙井社区 3 组 12 号",
        township=township,
        resident_name="龙秀英",
    )


# The resident every helper-submitted order is for (order_body's 13800138000, in E.164).
RESIDENT_PHONE = "+8613800138000"
RESIDENT = orders.Requester(phone=RESIDENT_PHONE, channel=Channel.WEB, by="resident")
# Registry helpers act as a county admin, as the API's admins do.
COUNTY_ADMIN = Principal(subject="staff:0", roles=frozenset({Role.ADMIN}), staff_id=0)


async def submit(
    client: Client,
    db: Database,
    settings: Settings,
    township: str,
    *,
    item_code: str = "care.elderly_visit",
    village_id: int | None = None,
) -> WorkflowHandle[OrderWorkflow, OrderView]:
    """Submit an order the way the API does and return its workflow handle."""
    submitted = await db.run(
        orders.create_order,
        order_body(township, item_code, village_id=village_id),
        RESIDENT,
        idempotency_key=None,
        completion_sla=settings.completion_sla,
    )
    await OrderCommands(OrderGateway(client), db, settings, COUNTY_ADMIN).ensure_workflow(submitted)
    return client.get_workflow_handle_for(OrderWorkflow.run, workflow_id(submitted.order_id))


class Harness:
    """One test's view of the system: a client with a worker, the database, its township."""

    def __init__(self, client: Client, db: Database, settings: Settings, township: str) -> None:
        self.client = client
        self.db = db
        self.settings = settings
        self.township = township
        self.handles: list[WorkflowHandle[OrderWorkflow, OrderView]] = []

    async def submit(
        self, *, item_code: str = "care.elderly_visit", village_id: int | None = None
    ) -> WorkflowHandle[OrderWorkflow, OrderView]:
        handle = await submit(
            self.client,
            self.db,
            self.settings,
            self.township,
            item_code=item_code,
            village_id=village_id,
        )
        self.handles.append(handle)
        return handle

    async def volunteer(self) -> int:
        return await self.db.run(add_volunteer, self.township)

    async def events(self, handle: WorkflowHandle[OrderWorkflow, OrderView]) -> list[str]:
        return await self.db.run(events, order_id_of(handle))

    async def settled_events(self, handle: WorkflowHandle[OrderWorkflow, OrderView]) -> list[str]:
        """The audit trail once everything the workflow has decided so far is persisted.

        A query answers from workflow state, which runs ahead of the ``record_transition``
        activity: wait until the order row has caught up with the state's ``seq``.
        """
        seq = (await handle.query(OrderWorkflow.state)).seq
        await eventually(
            lambda: self.order(handle), lambda o: o.last_seq >= seq, what=f"seq {seq} persisted"
        )
        return await self.events(handle)

    async def order(self, handle: WorkflowHandle[OrderWorkflow, OrderView]) -> Order:
        return await self.db.run(order_row, order_id_of(handle))

    async def record_histories(self, test_name: str) -> None:
        """Save each workflow's history, finished or not, for the replay test."""
        HISTORIES.mkdir(exist_ok=True)
        for n, handle in enumerate(self.handles, start=1):
            history = await handle.fetch_history()
            (HISTORIES / f"{test_name}-{n}.json").write_text(history.to_json())


def staff_ref(session: Session, order_id: int) -> OrderRef:
    """An order as a county admin sees it, by its internal id (tests know those)."""
    public_id = session.scalar(select(Order.public_id).where(Order.id == order_id))
    assert public_id is not None
    return resolve(session, COUNTY_ADMIN, public_id)


def order_id_of(handle: WorkflowHandle[OrderWorkflow, OrderView]) -> int:
    return int(handle.id.removeprefix("order-"))


def add_volunteer(session: Session, township: str = "蓼皋街道") -> int:
    volunteer = Volunteer(
        name="志愿者", phone=f"+86139{uuid.uuid4().int % 10**8:08d}", township=township
    )
    session.add(volunteer)
    session.flush()
    return volunteer.id


def events(session: Session, order_id: int | str) -> list[str]:
    """The audit trail of an order, by its internal id or (as the API knows it) its public id."""
    if isinstance(order_id, str):
        internal = session.scalar(select(Order.id).where(Order.public_id == order_id))
        assert internal is not None, f"no order {order_id}"
        order_id = internal
    return list(
        session.scalars(
            select(OrderEvent.event).where(OrderEvent.order_id == order_id).order_by(OrderEvent.seq)
        )
    )


def order_row(session: Session, order_id: int) -> Order:
    order = session.get(Order, order_id)
    assert order is not None
    session.expunge(order)
    return order


def escalation_levels(session: Session, order_id: int) -> list[int]:
    return list(
        session.scalars(
            select(Escalation.level)
            .where(Escalation.order_id == order_id)
            .order_by(Escalation.level)
        )
    )


def follow_up_of(session: Session, order_id: int) -> FollowUp | None:
    task = session.scalar(select(FollowUp).where(FollowUp.order_id == order_id))
    if task is not None:
        session.expunge(task)
    return task


class Registry:
    """Builds a hand-made registry through the API's own functions, and retires it after.

    Ranking is county-wide, so volunteers one test registers would compete in the next;
    ``retire`` deactivates them and resets the policies the test changed.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.volunteers: list[int] = []
        self.policies: list[str] = []

    async def township(self, *, lat: float | None = None, lon: float | None = None) -> str:
        name = f"测试镇-{uuid.uuid4().hex[:8]}"
        body = schemas.TownshipCreate(name=name, name_en="Test", lat=lat, lon=lon)
        await self.db.run(places.create_township, body)
        return name

    async def village(
        self, township: str, *, lat: float | None = None, lon: float | None = None
    ) -> int:
        body = schemas.VillageCreate(
            township=township, name=f"测试村-{uuid.uuid4().hex[:6]}", lat=lat, lon=lon
        )
        return (await self.db.run(places.create_village, body)).id

    async def volunteer(self, township: str, **fields: Any) -> int:
        body = schemas.VolunteerCreate(
            name=fields.pop("name", "志愿者"),
            phone=f"138{uuid.uuid4().int % 10**8:08d}",
            township=township,
            **fields,
        )
        created = await self.db.run(volunteers.create_volunteer, body, country_code="86")
        self.volunteers.append(created.id)
        return created.id

    async def unit(self, township: str, *, leader: int, members: list[int]) -> int:
        body = schemas.UnitCreate(
            kind=UnitKind.TEAM, name=f"测试队-{uuid.uuid4().hex[:6]}", township=township
        )
        unit = await self.db.run(units.create_unit, body, COUNTY_ADMIN)
        for member in [leader, *members]:
            await self.db.run(
                volunteers.transfer_volunteer,
                member,
                schemas.TransferBody(unit_id=unit.id),
                COUNTY_ADMIN,
            )
        await self.db.run(
            units.update_unit, unit.id, schemas.UnitPatch(leader_id=leader), COUNTY_ADMIN
        )
        return unit.id

    async def patch(self, volunteer_id: int, **fields: Any) -> None:
        await self.db.run(
            volunteers.update_volunteer,
            volunteer_id,
            schemas.VolunteerPatch(**fields),
            COUNTY_ADMIN,
        )

    async def policy(self, category: str, policy: DispatchPolicy) -> None:
        await self.db.run(policies.set_policy, category, policy)
        self.policies.append(category)

    async def retire(self) -> None:
        for volunteer_id in self.volunteers:
            await self.patch(volunteer_id, active=False)
        for scope in self.policies:
            await self.db.run(policies.set_policy, scope, DispatchPolicy.MANUAL)


def lock_waits(engine: Engine) -> int:
    """How many sessions of this database wait for a lock (PostgreSQL)."""
    with engine.connect() as conn:
        waiting = conn.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    return int(waiting or 0)


def free_port() -> int:
    """A port nothing listens on now (for a server a test or the benchmark starts)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port
