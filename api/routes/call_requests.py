"""The call-center's call-back and intake tasks, left by the center's keypad menu.

A caller who pressed 0 (``callback``), or said their address and need after the tone
(``intake``), waits here for an agent to call them back; an intake becomes an order the agent
takes for them at ``/call-center/orders/new`` and confirms on that call. As with follow-ups,
an agent claims a task before calling (a lease of ``CLAIM_LEASE``): only the holder sees the
number in full, and each claim is audited.
"""

from __future__ import annotations

import logging
from typing import Annotated

import httpx
from anyio import to_thread
from fastapi import APIRouter, Query, Request, Response

from api import schemas
from api.auth import AgentActor, StaffActor, client_ip
from api.deps import DatabaseDep, SettingsDep
from api.errors import UNAVAILABLE, ApiError
from api.params import CallRequestId
from api.responses import refusals
from api.stores import agents, call_requests
from core.settings import Settings
from core.twilio import make_client
from core.vocab import CallRequestStatus

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api", tags=["call-center"], responses=schemas.ERRORS)


@router.get("/call-requests", response_model=list[schemas.CallRequestOut])
async def list_call_requests(
    actor: StaffActor,
    db: DatabaseDep,
    status: CallRequestStatus = CallRequestStatus.OPEN,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[schemas.CallRequestOut]:
    """Callers waiting for a call back, oldest first (numbers masked unless you hold one)."""
    me = actor.staff_id or 0
    return await db.run(call_requests.queue, me, status=status.value, limit=limit)


@router.post("/call-requests/{request_id}/claim", response_model=schemas.CallRequestOut)
async def claim_call_request(
    request_id: CallRequestId,
    actor: AgentActor,
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
) -> schemas.CallRequestOut:
    """Take the task for ``CLAIM_LEASE`` (again: extend it); 409 ``CallRequestClaimed`` while
    another agent holds it, 409 ``CallRequestDone`` once done."""
    return await db.run(
        call_requests.claim,
        request_id,
        agents.me(actor),
        lease=settings.claim_lease,
        viewer=actor,
        ip=client_ip(request),
    )


@router.post("/call-requests/{request_id}/release", response_model=schemas.CallRequestOut)
async def release_call_request(
    request_id: CallRequestId, actor: AgentActor, db: DatabaseDep
) -> schemas.CallRequestOut:
    """Give the task back to the queue (409 ``CallRequestClaimed`` if you do not hold it)."""
    return await db.run(call_requests.release, request_id, agents.me(actor))


@router.post("/call-requests/{request_id}/done", response_model=schemas.CallRequestOut)
async def finish_call_request(
    request_id: CallRequestId,
    actor: AgentActor,
    body: schemas.CallRequestDone,
    db: DatabaseDep,
    settings: SettingsDep,
) -> schemas.CallRequestOut:
    """Close the task: ``ordered`` names the order taken for the caller (it must be for the
    number that called: 422 ``NotTheCallersOrder``), or why none was."""
    done, recording = await db.run(
        call_requests.finish,
        request_id,
        agents.me(actor),
        outcome=body.outcome,
        order_public_id=body.order_id,
    )
    if recording is not None:
        await _forget(settings, recording)
    return done


@router.get(
    "/call-requests/{request_id}/recording",
    response_class=Response,
    responses={
        200: {"content": {"audio/wav": {}}, "description": "What the caller said"},
        **refusals({503: "Twilio did not answer"}),
    },
)
async def play_recording(
    request_id: CallRequestId,
    actor: AgentActor,
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
) -> Response:
    """What an intake caller said after the tone, for the agent holding the task (each play
    audited). It stays at Twilio until the task is done, then it is deleted there; it is
    never kept here, nor in Temporal."""
    sid = await db.run(
        call_requests.recording_for,
        request_id,
        agents.me(actor),
        viewer=actor,
        ip=client_ip(request),
    )
    url = (
        f"{settings.twilio_api_base_url.rstrip('/')}/2010-04-01/Accounts/"
        f"{settings.twilio_account_sid}/Recordings/{sid}.wav"
    )
    token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else ""
    try:
        async with httpx.AsyncClient(timeout=20) as http:
            got = await http.get(url, auth=(settings.twilio_account_sid or "", token))
    except httpx.HTTPError as exc:
        raise ApiError(503, UNAVAILABLE, "Twilio did not answer; try again") from exc
    if got.status_code != 200:
        raise ApiError(503, UNAVAILABLE, f"Twilio answered {got.status_code} for the recording")
    return Response(
        content=got.content, media_type="audio/wav", headers={"Cache-Control": "no-store"}
    )


async def _forget(settings: Settings, recording_sid: str) -> None:
    """Delete the recording at Twilio once the task is done (a failure is logged: it would
    otherwise stay there until Twilio's own retention ends)."""
    client = make_client(settings)
    if client is None:
        return

    def delete() -> None:
        client.recordings(recording_sid).delete()

    try:
        await to_thread.run_sync(delete)
    except Exception:
        log.warning("recording %s could not be deleted at Twilio", recording_sid, exc_info=True)
