"""``make run``'s script, end to end: it starts everything, serves, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import asyncio
import os
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
        **{k: v for k, v in os.environ.items() if not k.startswith("TWILIO_")},
        # No Twilio account: make run starts the simulator, whose phones press 1.
        "TWILIO_SIM_PORT": str(sim_port),
        "CALLING_HOURS": "00:00-24:00",
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
            assert page.status_code == 200 and "点单" in page.text
            order = await http.post(
                "/api/orders",
                json={
                    "item_code": "legal.consultation",
                    "reason": "咨询土地承包合同",
                    "address": "九江街道",
                    "township": "九江街道",
                    "resident_name": "杨",
                    "resident_phone": "13800000009",
                },
            )
            assert order.status_code == 201, order.text
            await whole_loop_on_the_simulator(http, order.json()["id"], sim_port)
    finally:
        proc.send_signal(signal.SIGINT)
        await asyncio.wait_for(proc.wait(), timeout=60)
    output = log.read_text()
    assert proc.returncode == 0, output
    assert "Fatal Python error" not in output and "Traceback" not in output, output
    assert (tmp_path / "temporal.db").exists()  # workflows persist across restarts


async def whole_loop_on_the_simulator(
    http: httpx.AsyncClient, order_id: int, sim_port: int
) -> None:
    """Dispatch, accept, complete, review; the simulated phone answers the follow-up call."""
    volunteer = await http.post(
        "/api/volunteers",
        json={"name": "吴", "phone": "13900000001", "township": "九江街道"},
    )
    assert volunteer.status_code == 201, volunteer.text
    vid = volunteer.json()["id"]
    steps = [
        ("dispatch", {"volunteer_id": vid}),
        ("accept", {"volunteer_id": vid}),
        ("complete", {"volunteer_id": vid, "summary": "已解答", "hours": 1}),
        ("review", {"rating": "satisfied"}),
    ]
    for step, body in steps:
        answer = await http.post(f"/api/orders/{order_id}/{step}", json=body)
        assert answer.status_code == 200, (step, answer.text)
    for _ in range(300):
        order = (await http.get(f"/api/orders/{order_id}")).json()
        if order["status"] == "closed":
            break
        await asyncio.sleep(0.2)
    else:
        raise AssertionError(f"the follow-up call never closed the order: {order}")
    assert order["rating"] == "very_satisfied"  # the simulator's phones press 1
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{sim_port}") as sim:
        calls = (await sim.get("/sim/calls")).json()["calls"]
        messages = (await sim.get("/sim/messages")).json()["messages"]
    assert [c["to"] for c in calls] == ["+8613800000009"]
    # Dispatched (volunteer), accepted and completed (resident).
    assert sorted(m["to"] for m in messages) == [
        "+8613800000009",
        "+8613800000009",
        "+8613900000001",
    ]
