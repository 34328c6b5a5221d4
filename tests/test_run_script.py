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
    env = {
        **os.environ,
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
    finally:
        proc.send_signal(signal.SIGINT)
        await asyncio.wait_for(proc.wait(), timeout=60)
    output = log.read_text()
    assert proc.returncode == 0, output
    assert "Fatal Python error" not in output and "Traceback" not in output, output
    assert (tmp_path / "temporal.db").exists()  # workflows persist across restarts
