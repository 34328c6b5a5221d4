"""What people send the center's number: SMS replies (the Messaging URL).

Signed like every Twilio webhook (403 without a valid ``X-Twilio-Signature``); the answer is
TwiML, so the reply SMS goes back on the same exchange (``api/sms_inbox.py`` decides it).
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from twilio.twiml.messaging_response import MessagingResponse

from api.deps import DatabaseDep, SettingsDep, TemporalDep
from api.responses import refusals
from api.sms_inbox import answer
from api.twilio_signature import TwilioParams

router = APIRouter(
    prefix="/api/twilio/inbound",
    tags=["twilio"],
    responses=refusals({403: "Not signed by Twilio (X-Twilio-Signature)"}),
)


@router.post("/sms", response_class=Response)
async def inbound_sms(
    params: TwilioParams, db: DatabaseDep, client: TemporalDep, settings: SettingsDep
) -> Response:
    """An SMS to the center's number: a volunteer's 1/2/完成, a resident's 1-4, 退订.

    Applied once per ``MessageSid`` however often Twilio delivers it; the answer, if any, is
    the ``<Message>`` of the TwiML returned.
    """
    text = await answer(params, db=db, client=client, settings=settings)
    response = MessagingResponse()
    if text:
        response.message(text)
    return Response(content=str(response.to_xml()), media_type="application/xml")
