"""What an operator sees of a lifecycle: metrics, one trace per command, JSON logs.

After a whole loop over HTTP, the API's ``/metrics`` counts the requests by route template
and the ``fourorders_`` figures moved by exactly what the loop did, and the worker's endpoint
(the Temporal SDK's) counts the activities the workflow's history shows. With tracing on,
one command is one trace from the HTTP request through the update and its activity to the
database. Every log line is a JSON object, and none names the person who asked for help or
carries the code of an SMS link or a sign-in code, uvicorn's access log included.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import secrets
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy import Engine
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from api.database import Database
from api.main import create_app
from core.db import make_engine
from core.logs import configure_logging
from core.settings import Settings
from core.temporal import connect, metrics_runtime
from core.tracing import Tracing
from scripts.test_env import free_port
from tests.conftest import served
from tests.integration.conftest import app_client
from tests.integration.test_http_lifecycle import (
    finish,
    ok,
    order_placed,
    register,
    submission,
    wait_for_follow_up,
)
from tests.integration.test_privacy import leaks, text_everywhere
from tests.phones import with_twilio
from tests.polling import eventually
from tests.signin import Caller, People
from twilio_sim import SimControl, ThreadedServer
from worker import build_worker
from workflows.order import workflow_id

# Seeded through a whole loop; no log line or span may contain any of them.
NAME = "观测测试员丙"
PHONE = "13812347777"
ADDRESS = "观测路十一号院二单元"
REASON = "只该办理的人知道的观测事由"
NOTE = "观测回访里的私密话"
SECRETS = (NAME, PHONE, PHONE[-8:], ADDRESS, REASON, NOTE)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The figures fresh at every scrape (15 s in production), the worker's metrics on a port.
    return settings.model_copy(
        update={"metrics_refresh": timedelta(0), "worker_metrics_port": free_port()}
    )


@pytest.fixture
async def metered_worker(live_settings: Settings, engine: Engine) -> AsyncIterator[str]:
    """A worker on a client whose runtime serves the SDK's metrics; their URL."""
    client = await connect(live_settings, runtime=metrics_runtime(live_settings))
    with ThreadPoolExecutor(max_workers=live_settings.worker_max_concurrent_activities) as pool:
        async with build_worker(client, engine, live_settings, executor=pool):
            yield f"http://127.0.0.1:{live_settings.worker_metrics_port}/metrics"


Labels = dict[str, str]


def value(text: str, name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels`` (0 when none)."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and labels.items() <= sample.labels.items():
                total += sample.value
    return total


async def scrape(client: httpx.AsyncClient, url: str = "/metrics") -> str:
    r = await client.get(url)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return r.text


async def test_metrics_after_a_lifecycle(
    metered_worker: str,
    people: People,
    api_only: httpx.AsyncClient,
    township: str,
    temporal: Client,
    live_settings: Settings,
) -> None:
    before = await scrape(api_only)
    admin = await people.admin()
    volunteer_id = await register(admin, township)
    order_id = await order_placed(people, township)
    waiting = await order_placed(people, township)  # stays pending
    await ok(
        await admin.post(f"/api/orders/{order_id}/dispatch", json={"volunteer_id": volunteer_id})
    )
    await finish(people, order_id, volunteer_id)
    after = await scrape(api_only)

    # Requests by route template, never by an order's id.
    accept = {"handler": "/api/orders/{order_id}/accept", "method": "POST"}
    assert value(after, "http_requests_total", status="2xx", **accept) == 1
    assert value(after, "http_request_duration_seconds_count", **accept) == 1
    assert value(after, "http_requests_total", handler="/api/orders", method="POST") == 2
    assert order_id not in after and waiting not in after

    # The loop's figures: this township's open order, and what the loop added to the totals.
    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert value(after, "fourorders_orders_open", status="pending", township=township) == 1
    assert value(after, "fourorders_orders_open", township=township) == 1  # the other closed
    assert moved("fourorders_follow_ups_total", outcome="confirmed") == 1
    assert moved("fourorders_orders_completed_total") == 1
    assert moved("fourorders_orders_completed_on_time_total") == 1
    assert moved("fourorders_sla_breaches_total") == 0
    assert value(after, "fourorders_read_model_up") == 1
    for series in ("fourorders_follow_up_queue_depth", "fourorders_projection_lagging_orders"):
        assert f"\n{series} " in after, series

    # The worker's own endpoint: one local record_transition per transition in the history
    # (each a marker), and no activity on the task queue.
    history = await temporal.get_workflow_handle(
        workflow_id(await people.db.run(_internal_id, order_id))
    ).fetch_history()
    assert not any(
        e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED for e in history.events
    )
    projected = sum(
        e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
        and e.marker_recorded_event_attributes.marker_name == "core_local_activity"
        for e in history.events
    )
    assert projected >= 6  # dispatched, accepted, completed, reviewed, follow-up, closed
    queue = {"task_queue": live_settings.temporal_task_queue}
    async with httpx.AsyncClient() as client:

        async def worker_text() -> str:
            return await scrape(client, metered_worker)

        # The runtime exports on its own clock: wait until it has counted the loop's work
        # (the waiting order, dispatched by hand, has run no activity).

        def counted(t: str) -> bool:
            done = value(t, "temporal_workflow_completed_total", **queue)
            return (
                done >= 1
                and value(
                    t,
                    "temporal_local_activity_execution_latency_count",
                    activity_type="record_transition",
                    **queue,
                )
                >= projected
            )

        text = await eventually(
            worker_text, counted, what="the worker counting the loop's activities and workflow"
        )
    assert (
        value(
            text,
            "temporal_local_activity_execution_latency_count",
            activity_type="record_transition",
            **queue,
        )
        == projected
    )
    assert value(text, "temporal_local_activity_execution_failed_total", **queue) == 0
    assert value(text, "temporal_workflow_task_execution_latency_count", **queue) > 0
    assert value(text, "temporal_workflow_completed_total", **queue) == 1


def _internal_id(session: Any, public_id: str) -> int:
    from sqlalchemy import select

    from core.models import Order

    return int(session.scalar(select(Order.id).where(Order.public_id == public_id)))


@pytest.fixture
def spans() -> Iterator[tuple[Tracing, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    tracing = Tracing(exporter, service="four-orders-test", batch=False)
    yield tracing, exporter
    tracing.shutdown()


@pytest.fixture
async def traced(
    spans: tuple[Tracing, InMemorySpanExporter],
    live_settings: Settings,
    database_url: str,
    temporal: Client,
    database: Database,
) -> AsyncIterator[People]:
    """The API and a worker, both traced into ``spans``; callers on that API."""
    tracing, _ = spans
    engine = make_engine(database_url)
    tracing.instrument_engine(engine)
    try:
        with ThreadPoolExecutor(max_workers=live_settings.worker_max_concurrent_activities) as pool:
            async with (
                build_worker(
                    temporal,
                    engine,
                    live_settings,
                    executor=pool,
                    interceptors=tracing.interceptors(),
                ),
                app_client(live_settings, tracing=tracing) as client,
            ):
                yield People(client, database, live_settings)
    finally:
        engine.dispose()


def ancestors(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[str]:
    names = []
    parent = span.parent
    while parent is not None and parent.span_id in by_id:
        names.append(by_id[parent.span_id].name)
        parent = by_id[parent.span_id].parent
    return names


async def test_one_command_is_one_connected_trace(
    spans: tuple[Tracing, InMemorySpanExporter], traced: People, township: str
) -> None:
    _, exporter = spans
    admin = await traced.admin()
    volunteer_id = await register(admin, township)
    resident = await traced.resident(PHONE)
    body = submission(township, resident_name=NAME, address=ADDRESS, reason=REASON)
    order_id = (await ok(await resident.post("/api/orders", json=body), 201))["id"]
    await ok(
        await admin.post(f"/api/orders/{order_id}/dispatch", json={"volunteer_id": volunteer_id})
    )
    volunteer = await traced.volunteer(volunteer_id)
    buffer = io.StringIO()
    handler = configure_logging(
        traced.settings.model_copy(update={"log_format": "json"}), stream=buffer
    )
    try:
        await ok(await volunteer.post(f"/api/orders/{order_id}/accept"))
    finally:
        logging.getLogger().removeHandler(handler)

    def server_span() -> ReadableSpan | None:
        return next(
            (
                s
                for s in exporter.get_finished_spans()
                if s.kind == SpanKind.SERVER
                and (s.attributes or {}).get("http.route") == "/api/orders/{order_id}/accept"
            ),
            None,
        )

    async def finished() -> list[ReadableSpan]:
        return list(exporter.get_finished_spans())

    await eventually(finished, lambda _: server_span() is not None, what="the request's span")
    request = server_span()
    assert request is not None and request.parent is None  # the trace starts at the request
    trace_id = request.context.trace_id

    def names(found: list[ReadableSpan]) -> set[str]:
        return {s.name for s in found if s.context.trace_id == trace_id}

    found = await eventually(
        finished,
        lambda f: {"RunActivity:record_transition", "HandleUpdate:accept"} <= names(f),
        what="the workflow's and the activity's spans in the request's trace",
    )
    trace = [s for s in found if s.context.trace_id == trace_id]
    by_id = {s.context.span_id: s for s in trace}
    # Every span of the trace hangs from the request.
    for span in trace:
        if span is not request:
            assert ancestors(span, by_id)[-1] == request.name, span.name
    assert "StartWorkflowUpdate:accept" in names(found)
    # The command's log line names the trace.
    logged = [json.loads(line) for line in buffer.getvalue().splitlines()]
    applied = next(e for e in logged if e["message"].startswith("accept applied"))
    assert applied["trace_id"] == format(trace_id, "032x")
    # The activity's statements are spans under it: HTTP → update → activity → database.
    statements = [
        s
        for s in trace
        if s.kind == SpanKind.CLIENT and (s.attributes or {}).get("db.system") == "postgresql"
    ]
    in_activity = [s for s in statements if "RunActivity:record_transition" in ancestors(s, by_id)]
    assert in_activity, sorted(names(found))
    chain = ancestors(in_activity[0], by_id)
    assert chain[chain.index("RunActivity:record_transition") :] == [
        "RunActivity:record_transition",
        "StartActivity:record_transition",
        "StartWorkflowUpdate:accept",
        request.name,
    ]
    assert any(s not in in_activity for s in statements)  # the API's own reads, too

    # No span (the submission's included) says who asked for help or who is calling, and
    # no statement carries a value.
    assert any(
        (s.attributes or {}).get("http.route") == "/api/orders"
        for s in exporter.get_finished_spans()
    )
    everything = [
        {
            "attributes": dict(s.attributes or {}),
            "events": [dict(e.attributes or {}) for e in s.events],
        }
        for s in exporter.get_finished_spans()
    ]
    assert leaks(json.dumps(everything, ensure_ascii=False), SECRETS) == []
    assert not [s for s in everything if "client.address" in s["attributes"]]


async def test_log_lines_are_json_and_name_nobody(
    worker: None, people: People, township: str, live_settings: Settings
) -> None:
    buffer = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = configure_logging(
        live_settings.model_copy(update={"log_format": "json", "log_level": "DEBUG"}),
        stream=buffer,
    )
    try:
        admin, agent = await people.admin(), await people.agent()
        resident = await people.resident(PHONE)
        volunteer_id = await register(admin, township)
        volunteer = await people.volunteer(volunteer_id)
        body = submission(township, resident_name=NAME, address=ADDRESS, reason=REASON)
        order_id = (await ok(await resident.post("/api/orders", json=body), 201))["id"]
        path = f"/api/orders/{order_id}"
        await ok(await admin.post(f"{path}/dispatch", json={"volunteer_id": volunteer_id}))
        await ok(await volunteer.post(f"{path}/accept"))
        # A refused command logs too (and its reason is the person's own words).
        refused = await volunteer.post(f"{path}/accept")
        assert refused.status_code == 409
        await ok(await volunteer.post(f"{path}/complete", json={"summary": NOTE, "hours": 1}))
        await ok(
            await resident.post(f"{path}/review", json={"rating": "satisfied", "comment": NOTE})
        )
        task = await wait_for_follow_up(agent, order_id)
        result = {"method": "phone", "outcome": "confirmed", "notes": NOTE}
        await ok(await agent.post(f"/api/follow-ups/{task['id']}/result", json=result))
    finally:
        root.removeHandler(handler)
        root.setLevel(level)

    lines = buffer.getvalue().splitlines()
    events = [json.loads(line) for line in lines]  # every line is one JSON object
    assert events and all({"time", "level", "logger", "message"} <= e.keys() for e in events)
    assert leaks(buffer.getvalue(), SECRETS) == []
    internal = await people.db.run(_internal_id, order_id)
    applied = [e for e in events if e["message"].startswith("accept applied")]
    assert len(applied) == 1
    assert (applied[0]["order_id"], applied[0]["workflow_id"]) == (internal, workflow_id(internal))
    assert any(e.get("order_id") == internal and "refused" in e["message"] for e in events)


async def test_metrics_port_serves_them_instead_of_the_api(live_settings: Settings) -> None:
    port = free_port()
    async with (
        app_client(live_settings.model_copy(update={"metrics_port": port})) as api,
        httpx.AsyncClient() as plain,
    ):
        assert (await api.get("/metrics")).status_code == 404
        await api.get("/api/catalog")
        text = await scrape(plain, f"http://127.0.0.1:{port}/metrics")
    assert value(text, "http_requests_total", handler="/api/catalog") == 1
    assert value(text, "fourorders_read_model_up") == 1
    with pytest.raises(httpx.ConnectError):  # closed with the app
        await httpx.AsyncClient().get(f"http://127.0.0.1:{port}/metrics")


async def test_production_serves_metrics_only_on_their_port() -> None:
    production = Settings(
        environment="production",
        database_url="postgresql://u:p@db/fourorders",
        jwt_secret=SecretStr(secrets.token_urlsafe(32)),
    )
    assert not production.metrics_on_api_port

    async def metrics_of(settings: Settings) -> int:
        transport = httpx.ASGITransport(app=create_app(settings))  # no lifespan: no database
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            return (await client.get("/metrics")).status_code

    assert await metrics_of(production) == 404
    assert await metrics_of(Settings(environment="development")) == 200


SIGN_IN_CODE = re.compile(r"验证码是(\d{6})")


async def test_no_log_line_span_metric_or_row_keeps_a_link_code_or_a_sign_in_code(
    spans: tuple[Tracing, InMemorySpanExporter],
    live_settings: Settings,
    sim_server: ThreadedServer,
    sim: SimControl,
    temporal: Client,
    engine: Engine,
    database: Database,
    township: str,
) -> None:
    # The real server, with uvicorn's access log as production writes it.
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = with_twilio(live_settings, api_base_url=sim_server.base_url, public_base_url=url)
    tracing, exporter = spans
    app = create_app(settings, reconcile_every=timedelta(hours=1), tracing=tracing)
    buffer = io.StringIO()
    root = logging.getLogger()
    level = root.level
    with ThreadPoolExecutor(max_workers=settings.worker_max_concurrent_activities) as pool:
        async with (
            build_worker(temporal, engine, settings, executor=pool),
            served(app, port=port, log_level="info"),
            httpx.AsyncClient(base_url=url, timeout=30) as client,
        ):
            # After the app's start-up, which configured logging to stderr.
            handler = configure_logging(
                settings.model_copy(update={"log_format": "json", "log_level": "DEBUG"}),
                stream=buffer,
            )
            try:
                people = People(client, database, settings)
                sent = await _a_loop_by_sms(people, client, sim, township)
                metrics = await scrape(client)
            finally:
                root.removeHandler(handler)
                root.setLevel(level)

    codes = [c for body in sent for c in re.findall(r"\?t=([A-Za-z0-9_.-]+)", body)]
    sign_in = [c for body in sent for c in SIGN_IN_CODE.findall(body)]
    assert len(codes) == 2 and len(sign_in) == 1, sent
    # The simulator plays Twilio, which is told the codes.
    lines = [line for line in buffer.getvalue().splitlines() if '"logger": "twilio_sim' not in line]
    logged = "\n".join(lines)
    # The links were opened, and logged with their codes cut.
    access = [json.loads(line)["message"] for line in lines if '"uvicorn.access"' in line]
    assert any(re.search(r'"GET /volunteer/orders/[\w-]+\?t=… HTTP', m) for m in access), access
    assert any(re.search(r'"GET /orders/[\w-]+\?t=… HTTP', m) for m in access), access
    assert [c for c in codes if c in logged] == []
    assert [c for c in sign_in if re.search(rf"(?<!\d){c}(?!\d)", logged)] == []
    # Nor do the request's spans (by route template) or the metrics (by route too).
    traced = [
        {"name": s.name, **dict(s.attributes or {})}
        for s in exporter.get_finished_spans()
        if s.kind == SpanKind.SERVER
    ]
    assert {"/orders/{order_id}", "/volunteer/orders/{order_id}"} <= {
        str(t.get("http.route")) for t in traced
    }, traced
    assert [c for c in codes if c in json.dumps(traced) or c in metrics] == []
    # What the database keeps of the texts has the codes cut too; the sign-in code is kept
    # only as its keyed hash.
    stored = text_everywhere(engine)
    assert "?t=…" in stored
    assert [c for c in codes if c in stored] == []
    assert [c for c in sign_in if re.search(rf"(?<!\w){c}(?!\w)", stored)] == []


async def _a_loop_by_sms(
    people: People, client: httpx.AsyncClient, sim: SimControl, township: str
) -> list[str]:
    """A resident signs in by SMS code, their order is done; both links are opened."""
    phone = "13812346666"
    asked = await client.post("/api/auth/sms-code", json={"phone": phone})
    assert asked.status_code == 202, asked.text

    async def texts() -> list[str]:
        return [m["body"] for m in await asyncio.to_thread(sim.messages)]

    def text_with(found: list[str], fragment: str) -> str | None:
        return next((body for body in found if fragment in body), None)

    async def text_saying(fragment: str) -> str:
        found = await eventually(
            texts, lambda f: text_with(f, fragment) is not None, what=f"an SMS with {fragment}"
        )
        body = text_with(found, fragment)
        assert body is not None
        return body

    code = SIGN_IN_CODE.findall(await text_saying("验证码"))[0]
    tokens = await ok(await client.post("/api/auth/sms-login", json={"phone": phone, "code": code}))
    resident = Caller(client, {"Authorization": f"Bearer {tokens['access_token']}"})
    admin = await people.admin()
    volunteer_id = await register(admin, township)
    body = submission(township, resident_name=NAME, address=ADDRESS, reason=REASON)
    order_id = (await ok(await resident.post("/api/orders", json=body), 201))["id"]
    await ok(
        await admin.post(f"/api/orders/{order_id}/dispatch", json={"volunteer_id": volunteer_id})
    )
    dispatched = await text_saying(f"/volunteer/orders/{order_id}?t=")
    assert (await client.get(_link(dispatched))).status_code == 200
    volunteer = await people.volunteer(volunteer_id)
    await ok(await volunteer.post(f"/api/orders/{order_id}/accept"))
    done = {"summary": "已办", "hours": 1}
    await ok(await volunteer.post(f"/api/orders/{order_id}/complete", json=done))
    completed = await text_saying("请评价")
    assert (await client.get(_link(completed))).status_code == 200
    return await texts()


def _link(body: str) -> str:
    """The path and query of the one link in an SMS."""
    found = re.search(r"http://[^/\s]+(/\S+?\?t=[A-Za-z0-9_.-]+)", body)
    assert found is not None, body
    return found.group(1)
