"""A local Twilio: REST API v2010 (Calls, Messages) on the wire, and scripted residents' phones.

The real twilio SDK talks to it unchanged (``twilio_client_for(base_url, sid, token)``); calls
play out against the application's webhooks as Twilio would play them (signed requests, TwiML,
<Gather> digits, status callbacks), following a per-number script of behaviours. See
``twilio_sim.behaviour`` for the script language and ``python -m twilio_sim --help`` to run it.
"""

from __future__ import annotations

from twilio_sim.app import SimConfig, Simulator, create_app
from twilio_sim.behaviour import parse_call_behaviour, parse_message_behaviour
from twilio_sim.control import RecordingHttpClient, SimControl, twilio_client_for
from twilio_sim.server import ThreadedServer

__all__ = [
    "RecordingHttpClient",
    "SimConfig",
    "SimControl",
    "Simulator",
    "ThreadedServer",
    "create_app",
    "parse_call_behaviour",
    "parse_message_behaviour",
    "twilio_client_for",
]
