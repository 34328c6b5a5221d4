"""What the exports hold: the overview's figures and the order list, with Chinese headers.

The order list carries the resident's name, phone and address only when an admin asks for
them (``personal``); the admin's scope already limits the orders to their townships, and
each such export is written to the audit log.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.exports import Cell, Sheet
from api.schemas import reports as out
from api.stores import audit
from api.stores.order_lists import OrderFilter, chosen
from api.stores.overview import Filters, cohort
from api.web.vocabulary import STATUS
from core.models import Category, FollowUp, Order
from core.security import Principal

# The most rows one order export holds: a province's year is a job, not a request.
MAX_ORDER_ROWS = 200_000

RATING = {
    "very_satisfied": "非常满意",
    "satisfied": "满意",
    "average": "一般",
    "dissatisfied": "不满意",
}
OUTCOME = {
    "confirmed": "核实无误",
    "rating_corrected": "更正评价",
    "complaint": "投诉",
    "unreachable": "未联系上",
}
CHANNEL = {"web": "网上点单", "hotline": "电话", "walk_in": "到站"}

FIGURES: list[tuple[str, str]] = [
    ("received", "受理订单"),
    ("dispatched", "已派单"),
    ("accepted", "已接单"),
    ("completed", "已完成服务"),
    ("completed_on_time", "72小时内办结"),
    ("on_time_rate", "按时办结率"),
    ("overdue", "超时"),
    ("escalated", "督办"),
    ("cancelled", "取消"),
    ("open", "办理中"),
    ("follow_ups_done", "已回访"),
    ("reached", "回访联系上"),
    ("unreachable", "回访未联系上"),
    ("follow_up_rate", "回访率"),
    ("corrections", "回访更正评价"),
    ("complaints_opened", "投诉"),
    ("complaints_resolved", "投诉已处理"),
    ("active_volunteers", "参与志愿者"),
    ("verified_hours", "核实服务时长(小时)"),
]
BREAKDOWN_HEADERS = [
    "受理订单",
    "已完成服务",
    "72小时内办结",
    "按时办结率",
    "超时",
    "督办",
    "核实服务时长(小时)",
]


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def _hours(value: float | None) -> float | str:
    return "" if value is None else round(value, 1)


def overview_sheets(report: out.Overview) -> list[Sheet]:
    data = report.model_dump()
    rows: list[list[Cell]] = []
    for key, label in FIGURES:
        value = data[key]
        rows.append([label, _percent(value) if key.endswith("rate") else value])
    for key, label in (
        ("time_to_dispatch", "派单用时"),
        ("time_to_accept", "接单用时"),
        ("time_to_complete", "办结用时"),
    ):
        durations = data[key]
        rows.append([f"{label}中位数(小时)", _hours(durations["median"])])
        rows.append([f"{label}90分位(小时)", _hours(durations["p90"])])
    for key, label in (("ratings_reviewed", "群众评价"), ("ratings_verified", "回访核实评价")):
        for grade, count in data[key].items():
            rows.append([f"{label}：{RATING[grade]}", count])

    def breakdown(items: list[out.Breakdown]) -> list[list[Cell]]:
        return [
            [
                b.key,
                b.received,
                b.completed,
                b.completed_on_time,
                _percent(b.on_time_rate),
                b.overdue,
                b.escalated,
                b.verified_hours,
            ]
            for b in items
        ]

    return [
        Sheet("总览", ["指标", "数值"], rows),
        Sheet("按乡镇", ["乡镇", *BREAKDOWN_HEADERS], breakdown(report.by_township)),
        Sheet("按类别", ["服务类别", *BREAKDOWN_HEADERS], breakdown(report.by_category)),
        Sheet(
            "趋势",
            ["起始日期", "受理订单", "已完成服务", "72小时内办结", "超时"],
            [
                [p.start, p.received, p.completed, p.completed_on_time, p.overdue]
                for p in report.series
            ],
        ),
    ]


ORDER_HEADERS = [
    "订单号",
    "受理时间",
    "乡镇",
    "服务类别",
    "渠道",
    "状态",
    "派单时间",
    "接单时间",
    "办结时间",
    "72小时内办结",
    "超时",
    "督办级别",
    "群众评价",
    "回访结果",
    "回访后评价",
    "服务时长(小时)",
    # The id in the order's page address (/console/orders/<id>).
    "页面编号",
]
PERSONAL_HEADERS = ["姓名", "电话", "地址", "申请事由"]


def order_sheet(
    session: Session,
    f: Filters,
    *,
    personal: bool,
    actor: Principal,
    ip: str | None,
    listed: OrderFilter | None = None,
    country_code: str = "86",
) -> Sheet:
    """The orders of the period, one row each; ``listed``: only those the console's order list
    shows under the same filter and search (a search by phone or name is audited as there)."""
    zone = ZoneInfo(f.timezone)

    def when(value: datetime | None) -> str:
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else ""

    columns = [
        Order.number,
        Order.submitted_at,
        Order.township,
        Category.name,
        Order.channel,
        Order.status,
        Order.dispatched_at,
        Order.accepted_at,
        Order.completed_at,
        Order.deadline_at,
        Order.overdue,
        Order.escalation_level,
        Order.review_rating,
        FollowUp.outcome,
        Order.rating,
        Order.hours,
        Order.public_id,
    ]
    if personal:
        columns += [Order.resident_name, Order.resident_phone, Order.address, Order.reason]
    rows: list[list[Cell]] = []
    result = session.execute(
        select(*columns)
        .join(Category, Category.code == Order.category_code)
        .outerjoin(FollowUp, FollowUp.order_id == Order.id)
        .where(*cohort(session, f))
        .where(
            *chosen(session, listed, viewer=actor, ip=ip, country_code=country_code)
            if listed is not None
            else ()
        )
        .order_by(Order.submitted_at, Order.id)
        .limit(MAX_ORDER_ROWS)
    )
    for r in result:
        on_time = r.completed_at is not None and r.completed_at <= r.deadline_at
        row: list[Cell] = [
            r.number,
            when(r.submitted_at),
            r.township,
            r.name,
            CHANNEL.get(r.channel, r.channel),
            STATUS.get(r.status, r.status),
            when(r.dispatched_at),
            when(r.accepted_at),
            when(r.completed_at),
            ("是" if on_time else "否") if r.completed_at else "",
            "是" if r.overdue else "否",
            r.escalation_level,
            RATING.get(r.review_rating or "", ""),
            OUTCOME.get(r.outcome or "", ""),
            RATING.get(r.rating or "", "") if r.outcome else "",
            r.hours,
            r.public_id,
        ]
        if personal:
            row += [r.resident_name, r.resident_phone, r.address, r.reason]
        rows.append(row)
    if personal:
        audit.record(
            session,
            actor,
            "orders.export_personal",
            "orders",
            ip=ip,
            rows=len(rows),
            **{k: str(v) for k, v in f.named().items()},
        )
    headers = ORDER_HEADERS + (PERSONAL_HEADERS if personal else [])
    return Sheet("订单清单", headers, rows)
