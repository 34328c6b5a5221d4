"""Twilio's webhooks: the follow-up call's TwiML, the keys pressed, call and SMS status.

Every request must carry a valid ``X-Twilio-Signature`` for ``PUBLIC_BASE_URL`` + its path
(403 and no change otherwise). Call news goes to the order's workflow as a signal, which
applies each ``(CallSid, event)`` once however often Twilio delivers it.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query, Response
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api import twiml
from api.deps import DatabaseDep, SettingsDep, TemporalDep
from api.errors import UNAVAILABLE, ApiError
from api.gateway import OrderGateway
from api.params import CallId, SmsId
from api.stores import calls, sms
from api.twilio_signature import UNSIGNED, TwilioParams
from api.twiml import respond
from core.vocab import GATHER_ROUNDS, is_machine
from workflows.order import CallProgress

log = logging.getLogger(__name__)

router = APIRouter(
    prefix="/api/twilio",
    tags=["twilio"],
    responses=UNSIGNED,
)


def _progress(
    call_id: int, params: dict[str, str], event: str, **extra: str | None
) -> CallProgress:
    return CallProgress(
        call_id=call_id,
        call_sid=params.get("CallSid", ""),
        event=event,
        call_status=params.get("CallStatus") or None,
        **extra,
    )


async def _tell_workflow(client: Client, order_id: int, progress: CallProgress) -> None:
    try:
        told = await OrderGateway(client).call_progress(order_id, progress)
    except RPCError as exc:
        if exc.status == RPCStatusCode.UNAVAILABLE:
            raise ApiError(503, UNAVAILABLE, "the workflow service is unavailable") from exc
        raise
    if not told:
        # The order has closed: a late or repeated callback has nothing left to change.
        log.info("order %s: callback %s after the workflow ended", order_id, progress.event)


@router.post("/calls/{call_id}/voice", response_class=Response)
async def call_answered(
    call_id: CallId,
    params: TwilioParams,
    db: DatabaseDep,
    client: TemporalDep,
    settings: SettingsDep,
) -> Response:
    """The call was answered: greet the resident and ask for their rating (or hang up on a
    machine, leaving no message)."""
    facts = await db.run(calls.call_facts, call_id)
    answered_by = params.get("AnsweredBy") or None
    await _tell_workflow(
        client, facts.order_id, _progress(call_id, params, "answered", answered_by=answered_by)
    )
    if is_machine(answered_by):
        return respond(twiml.hang_up())
    text = twiml.greeting(facts, settings)
    return respond(twiml.prompt(facts, settings, round_=1, text=text))


@router.post("/calls/{call_id}/gather", response_class=Response)
async def keys_pressed(
    call_id: CallId,
    params: TwilioParams,
    db: DatabaseDep,
    client: TemporalDep,
    settings: SettingsDep,
    round_: Annotated[int, Query(alias="round", ge=1, le=GATHER_ROUNDS)] = 1,
    menu: Annotated[
        bool, Query(description="The four-grade menu a confirming call opened")
    ] = False,
) -> Response:
    """What the resident pressed at the ``round``-th prompt (nothing, when it timed out).

    The keys are read here, against the prompt they answered, and the workflow is told what
    they meant: each key keeps one meaning whatever the resident reviewed.
    """
    facts = await db.run(calls.call_facts, call_id)
    digits = params.get("Digits", "").strip()
    event = f"gather-menu-{round_}" if menu else f"gather-{round_}"
    meaning = twiml.keys_meant(facts, digits, in_menu=menu)
    await _tell_workflow(
        client,
        facts.order_id,
        _progress(call_id, params, event, digits=digits, meaning=meaning),
    )
    return respond(twiml.after_keys(facts, settings, digits=digits, round_=round_, in_menu=menu))


@router.post("/calls/{call_id}/status", status_code=204, response_class=Response)
async def call_status(
    call_id: CallId, params: TwilioParams, db: DatabaseDep, client: TemporalDep
) -> Response:
    """The call ended (completed, busy, no-answer, failed, canceled)."""
    facts = await db.run(calls.call_facts, call_id)
    event = f"status:{params.get('CallStatus', '')}"
    answered_by = params.get("AnsweredBy") or None
    await _tell_workflow(
        client, facts.order_id, _progress(call_id, params, event, answered_by=answered_by)
    )
    return Response(status_code=204)


@router.post("/sms/{sms_id}/status", status_code=204, response_class=Response)
async def sms_status(sms_id: SmsId, params: TwilioParams, db: DatabaseDep) -> Response:
    """An SMS's delivery status."""
    code = params.get("ErrorCode", "")
    await db.run(
        sms.record_sms_status,
        sms_id,
        status=params.get("MessageStatus") or params.get("SmsStatus") or "",
        error_code=int(code) if code.isdigit() else None,
    )
    return Response(status_code=204)
