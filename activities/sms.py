"""SMS at the moments of an order that matter, each message sent at most once.

Every message is recorded under its key (order, notice, event ``seq``, recipient) before Twilio
is asked to send it, so a retried activity skips whoever already got it, and a message whose
request may have reached Twilio (an attempt died or timed out mid-request) is never re-sent.
Neither the key nor the recorded text holds a secret or a resident's number: the key names
the recipient by id or role, and the text is kept with its link's code cut.

Texts are short Chinese notices (one 70-character UCS-2 segment where possible, never more
than two) and carry nobody's phone number: a volunteer never learns the resident's number
from them, a resident never the volunteer's name or number, only that a 志愿者 has it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, Table, case, func, select, update
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.contracts import SEND_SMS, SMS_IMPOSSIBLE, SmsInput, SmsResult
from core.db import insert_ignore, utcnow
from core.models import (
    CatalogItem,
    Order,
    OrderEvent,
    SmsMessage,
    SmsOptOut,
    Unit,
    Village,
    Volunteer,
)
from core.order_numbers import spoken
from core.phones import e164, mask_for_log
from core.quiet_hours import OfferTimeouts
from core.security import mask_link_codes
from core.settings import DEFAULT_SMS_SIGNATURE
from core.sms_replies import offer_code
from core.twilio import TwilioAccount
from core.twilio_errors import (
    Verdict,
    classify,
    retry_error,
)
from core.vocab import Notice
from core.webhooks import sms_status_url

# Notices that go to the resident (whose link opens their own order).
RESIDENT_NOTICES = frozenset({Notice.RECEIVED, Notice.ACCEPTED, Notice.COMPLETED})

sms_messages = cast(Table, SmsMessage.__table__)
orders = cast(Table, Order.__table__)
catalog_items = cast(Table, CatalogItem.__table__)
villages = cast(Table, Village.__table__)
units = cast(Table, Unit.__table__)
volunteers = cast(Table, Volunteer.__table__)
opt_outs = cast(Table, SmsOptOut.__table__)
order_events = cast(Table, OrderEvent.__table__)

# States of an sms_messages row.
SENDING: Final = "sending"  # intent committed, Twilio being asked: the message may exist
SENT: Final = "sent"  # Twilio answered with a MessageSid
REFUSED: Final = "refused"  # Twilio said no for good
RETRY: Final = "retry"  # Twilio certainly did not create it; the next attempt asks again

# A UCS-2 (Chinese) SMS: 70 characters in one segment, 67 per segment when split.
MAX_SEGMENTS: Final = 2
# A volunteer's link carries the code that acts as them on the order (see
# ``core.security.volunteer_link_code``) on the volunteer page's longer path: one segment
# more, rather than cutting the service and the place they need to decide.
# The completion text says how to rate by reply (1-4) for those who cannot open the link.
MAX_SEGMENTS_BY_NOTICE: Final = {
    Notice.DISPATCHED: 3,
    Notice.TEAM_DISPATCHED: 3,
    Notice.COMPLETED: 3,
}


@dataclass(frozen=True)
class Facts:
    """What the texts may say about an order: no personal data of anyone.

    ``ref`` is the order's number as people read it (``2612 0457``): what a caller gives the
    hotline and staff search by; it opens nothing.
    """

    ref: str
    item: str
    township: str
    village: str | None
    deadline: datetime  # in the county's time zone
    link: str
    unit: str | None = None
    level: int | None = None
    # When the offer lapses (dispatch texts): the moment the volunteer's page shows too.
    answer_by: datetime | None = None
    # What a reply names this order by when the reader has several open (``core.sms_replies``).
    code: str = ""

    @property
    def place(self) -> str:
        return self.township + (self.village or "")


def _when(moment: datetime) -> str:
    return f"{moment.month}月{moment.day}日{moment:%H:%M}"


def _answer(f: Facts) -> str:
    return f"{_when(f.answer_by)}前答复，" if f.answer_by else ""


def _received(f: Facts) -> str:
    return f"您的求助“{f.item}”已受理，单号{f.ref}，72小时内办好。查看进度：{f.link}"


def _dispatched(f: Facts) -> str:
    # A keypad phone answers by reply; the code picks this order out of several open.
    return (
        f"新派单{f.ref}：{f.item}，地点{f.place}，"
        f"请于{_answer(f)}{_when(f.deadline)}前完成。"
        f"回复“1 {f.code}”接单，“2 {f.code}”谢绝。详情{f.link}"
    )


def _team_dispatched(f: Facts) -> str:
    return (
        f"{f.unit or '本队'}收到派单{f.ref}：{f.item}，地点{f.place}，"
        f"请于{_answer(f)}{_when(f.deadline)}前安排队员完成。详情{f.link}"
    )


def _accepted(f: Facts) -> str:
    return f"您申请的“{f.item}”（单号{f.ref}）已有志愿者接单，将于{_when(f.deadline)}前完成。"


def _completed(f: Facts) -> str:
    # The volunteer did the work, for the resident: "为您提供的", never "您…完成的". A keypad
    # phone rates by reply (core.sms_replies); a smartphone opens the link.
    return (
        f"为您提供的“{f.item}”（单号{f.ref}）已完成，请评价：回复1非常满意、2满意、3一般、"
        f"4不满意，或点{f.link} 中心将回访。"
    )


def _escalated(f: Facts) -> str:
    return (
        f"督办：订单{f.ref}“{f.item}”（{f.township}）逾期未办结，"
        f"已升至{f.level or 1}级，请尽快处理。"
    )


def _withdrawn(f: Facts) -> str:
    return f"订单{f.ref}“{f.item}”已改派他人，您无需再办理，谢谢。"


TEXTS: Final[dict[Notice, Callable[[Facts], str]]] = {
    Notice.RECEIVED: _received,
    Notice.DISPATCHED: _dispatched,
    Notice.TEAM_DISPATCHED: _team_dispatched,
    Notice.ACCEPTED: _accepted,
    Notice.COMPLETED: _completed,
    Notice.ESCALATED: _escalated,
    Notice.WITHDRAWN: _withdrawn,
}

# Longest names the texts quote (item, each place name, unit): none, then shorter and shorter.
_CLIPS: Final = (None, (12, 10, 12), (8, 6, 8), (5, 4, 5))
# Shortening that keeps names readable is worth one segment instead of two; more is not.
_ONE_SEGMENT_CLIPS: Final = _CLIPS[:2]


def segments(body: str) -> int:
    """SMS segments of a UCS-2 body (any Chinese text): 70 in one, 67 each when split."""
    units = len(body.encode("utf-16-le")) // 2
    return 1 if units <= 70 else -(-units // 67)


def _clip(text: str | None, limit: int) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


def _clipped(facts: Facts, clip: tuple[int, int, int] | None) -> Facts:
    if clip is None:
        return facts
    item, place, unit = clip
    return replace(
        facts,
        item=_clip(facts.item, item) or "",
        township=_clip(facts.township, place) or "",
        village=_clip(facts.village, place),
        unit=_clip(facts.unit, unit),
    )


def compose(notice: Notice, facts: Facts, signature: str = DEFAULT_SMS_SIGNATURE) -> str:
    """The notice's text after the signature: one segment if mildly shortened names allow,
    else two at most (three for a volunteer's, see ``MAX_SEGMENTS_BY_NOTICE``).

    Only names are shortened, never the link; a link so long that even the shortest names
    leave more than that is sent as it is.
    """
    most = MAX_SEGMENTS_BY_NOTICE.get(notice, MAX_SEGMENTS)

    def text(f: Facts) -> str:
        return signature + TEXTS[notice](f)

    for clip in _ONE_SEGMENT_CLIPS:
        body = text(_clipped(facts, clip))
        if segments(body) == 1:
            return body
    for clip in _CLIPS:
        body = text(_clipped(facts, clip))
        if segments(body) <= most:
            return body
    return body


@dataclass(frozen=True)
class Recipient:
    kind: str  # volunteer | leader | resident | admin
    id: int | None
    phone: str | None  # as stored; None when the person is not found


def message_key(inp: SmsInput, recipient: Recipient, to: str) -> str:
    """The message's idempotency key, which never holds the number it goes to.

    A volunteer or leader is named by id, the resident by role (an order has one), an admin
    (a number from the settings) by a digest of their number.
    """
    key = f"order-{inp.order_id}:{Notice(inp.notice).value}:{inp.seq}:{recipient.kind}"
    if recipient.id is not None:
        return f"{key}:{recipient.id}"
    if recipient.kind == "resident":
        return key
    return f"{key}:{hashlib.sha256(to.encode()).hexdigest()[:16]}"


def legacy_key(inp: SmsInput, recipient: Recipient, to: str) -> str | None:
    """The key this message had when keys ended with the number (``None``: the same key)."""
    if recipient.id is not None:
        return None
    return f"order-{inp.order_id}:{Notice(inp.notice).value}:{inp.seq}:{recipient.kind}:{to}"


class SmsSender:
    """Sends the loop's SMS; however often retried, each message at most once.

    Args:
        engine: The application database (``sms_messages`` and what the texts quote).
        account: The Twilio account the SMS go out on; its public base URL is also where
            the order pages are.
        escalation_to: The admins' numbers escalations go to.
        timezone: The county's time zone, for deadlines in the texts.
        order_link: Signs the code in a resident's link (given the order's public id), which
            opens their order, and only it, without signing in; ``None`` sends the bare link.
        volunteer_link: Signs the code in a volunteer's link to the volunteer page (given
            the order's public id and the volunteer's id), which acts as them on that order
            only; ``None`` sends the bare link.
        signature: What every text starts with (``SMS_SIGNATURE``).
    """

    def __init__(
        self,
        engine: Engine,
        account: TwilioAccount,
        *,
        escalation_to: Sequence[str],
        timezone: str,
        order_link: Callable[[str], str] | None = None,
        volunteer_link: Callable[[str, int], str] | None = None,
        offers: OfferTimeouts | None = None,
        signature: str = DEFAULT_SMS_SIGNATURE,
    ) -> None:
        self._engine = engine
        self._offers = offers
        self._signature = signature
        self._order_link = order_link
        self._volunteer_link = volunteer_link
        self._client = account.client
        self._from = account.from_number
        self._base = account.public_base_url.rstrip("/")
        self._country = account.country_code
        self._admins = list(escalation_to)
        self._zone = ZoneInfo(timezone)

    @activity.defn(name=SEND_SMS)
    def send_sms(self, inp: SmsInput) -> SmsResult:
        """Send the notice to each of its recipients that has not had it yet.

        A refused recipient (unusable number, Twilio says no) is counted and the others still
        get theirs. Messages recorded by an earlier attempt are skipped, whether sent, refused
        or left ``sending`` by an attempt that died mid-request (it may have gone out).

        Raises:
            ApplicationError: ``SMS_IMPOSSIBLE`` (non-retryable) without a Twilio account or
                for an unknown order; a retryable ``TwilioUnavailable`` when Twilio certainly
                did not take a message (those already sent stay sent), and a retryable
                ``TwilioOutcomeUnknown`` when a request may have reached Twilio (that message
                stays ``sending`` and is skipped from then on).
        """
        notice = Notice(inp.notice)
        where = f"order {inp.order_id} {notice.value} sms (seq {inp.seq})"
        if self._client is None or not self._from:
            raise ApplicationError(
                f"{where}: SMS are off (no Twilio account configured)",
                type=SMS_IMPOSSIBLE,
                non_retryable=True,
            )
        with self._engine.connect() as conn:
            facts = self._facts(conn, inp)
            if facts is None:
                raise ApplicationError(
                    f"{where}: the order does not exist", type=SMS_IMPOSSIBLE, non_retryable=True
                )
            recipients = self._recipients(conn, inp, notice)
        body = compose(notice, facts, self._signature)
        result = SmsResult(sent=0, skipped=0, refused=0)
        seen: set[str] = set()
        for recipient in recipients:
            if recipient.phone is None:
                activity.logger.info("%s: no %s to send to", where, recipient.kind)
                result.skipped += 1
                continue
            to = e164(recipient.phone, country_code=self._country)
            if to is None:
                activity.logger.warning(
                    "%s: unusable number %s for %s %s",
                    where,
                    mask_for_log(recipient.phone),
                    recipient.kind,
                    recipient.id,
                )
                result.refused += 1
                continue
            if to in seen:  # the same admin number listed twice
                continue
            seen.add(to)
            if self._opted_out(to):
                activity.logger.info(
                    "%s: %s %s asked for no notices", where, recipient.kind, recipient.id
                )
                result.skipped += 1
                continue
            claimed = self._claim(inp, notice, recipient, to, body)
            if claimed is None:
                result.skipped += 1
                continue
            if self._send(where, *claimed):
                result.sent += 1
            else:
                result.refused += 1
        activity.logger.info(
            "%s: %d sent, %d skipped, %d refused",
            where,
            result.sent,
            result.skipped,
            result.refused,
        )
        return result

    def _opted_out(self, to: str) -> bool:
        """The number replied 退订/STOP (``api/sms_inbox.py``): no notices until 订阅/START."""
        with self._engine.connect() as conn:
            return conn.scalar(select(opt_outs.c.phone).where(opt_outs.c.phone == to)) is not None

    # ---- what the texts say and who gets them -----------------------------------------

    def _facts(self, conn: Connection, inp: SmsInput) -> Facts | None:
        row = conn.execute(
            select(
                orders.c.id,
                orders.c.public_id,
                orders.c.township,
                orders.c.number,
                orders.c.deadline_at,
                orders.c.unit_id,
                orders.c.escalation_level,
                catalog_items.c.name.label("item"),
                villages.c.name.label("village"),
            )
            .join(catalog_items, catalog_items.c.code == orders.c.item_code)
            .outerjoin(villages, villages.c.id == orders.c.village_id)
            .where(orders.c.id == inp.order_id)
        ).one_or_none()
        if row is None:
            return None
        unit_id = inp.unit_id if inp.unit_id is not None else row.unit_id
        unit = (
            conn.scalar(select(units.c.name).where(units.c.id == unit_id))
            if unit_id is not None
            else None
        )
        level = inp.escalation_level
        answer_by = None
        if self._offers is not None and inp.notice in (Notice.DISPATCHED, Notice.TEAM_DISPATCHED):
            offered_at = conn.scalar(
                select(order_events.c.at).where(
                    order_events.c.order_id == inp.order_id, order_events.c.seq == inp.seq
                )
            )
            if offered_at is not None:
                leader = inp.notice is Notice.TEAM_DISPATCHED
                lapses = self._offers.accept_by(offered_at, leader=leader)
                answer_by = lapses.astimezone(self._zone)
        return Facts(
            ref=spoken(row.number),
            item=row.item,
            township=row.township,
            village=row.village,
            deadline=row.deadline_at.astimezone(self._zone),
            link=self._link(row.public_id, inp),
            unit=unit,
            level=level if level is not None else row.escalation_level,
            answer_by=answer_by,
            code=offer_code(row.id),
        )

    def _link(self, public_id: str, inp: SmsInput) -> str:
        """The order's page, for the resident or the volunteer (the leader) the notice is for.

        Each link carries the code that opens the order for its recipient (only them: a
        resident's opens their own order, a volunteer's acts as them on this order only).
        """
        if inp.notice in RESIDENT_NOTICES:
            link = f"{self._base}/orders/{public_id}"
            code = self._order_link(public_id) if self._order_link else None
        else:
            link = f"{self._base}/volunteer/orders/{public_id}"
            volunteer = inp.leader_id if inp.notice is Notice.TEAM_DISPATCHED else inp.volunteer_id
            code = (
                self._volunteer_link(public_id, volunteer)
                if self._volunteer_link and volunteer is not None
                else None
            )
        return f"{link}?t={code}" if code else link

    def _recipients(self, conn: Connection, inp: SmsInput, notice: Notice) -> list[Recipient]:
        if notice in (Notice.DISPATCHED, Notice.WITHDRAWN):
            return [self._volunteer(conn, "volunteer", inp.volunteer_id)]
        if notice is Notice.TEAM_DISPATCHED:
            leader_id = inp.leader_id
            if leader_id is None and inp.unit_id is not None:
                leader_id = conn.scalar(select(units.c.leader_id).where(units.c.id == inp.unit_id))
            return [self._volunteer(conn, "leader", leader_id)]
        if notice in RESIDENT_NOTICES:
            phone = conn.scalar(select(orders.c.resident_phone).where(orders.c.id == inp.order_id))
            return [Recipient("resident", None, phone)]
        if notice is Notice.ESCALATED:
            return [Recipient("admin", None, number) for number in self._admins]
        raise ApplicationError(  # pragma: no cover - every Notice is handled above
            f"unknown notice {notice!r}", type=SMS_IMPOSSIBLE, non_retryable=True
        )

    def _volunteer(self, conn: Connection, kind: str, volunteer_id: int | None) -> Recipient:
        if volunteer_id is None:
            return Recipient(kind, None, None)
        phone = conn.scalar(select(volunteers.c.phone).where(volunteers.c.id == volunteer_id))
        return Recipient(kind, volunteer_id, phone)

    # ---- one message ------------------------------------------------------------------

    def _claim(
        self,
        inp: SmsInput,
        notice: Notice,
        recipient: Recipient,
        to: str,
        body: str,
    ) -> tuple[int, str, str] | None:
        """Record the intent (committed) and return (row id, to, body) to send, or None.

        None: an earlier attempt recorded this message (sent, refused, or maybe sent). A row
        it left in ``retry`` is claimed back and sent to the number it recorded, with this
        attempt's text: the recorded one has its link's code cut.
        """
        key = message_key(inp, recipient, to)
        legacy = legacy_key(inp, recipient, to)
        with self._engine.begin() as conn:
            if legacy is not None:
                # Recorded before keys left the number out: still the same message.
                key = (
                    conn.scalar(select(sms_messages.c.key).where(sms_messages.c.key == legacy))
                    or key
                )
            inserted = conn.execute(
                insert_ignore(conn, sms_messages, ("key",))
                .values(
                    key=key,
                    order_id=inp.order_id,
                    notice=notice.value,
                    recipient_kind=recipient.kind,
                    recipient_id=recipient.id,
                    to_number=to,
                    body=mask_link_codes(body),
                    state=SENDING,
                    created_at=utcnow(),
                    updated_at=utcnow(),
                )
                .returning(sms_messages.c.id)
            ).scalar_one_or_none()
        if inserted is not None:
            return inserted, to, body
        with self._engine.begin() as conn:
            row = conn.execute(
                update(sms_messages)
                .where(sms_messages.c.key == key, sms_messages.c.state == RETRY)
                .values(state=SENDING, body=mask_link_codes(body), updated_at=utcnow())
                .returning(sms_messages.c.id, sms_messages.c.to_number)
            ).one_or_none()
        return (row.id, row.to_number, body) if row is not None else None

    def _send(self, where: str, sms_id: int, to: str, body: str) -> bool:
        """Ask Twilio to send the ``sending`` row ``sms_id``; False if it refused."""
        assert self._client is not None and self._from
        try:
            message = self._client.messages.create(
                to=to,
                from_=self._from,
                body=body,
                status_callback=sms_status_url(self._base, sms_id),
            )
        except Exception as exc:
            failure = classify(exc)
            if failure.verdict is Verdict.REFUSED:
                self._set(sms_id, state=REFUSED, error_code=failure.code)
                activity.logger.warning(
                    "%s: message %s refused: %s", where, sms_id, failure.summary
                )
                return False
            if failure.verdict is Verdict.NOT_CREATED:
                self._set(sms_id, state=RETRY, error_code=failure.code)
                activity.logger.warning(
                    "%s: message %s not sent, will retry: %s", where, sms_id, failure.summary
                )
            else:
                activity.logger.warning(
                    "%s: message %s may or may not be sent: %s", where, sms_id, failure.summary
                )
            raise retry_error(failure, where=where, what="sent") from None
        if not message.sid:  # pragma: no cover - Twilio always answers with the sid
            raise ApplicationError(f"{where}: Twilio answered without a MessageSid")
        now = utcnow()
        with self._engine.begin() as conn:
            conn.execute(
                update(sms_messages)
                .where(sms_messages.c.id == sms_id)
                .values(
                    message_sid=message.sid,
                    sent_at=now,
                    updated_at=now,
                    state=case(
                        (sms_messages.c.state.in_([SENDING, RETRY]), SENT),
                        else_=sms_messages.c.state,
                    ),
                    # A fast delivery callback may have written its status (and error code)
                    # first: keep them. Otherwise clear what an earlier "retry" recorded.
                    delivery_status=func.coalesce(sms_messages.c.delivery_status, message.status),
                    error_code=case(
                        (sms_messages.c.delivery_status.is_(None), None),
                        else_=sms_messages.c.error_code,
                    ),
                )
            )
        return True

    def _set(self, sms_id: int, **values: Any) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                update(sms_messages)
                .where(sms_messages.c.id == sms_id)
                .values(updated_at=utcnow(), **values)
            )
