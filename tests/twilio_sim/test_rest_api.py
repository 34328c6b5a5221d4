"""The simulator's REST errors, as the real twilio SDK sees them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from tests.twilio_sim.conftest import ACCOUNT_SID, AUTH_TOKEN
from twilio_sim import SimControl, ThreadedServer, twilio_client_for

RESIDENT = "+8613800000001"
CENTER = "+15005550006"
URL = "https://example.org/api/twilio/voice/1/twiml"


def test_wrong_auth_token_is_401_with_code_20003(
    sim: SimControl, sim_server: ThreadedServer
) -> None:
    intruder = twilio_client_for(sim_server.base_url, ACCOUNT_SID, "not-the-token")
    with pytest.raises(TwilioRestException) as info:
        intruder.calls.create(to=RESIDENT, from_=CENTER, url=URL)
    assert (info.value.status, info.value.code) == (401, 20003)
    assert sim.calls() == []


def test_missing_credentials_get_twilios_json_error(sim_server: ThreadedServer) -> None:
    response = httpx.post(
        f"{sim_server.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json",
        data={"To": RESIDENT, "From": CENTER, "Url": URL},
    )
    assert response.status_code == 401
    assert response.json() == {
        "code": 20003,
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }
    assert response.headers["www-authenticate"].startswith("Basic")


def test_another_accounts_path_is_not_found(sim_server: ThreadedServer) -> None:
    other = "AC" + "6" * 32
    response = httpx.post(
        f"{sim_server.base_url}/2010-04-01/Accounts/{other}/Calls.json",
        data={"To": RESIDENT, "From": CENTER, "Url": URL},
        auth=(ACCOUNT_SID, AUTH_TOKEN),
    )
    assert (response.status_code, response.json()["code"]) == (404, 20404)


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"from_": CENTER, "url": URL, "to": ""}, 21201),
        ({"to": RESIDENT, "from_": "", "url": URL}, 21213),
        ({"to": RESIDENT, "from_": CENTER}, 21205),
        ({"to": RESIDENT, "from_": CENTER, "url": "/relative/twiml"}, 21205),
        ({"to": "13800138000", "from_": CENTER, "url": URL}, 21211),
        ({"to": RESIDENT, "from_": CENTER, "url": URL, "machine_detection": "Maybe"}, 20001),
        ({"to": RESIDENT, "from_": CENTER, "url": URL, "method": "PUT"}, 20001),
        ({"to": RESIDENT, "from_": CENTER, "url": URL, "status_callback_event": ["hung"]}, 20001),
    ],
    ids=["no-to", "no-from", "no-url", "relative-url", "not-e164", "amd", "method", "event"],
)
def test_invalid_calls_are_400_with_twilios_code(
    sim: SimControl, twilio: Client, params: dict[str, Any], code: int
) -> None:
    with pytest.raises(TwilioRestException) as info:
        twilio.calls.create(**params)
    assert (info.value.status, info.value.code) == (400, code)
    assert sim.calls() == []


def test_unknown_call_is_404_with_code_20404(sim: SimControl, twilio: Client) -> None:
    with pytest.raises(TwilioRestException) as info:
        twilio.calls("CA" + "0" * 32).fetch()
    assert (info.value.status, info.value.code) == (404, 20404)


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"to": "", "from_": CENTER, "body": "hi"}, 21604),
        ({"to": RESIDENT, "body": "hi"}, 21603),
        ({"to": RESIDENT, "from_": CENTER}, 21602),
        ({"to": RESIDENT, "from_": CENTER, "body": "hi", "status_callback": "nope"}, 21609),
    ],
    ids=["no-to", "no-from", "no-body", "bad-callback"],
)
def test_invalid_messages_are_400_with_twilios_code(
    sim: SimControl, twilio: Client, params: dict[str, Any], code: int
) -> None:
    with pytest.raises(TwilioRestException) as info:
        twilio.messages.create(**params)
    assert (info.value.status, info.value.code) == (400, code)


def test_a_bad_script_is_refused(sim: SimControl) -> None:
    response = sim.http.put(f"/sim/scripts/{RESIDENT}", json={"behaviours": ["answer:x"]})
    assert response.status_code == 422
    assert "cannot press" in response.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/Queues.json", 404, 20404),
        ("DELETE", "/Calls.json", 405, 20004),
    ],
)
def test_unknown_api_paths_answer_in_twilios_shape(
    sim_server: ThreadedServer, method: str, path: str, status: int, code: int
) -> None:
    response = httpx.request(
        method,
        f"{sim_server.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}{path}",
        auth=(ACCOUNT_SID, AUTH_TOKEN),
    )
    assert (response.status_code, response.json()["code"]) == (status, code)


def test_an_outage_fails_with_500s_then_hangs_then_ends(
    sim: SimControl, sim_server: ThreadedServer
) -> None:
    quick = twilio_client_for(
        sim_server.base_url, ACCOUNT_SID, AUTH_TOKEN, http_client=TwilioHttpClient(timeout=0.5)
    )
    sim.outage("error", 30)
    with pytest.raises(TwilioRestException) as info:
        quick.calls.create(to=RESIDENT, from_=CENTER, url=URL)
    assert (info.value.status, info.value.code) == (500, 20500)
    sim.outage("hang", 30)
    with pytest.raises(requests.exceptions.Timeout):
        quick.calls.create(to=RESIDENT, from_=CENTER, url=URL)
    sim.outage("hang", 0)
    assert quick.calls.create(to=RESIDENT, from_=CENTER, url=URL).sid.startswith("CA")
    assert len(sim.calls()) == 1
