"""Signing in end to end: SMS codes through the Twilio simulator, staff passwords, refresh
tokens, who am I; the abuse limits on each; and nothing secret in logs or tables.

The app runs on PostgreSQL with the real Twilio SDK sending to the simulator; the codes are
read from what the simulator's phones received, as a resident reads them.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import statistics
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import String, cast, func, select, update
from sqlalchemy.orm import Session

from api import schemas
from api.database import Database
from api.sign_in_sms import code_text
from api.stores import accounts, volunteers
from core.db import utcnow
from core.models import AuditEntry, RefreshToken, SmsCode, SmsMessage, Volunteer
from core.settings import Settings
from core.vocab import Role
from tests.api.auth_app import (
    add_staff,
    app_on,
    bearer,
    caller,
    login,
    new_ip,
    new_phone,
    refresh,
)
from tests.api.test_call_center import body, refused
from tests.helpers import Registry
from tests.phones import with_twilio
from tests.signin import STAFF_PASSWORD, order_link
from twilio_sim import SimControl, ThreadedServer

CODE = re.compile(r"验证码是(\d{6})")


# The simulator and its control, as the follow-up call tests have them.


@pytest.fixture(autouse=True)
def nothing_secret_in_the_logs(
    caplog: pytest.LogCaptureFixture, sim_server: ThreadedServer
) -> Iterator[None]:
    """After every test here: no log line holds a code that was sent or a number texted."""
    caplog.set_level(logging.DEBUG)
    yield
    control = SimControl(sim_server.base_url)
    try:
        sent = control.messages()
    finally:
        control.close()
    numbers = {m["to"].removeprefix("+86") for m in sent}
    codes = {code for m in sent for code in CODE.findall(m["body"])}
    for record in caplog.get_records("setup") + caplog.get_records("call"):
        if record.name.startswith("twilio_sim"):
            continue  # the simulator plays Twilio, which is told both
        line = record.getMessage()
        assert not [n for n in numbers if n in line], f"{record.name}: {line}"
        assert not [c for c in codes if re.search(rf"(?<!\d){c}(?!\d)", line)], line


@pytest.fixture
def sms_settings(settings: Settings, sim_server: ThreadedServer) -> Settings:
    return with_twilio(
        settings, api_base_url=sim_server.base_url, public_base_url="http://testserver"
    )


@pytest.fixture
def app_with(database: Database, sms_settings: Settings) -> Callable[..., FastAPI]:
    """The app with some settings changed."""

    def make(**update: Any) -> FastAPI:
        return app_on(database, sms_settings, **update)

    return make


@pytest.fixture
def app(app_with: Callable[..., FastAPI]) -> FastAPI:
    return app_with()


@pytest.fixture
async def api(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with caller(app) as client:
        yield client


@pytest.fixture
def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def texts_to(sim: SimControl, number: str) -> list[str]:
    return [m["body"] for m in sim.messages() if m["to"] == number]


def last_code(sim: SimControl, number: str) -> str:
    match = CODE.search(texts_to(sim, number)[-1])
    assert match, texts_to(sim, number)
    return match.group(1)


async def ask_code(api: httpx.AsyncClient, sim: SimControl, typed: str, number: str) -> str:
    response = await api.post("/api/auth/sms-code", json={"phone": typed})
    assert response.status_code == 202, response.text
    return await asyncio.to_thread(last_code, sim, number)


async def sms_sign_in(api: httpx.AsyncClient, sim: SimControl, typed: str) -> dict[str, Any]:
    code = await ask_code(api, sim, typed, "+86" + typed)
    response = await code_login(api, typed, code)
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


async def code_login(api: httpx.AsyncClient, phone: str, code: str) -> httpx.Response:
    return await api.post("/api/auth/sms-login", json={"phone": phone, "code": code})


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


# --- SMS codes --------------------------------------------------------------------------


async def test_a_resident_signs_in_with_the_code_the_sms_brought(
    api: httpx.AsyncClient,
    sim: SimControl,
    database: Database,
    sms_settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    typed, number = new_phone()
    response = await api.post("/api/auth/sms-code", json={"phone": typed})
    assert response.status_code == 202, response.text
    # The page counts down to the next code the number may ask for (one a minute).
    assert response.json() == {"expires_in": 300, "resend_in": 60}
    [sms] = await asyncio.to_thread(texts_to, sim, number)
    code = CODE.search(sms).group(1)  # type: ignore[union-attr]
    assert sms == code_text(sms_settings, code)
    assert sms == f"【县新时代文明实践中心】您的登录验证码是{code}，5分钟内有效。请勿告诉他人。"

    signed_in = await code_login(api, typed, code)
    assert signed_in.status_code == 200, signed_in.text
    tokens = signed_in.json()
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 15 * 60
    assert tokens["roles"] == ["resident"]
    me = (await api.get("/api/me", headers=bearer(tokens))).json()
    assert me["subject"] == f"resident:{me['resident_id']}"
    assert me["roles"] == ["resident"]
    assert me["volunteer_id"] is None and me["staff_id"] is None

    # Nothing keeps the code or the number where it does not belong.
    def stored(session: Session) -> tuple[list[str], int, int]:
        hashes = list(session.scalars(select(SmsCode.code_hash).where(SmsCode.phone == number)))
        messages = session.scalar(
            select(func.count())
            .select_from(SmsMessage)
            .where(SmsMessage.to_number.contains(typed) | SmsMessage.body.contains(code))
        )
        audit = session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(
                AuditEntry.target.contains(typed)
                | AuditEntry.actor.contains(typed)
                | cast(AuditEntry.detail, String).contains(typed)
                | cast(AuditEntry.detail, String).contains(code)
            )
        )
        return hashes, messages or 0, audit or 0

    hashes, messages, audit = await database.run(stored)
    assert len(hashes) == 1 and code not in hashes[0] and len(hashes[0]) == 64
    assert (messages, audit) == (0, 0)
    # The SDK's request lines are among those the autouse fixture checks.
    assert any(r.name == "twilio.http_client" for r in caplog.records)


async def test_the_same_answer_for_a_known_number_a_new_one_and_a_volunteer(
    api: httpx.AsyncClient, sim: SimControl, database: Database, registry: Registry, township: str
) -> None:
    known, known_number = new_phone()
    await database.run(accounts.resident_by_phone, known_number)  # signed in before
    volunteer, _ = new_phone()
    await register_volunteer(database, registry, township, volunteer)
    answers = [
        await api.post("/api/auth/sms-code", json={"phone": typed})
        for typed in (known, new_phone()[0], volunteer)
    ]
    assert {(a.status_code, a.text) for a in answers} == {
        (202, '{"expires_in":300,"resend_in":60}')
    }


async def test_a_number_that_cannot_be_a_phone_is_422(api: httpx.AsyncClient) -> None:
    for phone in ("12", "call me maybe", "+" + "1" * 16):
        response = await api.post("/api/auth/sms-code", json={"phone": phone})
        assert response.status_code == 422, response.text


async def test_a_wrong_expired_or_used_code_gets_the_same_401(
    api: httpx.AsyncClient, sim: SimControl, database: Database
) -> None:
    typed, number = new_phone()
    code = await ask_code(api, sim, typed, number)
    answers = [await code_login(api, typed, wrong(code))]
    assert (await code_login(api, typed, code)).is_success
    answers.append(await code_login(api, typed, code))

    other, other_number = new_phone()
    stale = await ask_code(api, sim, other, other_number)
    await database.run(expire_codes, other_number)
    answers.append(await code_login(api, other, stale))
    answers.append(await code_login(api, new_phone()[0], "123456"))

    for answer in answers:
        refused(answer, 401, "InvalidCode")
        assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert len({a.text for a in answers}) == 1


async def test_five_wrong_guesses_kill_the_code(api: httpx.AsyncClient, sim: SimControl) -> None:
    typed, number = new_phone()
    code = await ask_code(api, sim, typed, number)
    for _ in range(4):
        refused(
            await code_login(api, typed, wrong(code)),
            401,
            "InvalidCode",
        )
    # The fifth try may still be right ...
    other, other_number = new_phone()
    other_code = await ask_code(api, sim, other, other_number)
    for _ in range(4):
        await code_login(api, other, wrong(other_code))
    fifth = await code_login(api, other, other_code)
    assert fifth.status_code == 200, fifth.text
    # ... but after five wrong ones the right code is dead too.
    await code_login(api, typed, wrong(code))
    refused(
        await code_login(api, typed, code),
        401,
        "InvalidCode",
    )


async def test_a_new_code_ends_the_previous_one(
    app_with: Callable[..., FastAPI], sim: SimControl
) -> None:
    async with caller(app_with(sms_code_per_number="5/minute")) as api:
        typed, number = new_phone()
        first = await ask_code(api, sim, typed, number)
        second = await ask_code(api, sim, typed, number)
        if first != second:
            refused(
                await code_login(api, typed, first),
                401,
                "InvalidCode",
            )
        signed_in = await code_login(api, typed, second)
        assert signed_in.status_code == 200, signed_in.text


async def test_without_an_sms_account_codes_are_unavailable(
    database: Database, settings: Settings
) -> None:
    async with caller(app_on(database, settings)) as api:
        response = await api.post("/api/auth/sms-code", json={"phone": new_phone()[0]})
    refused(response, 503, "SmsUnavailable")


async def test_a_number_twilio_refuses_gets_the_same_202(
    api: httpx.AsyncClient, sim: SimControl, caplog: pytest.LogCaptureFixture
) -> None:
    # Twilio (and the simulator) refuses a 'To' that is not E.164 (error 21211).
    response = await api.post("/api/auth/sms-code", json={"phone": "+0123456789"})
    assert response.status_code == 202, response.text
    assert await asyncio.to_thread(texts_to, sim, "+0123456789") == []
    [line] = [r.getMessage() for r in caplog.records if r.name == "api.sign_in_sms"]
    assert line == "sign-in code to ***89 refused: Twilio answered HTTP 400 with error 21211"


async def test_twilio_out_of_reach_is_503(
    app_with: Callable[..., FastAPI], unused_port: int
) -> None:
    down = app_with(twilio_api_base_url=f"http://127.0.0.1:{unused_port}")
    async with caller(down) as api:
        response = await api.post("/api/auth/sms-code", json={"phone": new_phone()[0]})
    refused(response, 503, "SmsUnavailable")


# --- limits on codes and sign-ins -------------------------------------------------------


async def test_one_code_a_minute_per_number_then_429_with_retry_after(
    api: httpx.AsyncClient, sim: SimControl, app: FastAPI
) -> None:
    typed, number = new_phone()
    await ask_code(api, sim, typed, number)
    again = await api.post("/api/auth/sms-code", json={"phone": typed})
    refused(again, 429, "RateLimited")
    assert 55 <= int(again.headers["Retry-After"]) <= 60
    # The same number asked from elsewhere, or written otherwise, is the same number.
    async with caller(app) as elsewhere:
        refused(
            await elsewhere.post("/api/auth/sms-code", json={"phone": "+86 " + typed}),
            429,
            "RateLimited",
        )
    assert len(await asyncio.to_thread(texts_to, sim, number)) == 1


async def test_ten_codes_a_day_per_number(
    app_with: Callable[..., FastAPI], sim: SimControl
) -> None:
    async with caller(app_with(sms_code_per_number="100/minute;3/day")) as api:
        typed, number = new_phone()
        for _ in range(3):
            await ask_code(api, sim, typed, number)
        fourth = await api.post("/api/auth/sms-code", json={"phone": typed})
    refused(fourth, 429, "RateLimited")
    assert 86_000 < int(fourth.headers["Retry-After"]) <= 86_400


async def test_codes_per_address_and_refused_requests_count_for_nothing(
    app_with: Callable[..., FastAPI],
) -> None:
    app = app_with(sms_code_per_ip="2/minute")
    ip = new_ip()
    async with caller(app, ip) as api, caller(app) as elsewhere:
        a, b, c = new_phone()[0], new_phone()[0], new_phone()[0]
        assert (await api.post("/api/auth/sms-code", json={"phone": a})).status_code == 202
        # Refused for the number: this address's count stays at one.
        refused(await api.post("/api/auth/sms-code", json={"phone": a}), 429, "RateLimited")
        assert (await api.post("/api/auth/sms-code", json={"phone": b})).status_code == 202
        third = await api.post("/api/auth/sms-code", json={"phone": c})
        refused(third, 429, "RateLimited")
        assert int(third.headers["Retry-After"]) > 0
        assert (await elsewhere.post("/api/auth/sms-code", json={"phone": c})).status_code == 202


async def test_sign_in_attempts_per_address(app_with: Callable[..., FastAPI]) -> None:
    app = app_with(login_per_ip="3/minute")
    async with caller(app) as api, caller(app) as elsewhere:
        tries = [
            await login(api, "nobody", "x"),
            await code_login(api, new_phone()[0], "000000"),
            await api.post("/api/auth/token", data={"username": "nobody", "password": "x"}),
            await login(api, "nobody", "x"),
        ]
        assert [t.status_code for t in tries] == [401, 401, 401, 429]
        assert int(tries[-1].headers["Retry-After"]) > 0
        assert (await login(elsewhere, "nobody", "x")).status_code == 401


# --- volunteers and leaders -------------------------------------------------------------


async def register_volunteer(db: Database, registry: Registry, township: str, typed: str) -> int:
    body = schemas.VolunteerCreate(name="志愿者", phone=typed, township=township)
    volunteer = await db.run(volunteers.create_volunteer, body, country_code="86")
    registry.volunteers.append(volunteer.id)
    return volunteer.id


async def test_a_volunteer_and_a_leader_sign_in_with_their_roles(
    api: httpx.AsyncClient, sim: SimControl, database: Database, registry: Registry, township: str
) -> None:
    member, leader = new_phone()[0], new_phone()[0]
    member_id = await register_volunteer(database, registry, township, member)
    # Registered with the country code: the same person as one typing the national number.
    leader_id = await register_volunteer(database, registry, township, "+86" + leader)
    unit = await registry.unit(township, leader=leader_id, members=[member_id])

    tokens = await sms_sign_in(api, sim, member)
    assert tokens["roles"] == ["resident", "volunteer"]
    me = (await api.get("/api/me", headers=bearer(tokens))).json()
    assert (me["volunteer_id"], me["led_units"]) == (member_id, [])

    tokens = await sms_sign_in(api, sim, leader)
    assert tokens["roles"] == ["leader", "resident", "volunteer"]
    me = (await api.get("/api/me", headers=bearer(tokens))).json()
    assert (me["volunteer_id"], me["led_units"]) == (leader_id, [unit])


async def test_a_refresh_after_a_volunteer_is_deactivated_drops_the_role(
    api: httpx.AsyncClient, sim: SimControl, database: Database, registry: Registry, township: str
) -> None:
    typed = new_phone()[0]
    volunteer_id = await register_volunteer(database, registry, township, typed)
    tokens = await sms_sign_in(api, sim, typed)
    assert "volunteer" in tokens["roles"]

    def deactivate(session: Session) -> None:
        session.execute(update(Volunteer).where(Volunteer.id == volunteer_id).values(active=False))

    await database.run(deactivate)
    renewed = await refresh(api, tokens)
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["roles"] == ["resident"]
    me = (await api.get("/api/me", headers=bearer(renewed.json()))).json()
    assert me["volunteer_id"] is None


# --- staff passwords --------------------------------------------------------------------


async def test_staff_sign_in_by_json_and_by_the_oauth2_form(
    api: httpx.AsyncClient, database: Database, township: str
) -> None:
    staff_id, username = await add_staff(database, role=Role.AGENT, townships=[township])
    by_json = await login(api, username)
    assert by_json.status_code == 200, by_json.text
    assert by_json.json()["roles"] == ["agent"]
    by_form = await api.post(
        "/api/auth/token",
        data={"grant_type": "password", "username": username, "password": STAFF_PASSWORD},
    )
    assert by_form.status_code == 200, by_form.text
    assert by_form.json()["token_type"] == "bearer"
    me = (await api.get("/api/me", headers=bearer(by_form.json()))).json()
    assert me == {
        "subject": f"staff:{staff_id}",
        "roles": ["agent"],
        "resident_id": None,
        "volunteer_id": None,
        "staff_id": staff_id,
        "led_units": [],
        "townships": [township],
        "order_id": None,
    }
    entries = await database.run(audit_of, f"staff:{staff_id}")
    assert [e.action for e in entries] == ["staff.create", "auth.login", "auth.login"]


async def test_a_wrong_password_an_unknown_name_and_a_locked_account_look_alike(
    database: Database, sms_settings: Settings
) -> None:
    locking = app_on(
        database, sms_settings, login_max_failures=3, login_lockout=timedelta(seconds=2)
    )
    async with caller(locking) as api:
        staff_id, username = await add_staff(database)
        answers = [await login(api, username, "wrong password!") for _ in range(3)]
        answers.append(await login(api, username))  # right, but locked now
        answers.append(await login(api, "nobody-" + username))
        for answer in answers:
            refused(answer, 401, "InvalidCredentials")
        assert len({a.text for a in answers}) == 1
        entries = await database.run(audit_of, f"staff:{staff_id}")
        assert [e.detail["locked"] for e in entries if e.action == "auth.login_failed"] == [
            False,
            False,
            True,
            True,
        ]
        assert all(e.actor == "anonymous" and e.ip for e in entries[1:])

        await asyncio.sleep(2.1)  # the lockout runs out
        assert (await login(api, username)).status_code == 200


async def test_wrong_passwords_lock_out_where_they_come_from_not_the_account(
    database: Database, sms_settings: Settings
) -> None:
    locking = app_on(
        database, sms_settings, login_max_failures=3, login_lockout=timedelta(minutes=15)
    )
    staff_id, username = await add_staff(database)
    async with (
        caller(locking) as flood,
        caller(locking) as owner,
        caller(locking, "2001:db8:7:7::1") as host,
        caller(locking, "2001:db8:7:7::2") as same_host,
        caller(locking, "2001:db8:7:8::1") as next_door,
    ):
        for _ in range(5):
            refused(await login(flood, username, "wrong password!"), 401, "InvalidCredentials")
        refused(await login(flood, username), 401, "InvalidCredentials")  # locked out from there
        # Its owner, from where they always sign in, is not.
        assert (await login(owner, username)).status_code == 200
        refused(await login(flood, username), 401, "InvalidCredentials")
        # An IPv6 host has a whole /64: its addresses are one source.
        for _ in range(3):
            refused(await login(host, username, "wrong password!"), 401, "InvalidCredentials")
        refused(await login(same_host, username), 401, "InvalidCredentials")
        assert (await login(next_door, username)).status_code == 200

    entries = await database.run(audit_of, f"staff:{staff_id}")
    failed = [e.detail["locked"] for e in entries if e.action == "auth.login_failed"]
    assert failed == [False, False, True, True, True, True, True, False, False, True, True]


async def test_an_unknown_name_takes_as_long_as_a_wrong_password(
    api: httpx.AsyncClient, database: Database
) -> None:
    _, username = await add_staff(database)

    async def timed(name: str) -> float:
        start = time.perf_counter()
        assert (await login(api, name, "not the password")).status_code == 401
        return time.perf_counter() - start

    # Interleaved, so that load on the machine weighs on both alike.
    known, unknown = [], []
    for _ in range(4):
        known.append(await timed(username))
        unknown.append(await timed("nobody-" + username))
    # A full argon2 check either way (a skipped one would be a small fraction of it).
    assert statistics.median(unknown) > 0.6 * statistics.median(known), (known, unknown)


# --- refresh tokens ---------------------------------------------------------------------


async def test_refresh_tokens_rotate_and_a_reused_one_revokes_its_family(
    api: httpx.AsyncClient, database: Database
) -> None:
    staff_id, username = await add_staff(database)

    async def sign_in() -> dict[str, Any]:
        tokens: dict[str, Any] = body(await login(api, username))
        return tokens

    first, elsewhere = await sign_in(), await sign_in()
    second = await refresh(api, first)
    assert second.status_code == 200, second.text
    assert second.json()["refresh_token"] != first["refresh_token"]
    assert (await api.get("/api/me", headers=bearer(second.json()))).status_code == 200
    third = await refresh(api, second.json())
    assert third.status_code == 200, third.text

    # The first token again: somebody kept a copy. Every token of that sign-in dies ...
    refused(await refresh(api, first), 401, "InvalidRefreshToken")
    refused(await refresh(api, third.json()), 401, "InvalidRefreshToken")
    # ... and the person's other sign-in lives on.
    assert (await refresh(api, elsewhere)).status_code == 200
    entries = await database.run(audit_of, f"staff:{staff_id}")
    assert [e.action for e in entries if e.action.startswith("auth.refresh")] == [
        "auth.refresh_reused"
    ]


async def test_only_hashes_of_refresh_tokens_are_stored(
    api: httpx.AsyncClient, sim: SimControl, database: Database
) -> None:
    tokens = await sms_sign_in(api, sim, new_phone()[0])

    def find(session: Session) -> list[str]:
        return list(
            session.scalars(
                select(RefreshToken.token_hash).where(
                    RefreshToken.token_hash == tokens["refresh_token"]
                )
            )
        )

    assert await database.run(find) == []


async def test_an_expired_refresh_token_refreshes_no_more(
    app_with: Callable[..., FastAPI], database: Database
) -> None:
    async with caller(app_with(refresh_token_ttl=timedelta(seconds=1))) as api:
        _, username = await add_staff(database)
        tokens = body(await login(api, username))
        await asyncio.sleep(1.1)
        refused(await refresh(api, tokens), 401, "InvalidRefreshToken")


async def test_logout_ends_the_sign_in(api: httpx.AsyncClient, sim: SimControl) -> None:
    tokens = await sms_sign_in(api, sim, new_phone()[0])
    out = await api.post("/api/auth/logout", json={"refresh_token": tokens["refresh_token"]})
    assert out.status_code == 204 and out.content == b""
    refused(await refresh(api, tokens), 401, "InvalidRefreshToken")
    unknown = await api.post("/api/auth/logout", json={"refresh_token": "never-issued-token"})
    assert unknown.status_code == 204


# --- the resident's pages: the refresh token as a cookie ----------------------------------

COOKIE = "fourorders_refresh"


def set_cookie(response: httpx.Response) -> tuple[str, set[str]]:
    """The refresh cookie's value and its attributes (lower case) from ``Set-Cookie``."""
    [header] = [h for h in response.headers.get_list("set-cookie") if h.startswith(COOKIE + "=")]
    value, *attributes = [part.strip() for part in header.split(";")]
    return value.removeprefix(COOKIE + "="), {a.lower() for a in attributes}


async def cookie_refresh(api: httpx.AsyncClient, value: str) -> httpx.Response:
    # Sent by hand: the client's jar keeps a Secure cookie off http://testserver.
    return await api.post("/api/auth/refresh", headers={"Cookie": f"{COOKIE}={value}"})


async def cookie_sign_in(api: httpx.AsyncClient, sim: SimControl) -> httpx.Response:
    typed, number = new_phone()
    code = await ask_code(api, sim, typed, number)
    response = await api.post(
        "/api/auth/sms-login?cookie=true", json={"phone": typed, "code": code}
    )
    assert response.status_code == 200, response.text
    return response


async def test_a_kept_sign_in_is_a_cookie_no_script_reads_sent_only_to_the_refresh_route(
    api: httpx.AsyncClient, sim: SimControl, sms_settings: Settings
) -> None:
    signed_in = await cookie_sign_in(api, sim)
    assert signed_in.json()["refresh_token"] is None  # never in what a script sees
    assert (await api.get("/api/me", headers=bearer(signed_in.json()))).status_code == 200
    first, flags = set_cookie(signed_in)
    days = int(sms_settings.refresh_token_ttl.total_seconds())
    assert flags == {
        "httponly",
        "samesite=strict",
        "secure",
        "path=/api/auth/refresh",
        f"max-age={days}",
    }, flags

    # Each use rotates it: a new access token, and the successor as the cookie again.
    renewed = await cookie_refresh(api, first)
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["refresh_token"] is None
    assert (await api.get("/api/me", headers=bearer(renewed.json()))).status_code == 200
    second, flags = set_cookie(renewed)
    assert second != first and "httponly" in flags and "path=/api/auth/refresh" in flags

    # The first cookie again (a copy somebody kept): the whole sign-in ends, successor too.
    refused(await cookie_refresh(api, first), 401, "InvalidRefreshToken")
    refused(await cookie_refresh(api, second), 401, "InvalidRefreshToken")
    # No cookie at all is the same 401, and a body still works as before for the desks.
    refused(await api.post("/api/auth/refresh"), 401, "InvalidRefreshToken")


async def test_signing_out_ends_the_kept_sign_in_and_drops_the_cookie(
    api: httpx.AsyncClient, sim: SimControl
) -> None:
    value, _ = set_cookie(await cookie_sign_in(api, sim))
    out = await api.delete("/api/auth/refresh", headers={"Cookie": f"{COOKIE}={value}"})
    assert out.status_code == 204 and out.content == b""
    gone, flags = set_cookie(out)
    assert gone in ("", '""') and "max-age=0" in flags and "path=/api/auth/refresh" in flags
    refused(await cookie_refresh(api, value), 401, "InvalidRefreshToken")
    # Without a cookie (signed out already, or another app) it answers alike.
    assert (await api.delete("/api/auth/refresh")).status_code == 204


async def test_a_developers_http_localhost_gets_the_cookie_without_secure(
    app_with: Callable[..., FastAPI], sim: SimControl
) -> None:
    async with caller(app_with(environment="development")) as api:
        _, flags = set_cookie(await cookie_sign_in(api, sim))
    assert "secure" not in flags and "httponly" in flags and "samesite=strict" in flags


# --- who am I ---------------------------------------------------------------------------


async def test_me_for_an_order_link_and_without_a_valid_token(
    api: httpx.AsyncClient, sms_settings: Settings
) -> None:
    me = await api.get("/api/me", headers=order_link("Ab3dEf6hIj9k", sms_settings))
    assert me.status_code == 200, me.text
    assert me.json()["roles"] == ["order_link"]
    assert me.json()["order_id"] == "Ab3dEf6hIj9k"

    nobody = await api.get("/api/me")
    refused(nobody, 401, "NotSignedIn")
    assert nobody.headers["WWW-Authenticate"] == "Bearer"
    forged = await api.get("/api/me", headers={"Authorization": "Bearer not.a.token"})
    refused(forged, 401, "InvalidToken")


# --- helpers ----------------------------------------------------------------------------


def expire_codes(session: Session, number: str) -> None:
    session.execute(
        update(SmsCode)
        .where(SmsCode.phone == number)
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )


def audit_of(session: Session, target: str) -> list[AuditEntry]:
    entries = list(
        session.scalars(
            select(AuditEntry).where(AuditEntry.target == target).order_by(AuditEntry.id)
        )
    )
    for entry in entries:
        session.expunge(entry)
    return entries
