"""The dispatch registry: places, units, trades, richer volunteers, policies, open calls.

Adds villages/communities and township coordinates, practice institutes/stations and
volunteer teams with leaders, the trades (行业) and which categories they suit, volunteers'
village, coordinates, trade, platform, unit, capacity, pause flag, weekly availability,
indexed skills (moved out of the JSON list) and ranking counters, dispatch policies, and
the orders' dispatch columns. Seed data (trades, platforms, approximate township centres
and a few villages of the demo county) is written out here so the migration never changes.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRADES: tuple[tuple[str, str, str], ...] = (
    ("government", "党政机关", "Government and party offices"),
    ("education", "教育", "Education"),
    ("medicine", "医疗卫生", "Medicine and health care"),
    ("agriculture", "农业农村", "Agriculture"),
    ("law", "政法", "Law and justice"),
    ("culture", "文化艺术", "Culture and arts"),
    ("sports", "体育", "Sports"),
    ("science", "科技", "Science and technology"),
    ("emergency", "应急消防", "Emergency services and fire"),
    ("social_work", "社会工作", "Social work"),
    ("environment", "生态环保", "Ecology and environment"),
    ("services", "商贸服务", "Trade and services"),
    ("construction", "建筑水电", "Building, plumbing and electrics"),
    ("student", "学生", "Students"),
    ("retired", "离退休", "Retired"),
    ("other", "其他", "Other"),
)

# category → (platform, close trades)
CATEGORY_MATCHING: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "theory": ("theory", ("government", "education", "retired")),
    "civility": ("theory", ("government", "law", "retired")),
    "education": ("education", ("education", "student", "retired")),
    "science": ("science", ("science", "education", "medicine")),
    "agritech": ("science", ("agriculture", "science")),
    "culture": ("culture", ("culture", "education")),
    "fitness": ("fitness", ("sports", "medicine")),
    "environment": ("science", ("environment", "government", "medicine")),
    "health": ("science", ("medicine",)),
    "care": ("education", ("social_work", "medicine", "retired")),
    "legal": ("theory", ("law", "government")),
    "rescue": (None, ("emergency", "medicine")),
    "neighbourhood": (None, ("services", "construction", "social_work")),
}

# Approximate centres for the demo (degrees); a deployment replaces them with surveyed ones.
TOWNSHIP_CENTRES: dict[str, tuple[float, float]] = {
    "蓼皋街道": (28.155, 109.202),
    "九江街道": (28.170, 109.190),
    "大兴街道": (28.190, 109.180),
    "世昌街道": (28.145, 109.215),
    "太平营街道": (28.120, 109.230),
    "盘信镇": (28.040, 109.040),
    "大坪场镇": (28.250, 109.300),
    "普觉镇": (28.330, 109.120),
    "寨英镇": (27.980, 108.980),
    "孟溪镇": (28.000, 109.120),
    "乌罗镇": (28.060, 108.900),
    "甘龙镇": (28.100, 109.050),
    "长兴堡镇": (28.220, 109.080),
    "迓驾镇": (28.300, 109.230),
    "牛郎镇": (28.020, 109.270),
    "黄板镇": (28.260, 109.120),
    "盘石镇": (28.350, 109.260),
    "正大镇": (28.070, 109.150),
    "平头乡": (28.380, 109.180),
    "大路乡": (27.950, 109.060),
    "木树乡": (28.120, 108.960),
    "冷水溪乡": (28.180, 108.990),
    "石梁乡": (28.290, 109.020),
    "瓦溪乡": (28.200, 109.370),
    "永安乡": (28.400, 109.330),
    "长坪乡": (28.430, 109.220),
}

# A few villages and communities per seat township, for demos and first registrations.
VILLAGES: tuple[tuple[str, str, str, float, float], ...] = (
    ("蓼皋街道", "城南社区", "community", 28.150, 109.205),
    ("蓼皋街道", "城北社区", "community", 28.162, 109.199),
    ("蓼皋街道", "滨江社区", "community", 28.156, 109.212),
    ("九江街道", "九江社区", "community", 28.171, 109.188),
    ("九江街道", "清水村", "village", 28.182, 109.176),
    ("大兴街道", "大兴社区", "community", 28.191, 109.181),
    ("大兴街道", "高新村", "village", 28.205, 109.172),
    ("盘信镇", "盘信村", "village", 28.041, 109.042),
    ("盘信镇", "民族村", "village", 28.030, 109.055),
    ("孟溪镇", "孟溪村", "village", 28.002, 109.118),
    ("孟溪镇", "龙塘村", "village", 27.990, 109.135),
    ("寨英镇", "寨英村", "village", 27.981, 108.982),
)


def upgrade() -> None:
    op.create_table(
        "trades",
        sa.Column("code", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("name_en", sa.String(length=80), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_trades")),
    )
    op.create_table(
        "category_trades",
        sa.Column("category_code", sa.String(length=40), nullable=False),
        sa.Column("trade_code", sa.String(length=30), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_code"],
            ["categories.code"],
            name=op.f("fk_category_trades_category_code_categories"),
        ),
        sa.ForeignKeyConstraint(
            ["trade_code"], ["trades.code"], name=op.f("fk_category_trades_trade_code_trades")
        ),
        sa.PrimaryKeyConstraint("category_code", "trade_code", name=op.f("pk_category_trades")),
    )
    with op.batch_alter_table("categories") as batch:
        batch.add_column(sa.Column("platform", sa.String(length=20), nullable=True))
    with op.batch_alter_table("townships") as batch:
        batch.add_column(sa.Column("lat", sa.Float(), nullable=True))
        batch.add_column(sa.Column("lon", sa.Float(), nullable=True))

    op.create_table(
        "villages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("township", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["township"], ["townships.name"], name=op.f("fk_villages_township_townships")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_villages")),
        sa.UniqueConstraint("township", "name", name=op.f("uq_villages_township_name")),
    )
    op.create_index(op.f("ix_villages_township"), "villages", ["township"])

    # The leader's foreign key is added after the volunteers' columns: the two tables
    # refer to each other.
    op.create_table(
        "units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("township", sa.String(length=64), nullable=False),
        sa.Column("village_id", sa.Integer(), nullable=True),
        sa.Column("platform", sa.String(length=20), nullable=True),
        sa.Column("leader_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["township"], ["townships.name"], name=op.f("fk_units_township_townships")
        ),
        sa.ForeignKeyConstraint(
            ["village_id"], ["villages.id"], name=op.f("fk_units_village_id_villages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_units")),
        sa.UniqueConstraint("kind", "name", name=op.f("uq_units_kind_name")),
    )
    op.create_index(op.f("ix_units_township"), "units", ["township"])

    with op.batch_alter_table("volunteers") as batch:
        batch.add_column(sa.Column("village_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("lat", sa.Float(), nullable=True))
        batch.add_column(sa.Column("lon", sa.Float(), nullable=True))
        batch.add_column(sa.Column("trade", sa.String(length=30), nullable=True))
        batch.add_column(sa.Column("platform", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("unit_id", sa.Integer(), nullable=True))
        for name, default in (("max_open_orders", "3"),):
            batch.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default=default))
        batch.add_column(
            sa.Column("paused", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        for name in (
            "open_orders",
            "completed_orders",
            "on_time_orders",
            "rated_orders",
            "rating_points",
        ):
            batch.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
        batch.create_foreign_key(
            op.f("fk_volunteers_village_id_villages"), "villages", ["village_id"], ["id"]
        )
        batch.create_foreign_key(op.f("fk_volunteers_trade_trades"), "trades", ["trade"], ["code"])
        batch.create_foreign_key(op.f("fk_volunteers_unit_id_units"), "units", ["unit_id"], ["id"])
        batch.create_index(op.f("ix_volunteers_village_id"), ["village_id"])
        batch.create_index(op.f("ix_volunteers_unit_id"), ["unit_id"])
        batch.create_index("ix_volunteers_lat_lon", ["lat", "lon"])
    with op.batch_alter_table("units") as batch:
        batch.create_foreign_key(
            "fk_units_leader_id_volunteers", "volunteers", ["leader_id"], ["id"]
        )

    op.create_table(
        "volunteer_skills",
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name=op.f("fk_volunteer_skills_volunteer_id_volunteers"),
        ),
        sa.PrimaryKeyConstraint("volunteer_id", "code", name=op.f("pk_volunteer_skills")),
    )
    op.create_index(
        "ix_volunteer_skills_code_volunteer_id", "volunteer_skills", ["code", "volunteer_id"]
    )
    op.create_table(
        "availability_windows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("start_minute", sa.Integer(), nullable=False),
        sa.Column("end_minute", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name=op.f("fk_availability_windows_volunteer_id_volunteers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_availability_windows")),
    )
    op.create_index(
        op.f("ix_availability_windows_volunteer_id"), "availability_windows", ["volunteer_id"]
    )
    op.create_table(
        "volunteer_transfers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("from_unit_id", sa.Integer(), nullable=True),
        sa.Column("to_unit_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name=op.f("fk_volunteer_transfers_volunteer_id_volunteers"),
        ),
        sa.ForeignKeyConstraint(
            ["from_unit_id"], ["units.id"], name=op.f("fk_volunteer_transfers_from_unit_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["to_unit_id"], ["units.id"], name=op.f("fk_volunteer_transfers_to_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer_transfers")),
    )
    op.create_index(
        op.f("ix_volunteer_transfers_volunteer_id"), "volunteer_transfers", ["volunteer_id"]
    )
    op.create_table(
        "dispatch_policies",
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("policy", sa.String(length=10), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_dispatch_policies")),
    )

    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("village_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("unit_id", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column(
                "dispatch_policy", sa.String(length=10), nullable=False, server_default="manual"
            )
        )
        batch.add_column(
            sa.Column("dispatch_attempts", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("undispatchable", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.create_foreign_key(
            op.f("fk_orders_village_id_villages"), "villages", ["village_id"], ["id"]
        )
        batch.create_foreign_key(op.f("fk_orders_unit_id_units"), "units", ["unit_id"], ["id"])
        batch.create_index(op.f("ix_orders_unit_id"), ["unit_id"])
    op.create_table(
        "order_offers",
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_offers_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name=op.f("fk_order_offers_volunteer_id_volunteers"),
        ),
        sa.PrimaryKeyConstraint("order_id", "volunteer_id", name=op.f("pk_order_offers")),
    )
    op.create_index(op.f("ix_order_offers_volunteer_id"), "order_offers", ["volunteer_id"])

    _move_skills_out_of_json()
    _seed()


def _move_skills_out_of_json() -> None:
    bind = op.get_bind()
    volunteers = sa.table("volunteers", sa.column("id", sa.Integer), sa.column("skills", sa.JSON))
    skills = sa.table(
        "volunteer_skills", sa.column("volunteer_id", sa.Integer), sa.column("code", sa.String)
    )
    rows = [
        {"volunteer_id": vid, "code": code}
        for vid, codes in bind.execute(sa.select(volunteers.c.id, volunteers.c.skills))
        for code in sorted(set(codes or []))
    ]
    if rows:
        op.bulk_insert(skills, rows)
    with op.batch_alter_table("volunteers") as batch:
        batch.drop_column("skills")


def _seed() -> None:
    trades = sa.table(
        "trades",
        sa.column("code", sa.String),
        sa.column("name", sa.String),
        sa.column("name_en", sa.String),
        sa.column("position", sa.Integer),
    )
    op.bulk_insert(
        trades,
        [{"code": c, "name": n, "name_en": e, "position": i} for i, (c, n, e) in enumerate(TRADES)],
    )
    category_trades = sa.table(
        "category_trades", sa.column("category_code", sa.String), sa.column("trade_code", sa.String)
    )
    categories = sa.table("categories", sa.column("code", sa.String), sa.column("platform"))
    known = set(op.get_bind().scalars(sa.select(categories.c.code)))
    for code, (platform, close) in CATEGORY_MATCHING.items():
        if code not in known:  # a deployment may have edited its menu
            continue
        op.execute(categories.update().where(categories.c.code == code).values(platform=platform))
        op.bulk_insert(category_trades, [{"category_code": code, "trade_code": t} for t in close])
    townships = sa.table(
        "townships", sa.column("name", sa.String), sa.column("lat"), sa.column("lon")
    )
    present = set(op.get_bind().scalars(sa.select(townships.c.name)))
    for name, (lat, lon) in TOWNSHIP_CENTRES.items():
        if name in present:
            op.execute(townships.update().where(townships.c.name == name).values(lat=lat, lon=lon))
    villages = sa.table(
        "villages",
        sa.column("township", sa.String),
        sa.column("name", sa.String),
        sa.column("kind", sa.String),
        sa.column("lat"),
        sa.column("lon"),
    )
    op.bulk_insert(
        villages,
        [
            {"township": t, "name": n, "kind": k, "lat": la, "lon": lo}
            for t, n, k, la, lo in VILLAGES
            if t in present
        ],
    )
    policies = sa.table(
        "dispatch_policies",
        sa.column("scope", sa.String),
        sa.column("policy", sa.String),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    op.execute(policies.insert().values(scope="*", policy="manual", updated_at=sa.func.now()))


def downgrade() -> None:
    op.drop_table("order_offers")
    with op.batch_alter_table("orders") as batch:
        batch.drop_index(op.f("ix_orders_unit_id"))
        batch.drop_constraint(op.f("fk_orders_unit_id_units"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_orders_village_id_villages"), type_="foreignkey")
        for name in ("undispatchable", "dispatch_attempts", "dispatch_policy", "unit_id"):
            batch.drop_column(name)
        batch.drop_column("village_id")
    op.drop_table("dispatch_policies")
    op.drop_table("volunteer_transfers")
    op.drop_table("availability_windows")
    with op.batch_alter_table("volunteers") as batch:
        batch.add_column(sa.Column("skills", sa.JSON(), nullable=False, server_default="[]"))
    bind = op.get_bind()
    skills: dict[int, list[str]] = {}
    for vid, code in bind.execute(sa.text("SELECT volunteer_id, code FROM volunteer_skills")):
        skills.setdefault(vid, []).append(code)
    volunteers = sa.table("volunteers", sa.column("id", sa.Integer), sa.column("skills", sa.JSON))
    for vid, codes in skills.items():
        op.execute(volunteers.update().where(volunteers.c.id == vid).values(skills=sorted(codes)))
    op.drop_table("volunteer_skills")
    with op.batch_alter_table("units") as batch:
        batch.drop_constraint("fk_units_leader_id_volunteers", type_="foreignkey")
    with op.batch_alter_table("volunteers") as batch:
        batch.drop_index("ix_volunteers_lat_lon")
        batch.drop_index(op.f("ix_volunteers_unit_id"))
        batch.drop_index(op.f("ix_volunteers_village_id"))
        batch.drop_constraint(op.f("fk_volunteers_unit_id_units"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_volunteers_trade_trades"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_volunteers_village_id_villages"), type_="foreignkey")
        for name in (
            "rating_points",
            "rated_orders",
            "on_time_orders",
            "completed_orders",
            "open_orders",
            "paused",
            "max_open_orders",
            "unit_id",
            "platform",
            "trade",
            "lon",
            "lat",
            "village_id",
        ):
            batch.drop_column(name)
    op.drop_table("units")
    op.drop_table("villages")
    with op.batch_alter_table("townships") as batch:
        batch.drop_column("lon")
        batch.drop_column("lat")
    with op.batch_alter_table("categories") as batch:
        batch.drop_column("platform")
    op.drop_table("category_trades")
    op.drop_table("trades")
