"""What an SMS reply does, and the SMS that answers it (help without a smartphone).

A volunteer answers an offer with 1 or 2 (a reason may follow the 2) and reports the service
done with 完成 and the hours; a resident rates a completed service with 1–4. The reply acts
exactly as the same person's tap in the app would: the same commands, the same checks, the
same timeline (a review by SMS is recorded with the channel ``sms``). With several orders
open the reply names one by the code its SMS gave it; without one, it gets the list back.
Every reply is answered, each ``MessageSid`` is applied once, and a number we do not know
gets one polite answer a day and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from temporalio.client import Client

from api import schemas
from api.commands import OrderCommands
from api.database import Database
from api.errors import ApiError
from api.gateway import OrderGateway
from api.routes.volunteer import accept_order, complete_order, decline_order
from api.stores import access, sms_inbox
from api.stores.access import OrderRef
from api.stores.errors import DomainError
from api.stores.sms_inbox import Sender, Target
from api.twiml import THANKS
from api.web.error_text import FALLBACK, TEXT
from core.db import utcnow
from core.order_numbers import spoken
from core.security import Principal
from core.settings import Settings
from core.sms_replies import Reply, Verb, read
from core.vocab import KEYPAD_RATINGS, ReviewChannel, Role
from workflows.order import OrderWorkflow, ReviewInput

log = logging.getLogger(__name__)

# The summary a service reported by SMS carries on its timeline and record.
SMS_SUMMARY = "短信办结"
DECLINED_BY_SMS = "短信谢绝"


@dataclass(frozen=True)
class Answer:
    outcome: str  # a stable code: accepted, declined, completed, rated, ambiguous, …
    text: str | None  # None: say nothing


def _named(t: Target) -> str:
    return f"{t.service}（{spoken(t.number)}）"


async def answer(
    params: dict[str, str],
    phone: str | None,
    *,
    db: Database,
    client: Client,
    settings: Settings,
) -> str | None:
    """Apply one signed inbound SMS from ``phone`` (its ``From`` in E.164, ``None`` when it
    is no number); the text to send back (None for no answer)."""
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    if not sid or phone is None:
        return None
    sender = await db.run(sms_inbox.sender_of, phone)
    seen = await db.run(sms_inbox.receive, sid, sender.key, utcnow())
    if seen is not None:
        # Twilio delivered it again: the first delivery's answer, or silence while the
        # first is still being applied (its own answer is on the way).
        return seen.answer
    reply = read(params.get("Body", ""))
    try:
        result = await _apply(reply, phone, sender, sid, db=db, client=client, settings=settings)
    except Exception:
        # Recorded without an answer: a redelivery says nothing, and nothing was applied
        # twice (each command is checked by the order's workflow).
        await db.run(sms_inbox.answered, sid, "failed", None, utcnow())
        raise
    text = f"{settings.sms_signature}{result.text}" if result.text else None
    await db.run(sms_inbox.answered, sid, result.outcome, text, utcnow())
    log.info("inbound sms %s from %s: %s", sid, sender.key.partition(":")[0], result.outcome)
    return text


async def _apply(
    reply: Reply,
    phone: str,
    sender: Sender,
    sid: str,
    *,
    db: Database,
    client: Client,
    settings: Settings,
) -> Answer:
    if reply.verb is Verb.STOP:
        await db.run(sms_inbox.opt_out, phone, utcnow())
        return Answer("opted_out", "已退订服务通知。回复“订阅”可恢复。")
    if reply.verb is Verb.START:
        await db.run(sms_inbox.opt_in, phone)
        return Answer("opted_in", "已恢复服务通知。")
    principal = sender.principal
    if principal is None:
        if await db.run(sms_inbox.answered_lately, sender.key, sid, utcnow()):
            return Answer("stranger_quiet", None)
        return Answer(
            "stranger",
            f"您好，这里是志愿服务平台。需要帮助请拨打服务热线{settings.center_hotline}。",
        )
    commands = OrderCommands(OrderGateway(client), db, settings, principal)
    volunteer = principal.volunteer_id if principal.has(Role.VOLUNTEER) else None
    if volunteer is not None and reply.verb is Verb.DONE:
        return await _complete(reply, volunteer, principal, commands)
    if volunteer is not None and reply.verb in (Verb.YES, Verb.NO):
        offers = await db.run(sms_inbox.offers, volunteer)
        # A volunteer is a resident too: a 1 or 2 rates their own order only when no offer
        # waits for them and one of theirs waits for a rating.
        rid = principal.resident_id
        if offers or rid is None or not await db.run(sms_inbox.to_review, rid):
            return await _answer_offer(reply, principal, offers, commands)
    if reply.digit is not None and principal.resident_id is not None:
        return await _rate(reply, principal.resident_id, commands)
    return Answer(
        "not_understood",
        "没看懂您的回复。志愿者接单回复1、谢绝回复2、办结回复“完成”加小时数；"
        f"评价服务回复1到4。急事请拨打{settings.center_hotline}。",
    )


def _pick(targets: list[Target], code: str | None) -> list[Target]:
    return [t for t in targets if t.code == code] if code else targets


def _ambiguous(targets: list[Target], what: str, example: str) -> Answer:
    listed = "；".join(f"{t.code} {_named(t)}" for t in targets)
    return Answer(
        "ambiguous",
        f"您有{len(targets)}单{what}：{listed}。请带上代码回复，如“{example} {targets[0].code}”。",
    )


Command = Callable[[OrderRef], Awaitable[schemas.OrderOut]]


async def _act(commands: OrderCommands, t: Target, command: Command) -> schemas.OrderOut | Answer:
    """Run a command as the sender's app would; a refusal becomes its plain words."""
    try:
        ref = await commands.db.run(access.resolve_offered, commands.principal, t.public_id)
        return await command(ref)
    except (ApiError, DomainError) as refused:
        return Answer(f"refused:{refused.code}"[:30], TEXT.get(refused.code, FALLBACK))


async def _answer_offer(
    reply: Reply, principal: Principal, offers: list[Target], commands: OrderCommands
) -> Answer:
    chosen = _pick(offers, reply.code)
    if not chosen:
        missing = f"代码为{reply.code}的" if reply.code else ""
        return Answer("no_offer", f"您现在没有{missing}待答复的派单。")
    if len(chosen) > 1:
        return _ambiguous(chosen, "待答复", "1")
    t = chosen[0]
    if reply.verb is Verb.YES:
        done = await _act(commands, t, lambda ref: accept_order(principal, ref, commands))
        if isinstance(done, Answer):
            return done
        return Answer(
            "accepted",
            f"已接单：{_named(t)}。地址和联系方式请点派单短信里的链接查看。"
            "服务完成后回复“完成”加小时数，如“完成 2”。",
        )
    body = schemas.DeclineBody(reason=reply.words or DECLINED_BY_SMS)
    done = await _act(commands, t, lambda ref: decline_order(principal, ref, body, commands))
    if isinstance(done, Answer):
        return done
    return Answer("declined", f"已谢绝：{_named(t)}。感谢告知。")


async def _complete(
    reply: Reply, volunteer: int, principal: Principal, commands: OrderCommands
) -> Answer:
    chosen = _pick(await commands.db.run(sms_inbox.held, volunteer), reply.code)
    if not chosen:
        return Answer("nothing_held", "您现在没有进行中的服务单。")
    if len(chosen) > 1:
        return _ambiguous(chosen, "进行中", "完成 2")
    if not reply.hours:
        return Answer("hours_missing", "请回复“完成”加服务小时数，如“完成 2”。")
    t = chosen[0]
    body = schemas.CompleteBody(summary=SMS_SUMMARY, hours=reply.hours)
    done = await _act(commands, t, lambda ref: complete_order(principal, ref, body, commands))
    if isinstance(done, Answer):
        return done
    return Answer("completed", f"已办结：{_named(t)}，服务{reply.hours:g}小时。感谢您的志愿服务！")


async def _rate(reply: Reply, resident_id: int, commands: OrderCommands) -> Answer:
    rating = KEYPAD_RATINGS.get(str(reply.digit))
    if rating is None:
        return Answer("not_a_grade", "评价请回复1到4：1非常满意，2满意，3一般，4不满意。")
    chosen = _pick(await commands.db.run(sms_inbox.to_review, resident_id), reply.code)
    if not chosen:
        return Answer("nothing_to_rate", "您现在没有待评价的服务。")
    if len(chosen) > 1:
        return _ambiguous(chosen, "待评价", str(reply.digit))

    async def review(ref: OrderRef) -> schemas.OrderOut:
        return await commands.run(
            ref,
            OrderWorkflow.review,
            lambda note_id: ReviewInput(rating=rating, note_id=note_id, channel=ReviewChannel.SMS),
            note=("review_comment", reply.words or None),
        )

    done = await _act(commands, chosen[0], review)
    if isinstance(done, Answer):
        return done
    return Answer("rated", THANKS[rating])
