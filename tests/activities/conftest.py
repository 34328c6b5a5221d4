"""Fixtures for the Twilio activities: the simulator, our webhooks' stand-in, broken Twilios.

The activities run the real twilio SDK against ``twilio_sim`` (served by uvicorn in a thread),
which plays every call and SMS out against a small app standing in for our webhook routes
(``/api/twilio/...``, as ``core.webhooks`` builds them). Two deliberately broken Twilios
show the failure paths: ``gate`` answers 503 for chosen numbers and forwards everything else
to the simulator; ``dropper`` reads a request and closes the connection without answering
(the request reached "Twilio", the answer never came back).
"""

from __future__ import annotations

import socket
import socketserver
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from twilio.rest import Client

from core.models import CatalogItem, FollowUp, Order, Unit, Village, Volunteer
from tests import phones
from tests.phones import ACCOUNT_SID, AUTH_TOKEN
from twilio_sim import (
    RecordingHttpClient,
    SimControl,
    Simulator,
    ThreadedServer,
    twilio_client_for,
)
from twilio_sim.state import SimCall, SimMessage

# The center's caller id / SMS sender (a Twilio magic test number, valid E.164).
CENTER = "+15005550006"
ITEM_CODE = "care.elderly_visit"
ITEM_NAME = "空巢老人探访"
# 10:00 UTC is 18:00 in the county (Asia/Shanghai).
DEADLINE = datetime(2025, 12, 2, 10, 0, tzinfo=UTC)
DEADLINE_TEXT = "12月2日18:00"
RESIDENT_NAME = "龙秀英"
VOLUNTEER_NAME = "吴志强"
LEADER_NAME = "杨春梅"


# ---- our webhooks' stand-in -----------------------------------------------------------------


@dataclass
class Hooks:
    """What the simulator delivered to our webhook URLs."""

    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()

    def to(self, path: str) -> list[dict[str, str]]:
        with self.lock:
            return [params for _, p, params in self.requests if p == path]


def _hooks_app(hooks: Hooks) -> FastAPI:
    app = FastAPI()

    async def record(request: Request) -> None:
        raw = (await request.body()).decode()
        params = {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        with hooks.lock:
            hooks.requests.append((request.method, request.url.path, params))

    @app.post("/api/twilio/calls/{call_id}/voice")
    async def voice(call_id: int, request: Request) -> Response:
        await record(request)
        return Response(
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Response><Say language="zh-CN">您好，这里是志愿服务中心。</Say><Hangup/></Response>',
            media_type="application/xml",
        )

    @app.post("/api/twilio/calls/{call_id}/status")
    async def call_status(call_id: int, request: Request) -> Response:
        await record(request)
        return Response(status_code=204)

    @app.post("/api/twilio/sms/{sms_id}/status")
    async def sms_status(sms_id: int, request: Request) -> Response:
        await record(request)
        return Response(status_code=204)

    return app


@pytest.fixture(scope="session")
def hooks() -> Hooks:
    return Hooks()


@pytest.fixture(scope="session")
def hooks_server(hooks: Hooks) -> Iterator[ThreadedServer]:
    with ThreadedServer(_hooks_app(hooks)) as server:
        yield server


@pytest.fixture
def public_base_url(hooks_server: ThreadedServer) -> str:
    """PUBLIC_BASE_URL: the stand-in, so the simulator's webhooks land there."""
    return hooks_server.base_url


# ---- the simulator ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sim_server() -> Iterator[ThreadedServer]:
    with phones.simulator(webhook_timeout=10.0) as server:
        yield server


@pytest.fixture
def sim(sim_server: ThreadedServer, hooks: Hooks) -> Iterator[SimControl]:
    """The simulator's control API, with a clean slate (and no webhooks seen) per test."""
    control = SimControl(sim_server.base_url)
    control.reset()
    hooks.clear()
    yield control
    control.close()


@pytest.fixture
def simulator(sim_server: ThreadedServer) -> Simulator:
    """The simulator object itself: every field of each REST request it accepted."""
    found: Simulator = sim_server.app.state.simulator
    return found


def sim_call(simulator: Simulator, sid: str) -> SimCall:
    with simulator.state.lock:
        return simulator.state.calls[sid]


def sim_message(simulator: Simulator, sid: str) -> SimMessage:
    with simulator.state.lock:
        return simulator.state.messages[sid]


@pytest.fixture
def twilio(sim_server: ThreadedServer) -> Client:
    """The real twilio SDK client, talking to the simulator."""
    return twilio_client_for(sim_server.base_url, ACCOUNT_SID, AUTH_TOKEN)


@dataclass
class Recorded:
    """A simulator client that keeps every response: how many requests Twilio was sent."""

    client: Client
    http: RecordingHttpClient


@pytest.fixture
def recorded_twilio(sim_server: ThreadedServer) -> Recorded:
    http = RecordingHttpClient()
    return Recorded(
        twilio_client_for(sim_server.base_url, ACCOUNT_SID, AUTH_TOKEN, http_client=http), http
    )


@pytest.fixture
def down_twilio() -> Client:
    """A client whose Twilio is down: nothing listens on its port (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Closed without listen(): connecting is refused.
    return twilio_client_for(f"http://127.0.0.1:{port}", ACCOUNT_SID, AUTH_TOKEN)


# ---- a Twilio that answers 503 for chosen numbers ---------------------------------------------


@dataclass
class Gate:
    """Fronts the simulator; answers 503 (Twilio's error shape) to requests for ``failing``."""

    sim_url: str
    failing: set[str] = field(default_factory=set)
    refused_requests: list[str] = field(default_factory=list)


def _gate_app(gate: Gate) -> FastAPI:
    app = FastAPI()

    @app.post("/2010-04-01/Accounts/{account_sid}/{resource}.json")
    async def create(account_sid: str, resource: str, request: Request) -> Response:
        raw = await request.body()
        to = parse_qs(raw.decode()).get("To", [""])[-1]
        if to in gate.failing:
            gate.refused_requests.append(to)
            return Response(
                '{"code": 20503, "message": "Service unavailable", "status": 503}',
                status_code=503,
                media_type="application/json",
            )
        async with httpx.AsyncClient(base_url=gate.sim_url, trust_env=False) as http:
            answer = await http.post(
                request.url.path,
                content=raw,
                headers={
                    "Authorization": request.headers["authorization"],
                    "Content-Type": request.headers["content-type"],
                },
            )
        return Response(answer.content, answer.status_code, media_type="application/json")

    return app


@pytest.fixture(scope="session")
def gate_server(sim_server: ThreadedServer) -> Iterator[tuple[Gate, ThreadedServer]]:
    gate = Gate(sim_url=sim_server.base_url)
    with ThreadedServer(_gate_app(gate)) as server:
        yield gate, server


@pytest.fixture
def gate(gate_server: tuple[Gate, ThreadedServer], sim: SimControl) -> Gate:
    found, _ = gate_server
    found.failing.clear()
    found.refused_requests.clear()
    return found


@pytest.fixture
def gated_twilio(gate_server: tuple[Gate, ThreadedServer]) -> Client:
    _, server = gate_server
    return twilio_client_for(server.base_url, ACCOUNT_SID, AUTH_TOKEN)


# ---- a Twilio that reads the request and hangs up without answering ---------------------------


class _DropHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        sock: socket.socket = self.request
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
        server: Dropper = self.server  # type: ignore[assignment]
        with server.lock:
            server.received.append(parse_qs(body.decode()))
        # No answer at all: the client sees the connection closed after its request.


class Dropper(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _DropHandler)
        self.lock = threading.Lock()
        self.received: list[dict[str, list[str]]] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def dropper() -> Iterator[Dropper]:
    server = Dropper()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(10)


@pytest.fixture
def dropping_twilio(dropper: Dropper) -> Client:
    return twilio_client_for(dropper.base_url, ACCOUNT_SID, AUTH_TOKEN)


# ---- rows: an order with a resident, a volunteer, a team with its leader ---------------------


def national_number() -> str:
    """A unique Chinese mobile number as people type it (no country code)."""
    return f"139{uuid.uuid4().int % 10**8:08d}"


@dataclass(frozen=True)
class World:
    township: str
    village: str
    order_id: int
    public_id: str
    number: str
    follow_up_id: int
    resident_phone: str  # as stored
    volunteer_id: int
    volunteer_phone: str
    leader_id: int
    leader_phone: str
    unit_id: int
    unit_name: str

    @property
    def resident_e164(self) -> str:
        return "+86" + self.resident_phone

    @property
    def volunteer_e164(self) -> str:
        return "+86" + self.volunteer_phone

    @property
    def leader_e164(self) -> str:
        return "+86" + self.leader_phone


def make_world(engine: Engine, township: str, *, resident_phone: str | None = None) -> World:
    """Rows only (no workflow): what the activities read. Volunteers are created inactive so
    they never turn up in other tests' rankings."""
    resident = resident_phone or national_number()
    with Session(engine) as session, session.begin():
        category = session.scalar(
            select(CatalogItem.category_code).where(CatalogItem.code == ITEM_CODE)
        )
        assert category is not None, "the seeded catalog lacks " + ITEM_CODE
        village = Village(township=township, name=f"龙井村{uuid.uuid4().hex[:4]}")
        session.add(village)
        session.flush()
        volunteer = Volunteer(
            name=VOLUNTEER_NAME, phone=national_number(), township=township, active=False
        )
        leader = Volunteer(
            name=LEADER_NAME, phone=national_number(), township=township, active=False
        )
        session.add_all([volunteer, leader])
        session.flush()
        unit = Unit(
            kind="team",
            name=f"红枫队{uuid.uuid4().hex[:8]}",
            township=township,
            leader_id=leader.id,
        )
        session.add(unit)
        session.flush()
        order = Order(
            item_code=ITEM_CODE,
            category_code=category,
            township=township,
            village_id=village.id,
            reason="家里老人行动不便，需要有人帮忙买药和打扫。",
            address="龙井村 3 组 12 号",
            resident_name=RESIDENT_NAME,
            resident_phone=resident,
            status="accepted",
            volunteer_id=volunteer.id,
            unit_id=unit.id,
            deadline_at=DEADLINE,
        )
        session.add(order)
        session.flush()
        follow_up = FollowUp(order_id=order.id, status="calling", created_at=datetime.now(UTC))
        session.add(follow_up)
        session.flush()
        return World(
            township=township,
            village=village.name,
            order_id=order.id,
            public_id=order.public_id,
            number=order.number,
            follow_up_id=follow_up.id,
            resident_phone=resident,
            volunteer_id=volunteer.id,
            volunteer_phone=volunteer.phone,
            leader_id=leader.id,
            leader_phone=leader.phone,
            unit_id=unit.id,
            unit_name=unit.name,
        )


@pytest.fixture
def world(engine: Engine, township: str) -> World:
    return make_world(engine, township)


def webhook_kinds(inspection: dict[str, Any]) -> list[tuple[str, str, str, int | None]]:
    """(kind, method, url, status) of every webhook the simulator made for a call/message."""
    return [(w["kind"], w["method"], w["url"], w["status_code"]) for w in inspection["webhooks"]]
