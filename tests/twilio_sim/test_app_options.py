"""Options of ``create_app`` and the ``python -m twilio_sim`` command."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.twilio_sim.conftest import ACCOUNT_SID, AUTH_TOKEN
from tests.twilio_sim.webhook_app import Recorder, create_webhook_app
from twilio_sim import SimControl, ThreadedServer, create_app, twilio_client_for

RESIDENT = "+8613800000001"
CENTER = "+15005550006"
REPO = Path(__file__).resolve().parents[2]


def test_app_wide_duplicate_callbacks(hook: str, recorder: Recorder) -> None:
    recorder.clear()
    app = create_app(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, duplicate_callbacks=True)
    with ThreadedServer(app) as server:
        twilio = twilio_client_for(server.base_url, ACCOUNT_SID, AUTH_TOKEN)
        twilio.calls.create(
            to=RESIDENT,
            from_=CENTER,
            url=f"{hook}/voice/dup/twiml",
            status_callback=f"{hook}/voice/dup/status",
            status_callback_event=["answered", "completed"],
        )
        SimControl(server.base_url).wait()
    callbacks = [r.params["CallStatus"] for r in recorder.to("/voice/dup/status")]
    assert callbacks == ["in-progress", "in-progress", "completed", "completed"]


def test_webhooks_can_go_to_an_in_process_app() -> None:
    """``transport=httpx.ASGITransport(app)``: no network between simulator and application."""
    recorder = Recorder(auth_token=AUTH_TOKEN)
    transport = httpx.ASGITransport(app=create_webhook_app(recorder))
    app = create_app(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, transport=transport)
    with ThreadedServer(app) as server:
        twilio = twilio_client_for(server.base_url, ACCOUNT_SID, AUTH_TOKEN)
        sid = twilio.calls.create(
            to=RESIDENT, from_=CENTER, url="http://app.internal/voice/main/twiml"
        ).sid
        call = SimControl(server.base_url).call(sid or "")
    assert call["pressed"] == ["1"]
    assert [r.path for r in recorder.snapshot()] == ["/voice/main/twiml", "/voice/main/gather"]
    assert all(r.signature_valid for r in recorder.snapshot())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def cli_sim(tmp_path: Path, hook: str) -> Iterator[tuple[str, Path]]:
    """``python -m twilio_sim`` as a subprocess, as a person would run it (``make run``), our
    numbers' calls and SMS going to the webhook app."""
    port = _free_port()
    log = tmp_path / "sim.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "twilio_sim",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--account-sid",
                ACCOUNT_SID,
                "--auth-token",
                AUTH_TOKEN,
                "--voice-url",
                f"{hook}/ivr/voice",
                "--sms-url",
                f"{hook}/sms/inbound",
            ],
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base_url}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"python -m twilio_sim did not start:\n{log.read_text()}")
            time.sleep(0.05)
        yield base_url, log
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_the_command_serves_twilio_and_logs_a_line_per_call(
    cli_sim: tuple[str, Path], hook: str
) -> None:
    base_url, log = cli_sim
    twilio = twilio_client_for(base_url, ACCOUNT_SID, AUTH_TOKEN)
    sim = SimControl(base_url)
    sim.script(RESIDENT, ["answer:2"])
    sid = twilio.calls.create(to=RESIDENT, from_=CENTER, url=f"{hook}/voice/cli/twiml").sid
    assert sim.call(sid or "")["status"] == "completed"
    expected = f'call {sid} to {RESIDENT} heard "您好，这里是志愿服务中心。'
    deadline = time.monotonic() + 10
    while expected not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)  # the log line is written just after the call settles
    text = log.read_text()
    assert expected in text, text
    assert "pressed 2 → completed" in text


def test_the_command_sends_residents_calls_and_sms_to_the_voice_and_sms_urls(
    cli_sim: tuple[str, Path], recorder: Recorder
) -> None:
    recorder.clear()
    base_url, _ = cli_sim
    sim = SimControl(base_url)
    sid = sim.inbound_call(RESIDENT, CENTER, "answer:1,3")
    assert sim.call(sid)["pressed"] == ["1", "3"]
    assert [r.params["Direction"] for r in recorder.to("/ivr/voice")] == ["inbound"]
    assert sim.inbound_message(RESIDENT, CENTER, "退订")["replies"] == ["收到：退订"]


def test_a_ringing_call_can_be_canceled(hook: str, recorder: Recorder) -> None:
    recorder.clear()
    # step_delay keeps the call ringing long enough for the update to arrive first.
    app = create_app(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, step_delay=1.0)
    with ThreadedServer(app) as server:
        twilio = twilio_client_for(server.base_url, ACCOUNT_SID, AUTH_TOKEN)
        sid = twilio.calls.create(
            to=RESIDENT,
            from_=CENTER,
            url=f"{hook}/voice/cancel/twiml",
            status_callback=f"{hook}/voice/cancel/status",
        ).sid
        twilio.calls(sid).update(status="canceled")
        call = SimControl(server.base_url).call(sid or "")
    assert call["status"] == "canceled"
    assert recorder.to("/voice/cancel/twiml") == []
    assert [r.params["CallStatus"] for r in recorder.to("/voice/cancel/status")] == ["canceled"]
