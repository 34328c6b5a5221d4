"""``make run``'s script, end to end: it starts everything, serves, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
from pathlib import Path

import httpx

from core.settings import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def test_run_starts_the_whole_system_and_stops_cleanly(tmp_path: Path) -> None:
    api_port = free_port()
    sim_port = free_port()
    env = {
        # No Twilio account and no secret: make run is a development trial of its own.
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith("TWILIO_") and k not in ("JWT_SECRET", "ENVIRONMENT")
        },
        # No Twilio account: make run starts the simulator, whose phones press 1.
        "TWILIO_SIM_PORT": str(sim_port),
        "CALLING_HOURS": "00:00-24:00",
        # The call after an online review waits 2 h by default; here it asks a second later.
        "FOLLOW_UP_AFTER_REVIEW": "1s",
        "DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
        "TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
        "TEMPORAL_EMBEDDED": "1",
        "TEMPORAL_UI_PORT": str(free_port()),
        "API_PORT": str(api_port),
    }
    log = tmp_path / "run.log"
    # A file, not a pipe: nobody reads a pipe until the end, and a full one would block.
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "scripts/run.py",
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
        )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}") as http:
            for _ in range(300):
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
            else:
                raise AssertionError("the system did not come up")
            catalog = (await http.get("/api/catalog")).json()
            assert sum(len(c["items"]) for c in catalog) == 36
            page = await http.get("/")
            assert page.status_code == 200 and "我要求助" in page.text
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{sim_port}") as sim:
                resident = await sms_sign_in(http, sim, "13800000009")
                order = await http.post(
                    "/api/orders",
                    headers=resident,
                    json={
                        "item_code": "legal.consultation",
                        "reason": "咨询土地承包合同",
                        "address": "九江街道",
                        "township": "九江街道",
                        "resident_name": "杨",
                    },
                )
                assert order.status_code == 201, order.text
                admin = await dev_admin_sign_in(http, tmp_path)
                await whole_loop_on_the_simulator(http, sim, order.json()["id"], resident, admin)
                await the_centers_number_answers(sim)
    finally:
        proc.send_signal(signal.SIGINT)
        await asyncio.wait_for(proc.wait(), timeout=60)
    output = log.read_text()
    assert proc.returncode == 0, output
    assert "Fatal Python error" not in output and "Traceback" not in output, output
    assert (tmp_path / "temporal.db").exists()  # workflows persist across restarts


Headers = dict[str, str]


async def the_centers_number_answers(sim: httpx.AsyncClient) -> None:
    """make run gives the simulator the center's Voice and Messaging URLs: a resident's call
    reaches the keypad menu, and their text gets an answer."""
    texted = await sim.post(
        "/sim/inbound-messages",
        json={"from": "+8613900000077", "to": "+862300000000", "body": "你好"},
    )
    assert texted.status_code == 201, texted.text
    assert any("服务热线" in reply for reply in texted.json()["replies"]), texted.json()
    rang = await sim.post(
        "/sim/inbound-calls",
        json={"from": "+8613900000077", "to": "+862300000000", "behaviour": "answer:"},
    )
    assert rang.status_code == 201, rang.text
    await sim.post("/sim/wait", params={"max_wait": 30})
    call = (await sim.get(f"/sim/calls/{rang.json()['sid']}")).json()
    heard = "".join(h["text"] for h in call["heard"])
    assert "求助请按1" in heard, call


async def sms_sign_in(http: httpx.AsyncClient, sim: httpx.AsyncClient, phone: str) -> Headers:
    """Sign in as a resident does: ask for a code, read it from the SMS, sign in with it."""
    asked = await http.post("/api/auth/sms-code", json={"phone": phone})
    assert asked.status_code == 202, asked.text
    for _ in range(100):
        messages = (await sim.get("/sim/messages")).json()["messages"]
        codes = [
            found.group(1)
            for m in messages
            if m["to"] == "+86" + phone and (found := re.search(r"验证码是(\d{6})", m["body"]))
        ]
        if codes:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("no sign-in code reached the phone")
    signed = await http.post("/api/auth/sms-login", json={"phone": phone, "code": codes[-1]})
    assert signed.status_code == 200, signed.text
    return {"Authorization": f"Bearer {signed.json()['access_token']}"}


async def dev_admin_sign_in(http: httpx.AsyncClient, data: Path) -> Headers:
    """The development admin ``make run`` made, with the password it kept for us."""
    password = (data / "dev-admin-password").read_text().strip()
    signed = await http.post("/api/auth/login", json={"username": "admin", "password": password})
    assert signed.status_code == 200, signed.text
    return {"Authorization": f"Bearer {signed.json()['access_token']}"}


async def whole_loop_on_the_simulator(
    http: httpx.AsyncClient,
    sim: httpx.AsyncClient,
    order_id: str,
    resident: Headers,
    admin: Headers,
) -> None:
    """Dispatch, accept, complete, review, each by its own person; the simulated phone
    answers the follow-up call."""
    volunteer = await http.post(
        "/api/volunteers",
        headers=admin,
        json={"name": "吴", "phone": "13900000001", "township": "九江街道"},
    )
    assert volunteer.status_code == 201, volunteer.text
    vid = volunteer.json()["id"]
    helper = await sms_sign_in(http, sim, "13900000001")
    steps = [
        (admin, "dispatch", {"volunteer_id": vid}),
        (helper, "accept", None),
        (helper, "complete", {"summary": "已解答", "hours": 1}),
        (resident, "review", {"rating": "satisfied"}),
    ]
    for who, step, body in steps:
        answer = await http.post(f"/api/orders/{order_id}/{step}", json=body, headers=who)
        assert answer.status_code == 200, (step, answer.text)
    for _ in range(300):
        order = (await http.get(f"/api/orders/{order_id}", headers=resident)).json()
        if order["status"] == "closed":
            break
        await asyncio.sleep(0.2)
    else:
        raise AssertionError(f"the follow-up call never closed the order: {order}")
    # The simulator's phones press 1: on a call after a review, that confirms it.
    assert (order["rating"], order["verified_rating"]) == ("satisfied", "satisfied")
    calls = (await sim.get("/sim/calls")).json()["calls"]
    messages = (await sim.get("/sim/messages")).json()["messages"]
    assert [c["to"] for c in calls] == ["+8613800000009"]
    # Two sign-in codes; dispatched (volunteer), accepted and completed (resident).
    notices = [m["to"] for m in messages if "验证码" not in m["body"]]
    assert sorted(notices) == ["+8613800000009", "+8613800000009", "+8613900000001"]
