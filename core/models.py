"""The read model and registries in SQL.

The workflow owns each order's lifecycle; these tables are what it persists (through
activities) and what the API reads. Resident personal data lives only here, never in
workflow history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from core.db import Base, UTCDateTime, increment, new_public_id, utcnow
from core.order_numbers import compose, month_of
from core.settings import DEFAULT_COUNTY_TIMEZONE


class Category(Base):
    __tablename__ = "categories"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(Integer, default=0)
    # The talent platform (五大平台) whose volunteers suit this category, if any.
    platform: Mapped[str | None] = mapped_column(String(20))
    items: Mapped[list[CatalogItem]] = relationship(
        back_populates="category", order_by="CatalogItem.position"
    )


class CatalogItem(Base):
    __tablename__ = "catalog_items"

    code: Mapped[str] = mapped_column(String(60), primary_key=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("categories.code"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    category: Mapped[Category] = relationship(back_populates="items")


class Trade(Base):
    """Trades and occupations (行业) volunteers come from, for "similar trade" matching."""

    __tablename__ = "trades"

    code: Mapped[str] = mapped_column(String(30), primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(Integer, default=0)


class CategoryTrade(Base):
    """Which trades are close to a service category (行业相近)."""

    __tablename__ = "category_trades"

    category_code: Mapped[str] = mapped_column(ForeignKey("categories.code"), primary_key=True)
    trade_code: Mapped[str] = mapped_column(ForeignKey("trades.code"), primary_key=True)


class Township(Base):
    """The county's townships (乡镇/街道): orders and volunteers name one of these."""

    __tablename__ = "townships"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_en: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Centre coordinates (WGS-84 degrees), used when nothing finer is known.
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)


class Village(Base):
    """A village (村) or urban community (社区) within a township."""

    __tablename__ = "villages"
    __table_args__ = (UniqueConstraint("township", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    township: Mapped[str] = mapped_column(ForeignKey("townships.name"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(12), default="village")
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)


class Unit(Base):
    """A practice institute (所), station (站) or volunteer team (队) with a leader."""

    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("kind", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(80))
    township: Mapped[str] = mapped_column(ForeignKey("townships.name"), index=True)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("villages.id"))
    platform: Mapped[str | None] = mapped_column(String(20))
    # The member who receives the unit's dispatches and hands them on.
    leader_id: Mapped[int | None] = mapped_column(
        ForeignKey("volunteers.id", use_alter=True, name="fk_units_leader_id_volunteers")
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Volunteer(Base):
    __tablename__ = "volunteers"
    __table_args__ = (Index("ix_volunteers_lat_lon", "lat", "lon"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    phone: Mapped[str] = mapped_column(String(24), unique=True)
    township: Mapped[str] = mapped_column(ForeignKey("townships.name"), index=True)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("villages.id"), index=True)
    # Home coordinates: given at registration, else the village's, else the township's.
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    trade: Mapped[str | None] = mapped_column(ForeignKey("trades.code"))
    platform: Mapped[str | None] = mapped_column(String(20))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    max_open_orders: Mapped[int] = mapped_column(Integer, default=3)
    # How residents see them (issue 12); unset, their surname and 志愿者 (王志愿者).
    display_name: Mapped[str | None] = mapped_column(String(20))
    # ``active`` is membership (deactivated volunteers leave the pool for good);
    # ``paused`` is the volunteer's own "not now".
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    # A resident's own application (``pending`` until an admin approves or refuses it);
    # ``None`` for volunteers admins registered.
    application: Mapped[str | None] = mapped_column(String(10), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Counters recomputed from ``orders`` whenever one of the volunteer's orders moves, so
    # ranking reads one row per volunteer instead of aggregating their history.
    open_orders: Mapped[int] = mapped_column(Integer, default=0)
    completed_orders: Mapped[int] = mapped_column(Integer, default=0)
    on_time_orders: Mapped[int] = mapped_column(Integer, default=0)
    rated_orders: Mapped[int] = mapped_column(Integer, default=0)
    rating_points: Mapped[int] = mapped_column(Integer, default=0)

    skill_rows: Mapped[list[VolunteerSkill]] = relationship(
        cascade="all, delete-orphan", order_by="VolunteerSkill.code"
    )
    windows: Mapped[list[AvailabilityWindow]] = relationship(
        cascade="all, delete-orphan",
        order_by="(AvailabilityWindow.weekday, AvailabilityWindow.start_minute)",
    )

    @property
    def skills(self) -> list[str]:
        return [s.code for s in self.skill_rows]


class VolunteerSkill(Base):
    """A catalog category or item code a volunteer can serve; indexed for matching."""

    __tablename__ = "volunteer_skills"
    __table_args__ = (Index("ix_volunteer_skills_code_volunteer_id", "code", "volunteer_id"),)

    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), primary_key=True)
    code: Mapped[str] = mapped_column(String(60), primary_key=True)


class AvailabilityWindow(Base):
    """A weekly window (county local time) when the volunteer can take orders."""

    __tablename__ = "availability_windows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)  # 0 = Monday
    start_minute: Mapped[int] = mapped_column(Integer)
    end_minute: Mapped[int] = mapped_column(Integer)


class VolunteerTransfer(Base):
    """A move between teams or stations (关系转接); the volunteer's history stays theirs."""

    __tablename__ = "volunteer_transfers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), index=True)
    from_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    to_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)


class DispatchPolicyRow(Base):
    """Dispatch policy per category (``scope`` = its code) or county-wide (``scope`` = ``*``)."""

    __tablename__ = "dispatch_policies"

    scope: Mapped[str] = mapped_column(String(40), primary_key=True)
    policy: Mapped[str] = mapped_column(String(10))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# What the overview report reads of an order (see ``api/stores/overview.py``).
REPORT_COLUMNS = [
    "id",
    "category_code",
    "channel",
    "status",
    "volunteer_id",
    "unit_id",
    "dispatched_at",
    "accepted_at",
    "completed_at",
    "deadline_at",
    "overdue",
    "escalation_level",
    "review_rating",
    "rating",
    "hours",
    "checked_in_at",
    "checked_out_at",
    "follow_up_outcome",
    "follow_up_complaint",
]


def next_order_number(
    bind: Session | Connection, at: datetime, timezone: str = DEFAULT_COUNTY_TIMEZONE
) -> str:
    """The next number of ``at``'s month (``core.order_numbers``).

    One row per month counts its orders: the upsert holds its row lock until the order
    commits, so two orders never share a number. A number an insert then drops (a retried
    idempotency key) is spent: numbers need not run without gaps.
    """
    month = month_of(at, timezone)
    return compose(month, increment(bind, OrderNumberCounter.__table__, {"month": month}, "last"))


def _number_by_default(context: Any) -> str:
    # Rows written without a number (tools, fixtures): the next one of their month, in the
    # default county time; the API numbers its orders in the configured one.
    at = context.get_current_parameters().get("submitted_at") or utcnow()
    return next_order_number(context.connection, at)


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_status_submitted_at", "status", "submitted_at"),
        Index("ix_orders_number", "number", unique=True),
        Index("ix_orders_township_status", "township", "status"),
        Index("ix_orders_category_code_status", "category_code", "status"),
        Index("ix_orders_overdue_status", "overdue", "status"),
        # The reports' period filters (issue 14): the county's, and one township's. On
        # PostgreSQL they carry every column the overview reads, so a year's figures come
        # from an index-only scan instead of a million scattered (wide) rows.
        Index(
            "ix_orders_submitted_at",
            "submitted_at",
            postgresql_include=["township", *REPORT_COLUMNS],
        ),
        Index(
            "ix_orders_township_submitted_at",
            "township",
            "submitted_at",
            postgresql_include=REPORT_COLUMNS,
        ),
        # A volunteer's service record, month by month.
        Index("ix_orders_volunteer_id_completed_at", "volunteer_id", "completed_at"),
        # Only orders still waiting for their workflow: what the reconciler scans.
        Index(
            "ix_orders_unstarted",
            "submitted_at",
            postgresql_where=text("workflow_started_at IS NULL"),
            sqlite_where=text("workflow_started_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The only id that leaves the server (URLs, SMS links, pages): random, never guessable.
    public_id: Mapped[str] = mapped_column(String(24), unique=True, default=new_public_id)
    # What people read aloud and type (``core.order_numbers``): no secret, opens nothing.
    number: Mapped[str] = mapped_column(String(16), default=_number_by_default)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"), index=True)
    # web (the resident), hotline or walk_in (staff on the resident's behalf)
    channel: Mapped[str] = mapped_column(String(16), default="web")
    item_code: Mapped[str] = mapped_column(ForeignKey("catalog_items.code"))
    category_code: Mapped[str] = mapped_column(ForeignKey("categories.code"))
    township: Mapped[str] = mapped_column(ForeignKey("townships.name"))
    village_id: Mapped[int | None] = mapped_column(ForeignKey("villages.id"))
    # Personal data: only ever here, never in workflow inputs or messages.
    reason: Mapped[str] = mapped_column(Text)
    address: Mapped[str] = mapped_column(Text)
    resident_name: Mapped[str] = mapped_column(String(80))
    resident_phone: Mapped[str] = mapped_column(String(24))

    status: Mapped[str] = mapped_column(String(16), default="pending")
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    dispatch_policy: Mapped[str] = mapped_column(String(10), default="manual")
    dispatch_attempts: Mapped[int] = mapped_column(Integer, default=0)
    undispatchable: Mapped[bool] = mapped_column(Boolean, default=False)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # First dispatch (or open call) and first acceptance, projected from the event log so
    # the reports' times read one row per order.
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    review_rating: Mapped[str | None] = mapped_column(String(20))
    rating: Mapped[str | None] = mapped_column(String(20))
    hours: Mapped[float | None] = mapped_column(Numeric(6, 2, asdecimal=False))
    # Highest workflow transition applied; older snapshots never overwrite newer ones.
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    # Set once the order's workflow is known to exist; the API's reconciler starts the rest.
    workflow_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    request_hash: Mapped[str | None] = mapped_column(String(64))
    # The workflow ended outside the API (terminated, failed, timed out): admins must act.
    workflow_lost_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    workflow_lost_status: Mapped[str | None] = mapped_column(String(20))
    # The volunteer's arrival and leaving (issue 12): they propose the hours worked.
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The resident's 催办, for the admins watching slow orders.
    hurry_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_hurried_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How the review came in: the resident's own phone (online) or the volunteer's (on_site).
    review_channel: Mapped[str | None] = mapped_column(String(10))
    # The follow-up's outcome and the status of the complaint it opened, copied by triggers
    # on ``follow_ups`` and ``complaints`` (migration 0008): the reports read them here, from
    # one table, instead of joining a million follow-ups.
    follow_up_outcome: Mapped[str | None] = mapped_column(String(20))
    follow_up_complaint: Mapped[str | None] = mapped_column(String(20))
    # The resident's personal data was erased; statistics stay.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    events: Mapped[list[OrderEvent]] = relationship(
        back_populates="order", order_by="(OrderEvent.at, OrderEvent.seq)"
    )
    follow_up: Mapped[FollowUp | None] = relationship(back_populates="order", uselist=False)


class OrderOffer(Base):
    """Volunteers an order is currently offered to in an open call (抢单)."""

    __tablename__ = "order_offers"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(
        ForeignKey("volunteers.id"), primary_key=True, index=True
    )


class OrderNote(Base):
    """Free text a person wrote (reasons, comments, notes): kept out of workflow history."""

    __tablename__ = "order_notes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    body: Mapped[str] = mapped_column(Text)
    # Staff-only (decline reasons, call-center notes): the resident never reads these.
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OrderEvent(Base):
    """Append-only audit trail; ``(order_id, seq)`` makes each transition land once."""

    __tablename__ = "order_events"
    __table_args__ = (UniqueConstraint("order_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    seq: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(30), index=True)
    actor: Mapped[str] = mapped_column(String(60))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    volunteer_id: Mapped[int | None] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note_id: Mapped[str | None] = mapped_column(ForeignKey("order_notes.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    order: Mapped[Order] = relationship(back_populates="events")
    note: Mapped[OrderNote | None] = relationship()


class FollowUp(Base):
    """An order's follow-up (回访): automated calls first, then call-center staff.

    ``status`` is ``calling`` while the automated calls try, ``open`` once the task is in the
    staff queue (``queued_at``, ``queue_reason``, ``priority``: lower is more urgent) and
    ``done`` with the result. An agent's claim is a lease: it lapses at ``claim_expires_at``.
    """

    __tablename__ = "follow_ups"
    __table_args__ = (
        Index("ix_follow_ups_queue", "status", "priority", "queued_at"),
        # The reports join every order to its follow-up's result: index-only on PostgreSQL.
        Index("ix_follow_ups_order_result", "order_id", postgresql_include=["status", "outcome"]),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    method: Mapped[str | None] = mapped_column(String(20))
    outcome: Mapped[str | None] = mapped_column(String(20))
    rating: Mapped[str | None] = mapped_column(String(20))
    note_id: Mapped[str | None] = mapped_column(ForeignKey("order_notes.id"))
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    queue_reason: Mapped[str | None] = mapped_column(String(30))
    priority: Mapped[int] = mapped_column(Integer, default=3)
    # What the resident pressed on the last answered call (4 = dissatisfied reaches staff).
    call_rating: Mapped[str | None] = mapped_column(String(20))
    call_attempts: Mapped[int] = mapped_column(Integer, default=0)
    settled_by: Mapped[str | None] = mapped_column(String(20))
    agent_id: Mapped[int | None] = mapped_column(Integer)
    claimed_by: Mapped[int | None] = mapped_column(Integer)
    claim_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order: Mapped[Order] = relationship(back_populates="follow_up")
    note: Mapped[OrderNote | None] = relationship()
    calls: Mapped[list[FollowUpCall]] = relationship(order_by="FollowUpCall.attempt")


class FollowUpCall(Base):
    """One automated follow-up call, recorded as an intent before Twilio is asked to place it.

    ``(order_id, attempt)`` is the intent's unique key: an activity retry finds the row and
    never places the call twice. ``state`` is ``placing`` (intent committed, request under
    way), ``placed`` (Twilio answered with a ``call_sid``), ``retry`` (Twilio certainly did
    not create it; the next attempt asks again), ``refused`` (Twilio said no, so nothing
    rings) or ``ended`` (the workflow classified the ``outcome``).
    """

    __tablename__ = "follow_up_calls"
    __table_args__ = (UniqueConstraint("order_id", "attempt"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    follow_up_id: Mapped[int] = mapped_column(ForeignKey("follow_ups.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(10))
    call_sid: Mapped[str | None] = mapped_column(String(40), unique=True)
    to_number: Mapped[str] = mapped_column(String(24))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    placed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    call_status: Mapped[str | None] = mapped_column(String(20))
    answered_by: Mapped[str | None] = mapped_column(String(30))
    digits: Mapped[str | None] = mapped_column(String(10))
    outcome: Mapped[str | None] = mapped_column(String(20))
    # The resident's own rating the call asks them to confirm (None: it asks for a rating).
    confirm_rating: Mapped[str | None] = mapped_column(String(20))
    error_code: Mapped[int | None] = mapped_column(Integer)


class SmsMessage(Base):
    """One SMS, recorded as an intent under ``key`` before Twilio is asked to send it."""

    __tablename__ = "sms_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    notice: Mapped[str] = mapped_column(String(30))
    recipient_kind: Mapped[str] = mapped_column(String(20))
    recipient_id: Mapped[int | None] = mapped_column(Integer)
    to_number: Mapped[str] = mapped_column(String(24))
    body: Mapped[str] = mapped_column(Text)
    # sending (intent committed) → sent (message_sid known) | refused (Twilio said no) |
    # retry (Twilio certainly did not take it; the next attempt sends it).
    state: Mapped[str] = mapped_column(String(10))
    message_sid: Mapped[str | None] = mapped_column(String(40), unique=True)
    # Twilio's delivery status from the status callback: queued, sent, delivered, undelivered…
    delivery_status: Mapped[str | None] = mapped_column(String(20))
    error_code: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Complaint(Base):
    """A complaint (a follow-up recorded it, or the resident made it) until it is resolved."""

    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    # None for a complaint the resident made themself, outside any follow-up.
    follow_up_id: Mapped[int | None] = mapped_column(ForeignKey("follow_ups.id"), unique=True)
    source: Mapped[str] = mapped_column(String(10), default="follow_up", server_default="follow_up")
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note_id: Mapped[str | None] = mapped_column(ForeignKey("order_notes.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[int | None] = mapped_column(Integer)
    resolution_note_id: Mapped[str | None] = mapped_column(ForeignKey("order_notes.id"))


class Photo(Base):
    """A photo the volunteer took of the work, re-encoded without its metadata (issue 12).

    The bytes live in the media store (a folder, or S3-compatible storage) under ``key``.
    """

    __tablename__ = "photos"

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"))
    content_type: Mapped[str] = mapped_column(String(20))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Named in the completion report (``complete``'s ``photo_ids``).
    attached: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class Escalation(Base):
    __tablename__ = "escalations"
    __table_args__ = (UniqueConstraint("order_id", "level"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Resident(Base):
    """Someone who signed in with an SMS code, or for whom staff ordered help: a phone."""

    __tablename__ = "residents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # E.164; after erasure, a placeholder that matches no real number.
    phone: Mapped[str] = mapped_column(String(24), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StaffAccount(Base):
    """Center staff: an admin (the county, or ``townships``) or a call-center agent."""

    __tablename__ = "staff_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(10))
    # ``None``: the whole county.
    townships: Mapped[list[str] | None] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class OrderNumberCounter(Base):
    """How many orders a month (``YYMM``, county time) has numbered: the next takes one more."""

    __tablename__ = "order_number_counters"

    month: Mapped[str] = mapped_column(String(4), primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class LoginFailure(Base):
    """Wrong passwords in a row for one staff account from one source (an IPv4 address or
    an IPv6 /64), and until when that source is locked out of it. Keyed by both, so a flood
    from one place locks that place out, not the account's owner signing in from theirs."""

    __tablename__ = "login_failures"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_accounts.id"), primary_key=True)
    source: Mapped[str] = mapped_column(String(48), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_failed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RefreshToken(Base):
    """A refresh token's hash. Each use rotates it; reusing a rotated one revokes its family."""

    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family: Mapped[str] = mapped_column(String(32), index=True)
    subject: Mapped[str] = mapped_column(String(40), index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SmsCode(Base):
    """A sign-in code sent by SMS: hashed, short-lived, single use, few tries."""

    __tablename__ = "sms_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phone: Mapped[str] = mapped_column(String(24), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """Who read a resident's contact or changed what, when, from where. Append-only.

    Ids and codes only: the entry names the order or account, never the personal data.
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(40), index=True)
    action: Mapped[str] = mapped_column(String(40), index=True)
    target: Mapped[str] = mapped_column(String(80))
    ip: Mapped[str | None] = mapped_column(String(45))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class HonourRoll(Base):
    """A period's honour roll (评先选优): ranked volunteers and units, stored once.

    ``period`` is ``2026-03`` (a month) or ``2026`` (a year); the ranking is computed once
    and never rewritten, so running a period again changes nothing. Admins publish it.
    """

    __tablename__ = "honour_rolls"

    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    weights: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Ids, figures and ranks only: names are read when the roll is shown.
    volunteers: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    units: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by: Mapped[int | None] = mapped_column(Integer)


class InboundSms(Base):
    """An SMS someone sent us, by Twilio's ``MessageSid``: applied once however often Twilio
    delivers it, and answered the same way each time. The text itself is not kept (a
    decline's reason goes to the order's notes as the app's does); the answer names orders
    by number and service only."""

    __tablename__ = "inbound_sms"
    __table_args__ = (Index("ix_inbound_sms_sender_received", "sender", "received_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_sid: Mapped[str] = mapped_column(String(40), unique=True)
    # ``volunteer:<id>``, ``resident:<id>``, or ``unknown:<digest>`` of a number we do not
    # know (so one polite answer a day goes to it, and its number is kept nowhere).
    sender: Mapped[str] = mapped_column(String(60))
    # What the reply did, as a stable code (accepted, declined, ambiguous, unknown, …).
    outcome: Mapped[str | None] = mapped_column(String(30))
    answer: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SmsOptOut(Base):
    """A number that replied 退订/STOP: no notices go to it until it replies 订阅/START.
    Sign-in codes still go (the person asked for them on the page)."""

    __tablename__ = "sms_opt_outs"

    phone: Mapped[str] = mapped_column(String(24), primary_key=True)
    opted_out_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CallRequest(Base):
    """A caller the center's number could not serve by keypad alone, for an agent to call
    back: one who pressed 0 (``callback``), or one who said their address and need after the
    tone (``intake``: the agent transcribes it into an order and confirms it by calling
    back). The recording is personal data: fetched from Twilio only to be played to the
    agent holding the task, and deleted there once the task is done; never in Temporal.
    An agent's claim is a lease, as on follow-ups."""

    __tablename__ = "call_requests"
    __table_args__ = (
        UniqueConstraint("call_sid", "kind"),
        Index("ix_call_requests_queue", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    call_sid: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str] = mapped_column(String(24))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))
    # What they picked on the keypad before speaking (9 "other": none).
    item_code: Mapped[str | None] = mapped_column(ForeignKey("catalog_items.code"))
    recording_sid: Mapped[str | None] = mapped_column(String(40))
    recording_seconds: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="open")
    claimed_by: Mapped[int | None] = mapped_column(Integer)
    claim_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by: Mapped[int | None] = mapped_column(Integer)
    # The order the agent took for them, if any (else ``outcome`` says why not).
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    outcome: Mapped[str | None] = mapped_column(String(20))
