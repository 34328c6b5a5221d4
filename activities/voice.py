"""The automated follow-up call (回访): placed through Twilio at most once per attempt."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Connection, Engine, Row, Table, case, func, select, update
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.contracts import CALL_IMPOSSIBLE, PLACE_CALL, PlaceCallInput, PlaceCallResult
from core.db import insert_ignore, utcnow
from core.models import FollowUpCall, Order
from core.phones import e164, mask_for_log
from core.twilio import TwilioAccount
from core.twilio_errors import Verdict, classify, retry_error
from core.webhooks import call_status_url, call_voice_url

follow_up_calls = cast(Table, FollowUpCall.__table__)
orders = cast(Table, Order.__table__)

# States of a follow_up_calls row as this activity moves it (the workflow later sets ``ended``).
PLACING = "placing"  # intent committed, Twilio being asked: the call may exist
PLACED = "placed"  # Twilio answered with a CallSid
REFUSED = "refused"  # Twilio said no for good: nothing rings
RETRY = "retry"  # Twilio certainly did not create it; the next attempt asks again

# How long the resident's phone rings before the call counts as not answered.
RING_SECONDS = 30


class FollowUpCaller:
    """Places the automated follow-up calls; however often retried, each call at most once.

    Args:
        engine: The application database (``follow_up_calls``, ``orders``).
        account: The Twilio account the calls go out on (``core.twilio.TwilioAccount``).
    """

    def __init__(self, engine: Engine, account: TwilioAccount) -> None:
        self._engine = engine
        self._client = account.client
        self._from = account.from_number
        self._base = account.public_base_url
        self._country = account.country_code

    @activity.defn(name=PLACE_CALL)
    def place_follow_up_call(self, inp: PlaceCallInput) -> PlaceCallResult:
        """Record the intent, then ask Twilio for the call; see the states above.

        Returns the row id (which the call's webhook URLs carry) and the ``CallSid``, or
        ``None`` for it when an earlier attempt may have placed the call already.

        Raises:
            ApplicationError: ``CALL_IMPOSSIBLE`` (non-retryable) when nothing can ring: no
                Twilio account, no usable number, or Twilio refuses the call; a retryable
                ``TwilioUnavailable`` when Twilio certainly did not create it, and a retryable
                ``TwilioOutcomeUnknown`` when the request may have reached Twilio (the row
                stays ``placing``: the next attempt returns without asking again).
        """
        where = f"order {inp.order_id} call {inp.attempt}"
        with self._engine.connect() as conn:
            row = self._row(conn, inp)
        if row is not None:
            return self._resume(row, where)
        self._require_account(where)
        to = self._resident_number(inp, where)
        call_id = self._record_intent(inp, to)
        if call_id is None:
            # Another attempt recorded it between our read and our insert: it decides.
            with self._engine.connect() as conn:
                row = self._row(conn, inp)
            assert row is not None
            return self._resume(row, where)
        return self._place(call_id, to, where)

    # ---- the intent row ---------------------------------------------------------------

    def _row(self, conn: Connection, inp: PlaceCallInput) -> Row[Any] | None:
        return conn.execute(
            select(follow_up_calls).where(
                follow_up_calls.c.order_id == inp.order_id,
                follow_up_calls.c.attempt == inp.attempt,
            )
        ).one_or_none()

    def _resume(self, row: Row[Any], where: str) -> PlaceCallResult:
        """Carry on from a row an earlier (or concurrent) attempt recorded."""
        if row.call_sid is not None:
            return PlaceCallResult(call_id=row.id, call_sid=row.call_sid)
        if row.state == REFUSED:
            raise ApplicationError(
                f"{where}: Twilio refused the call (error {row.error_code})",
                type=CALL_IMPOSSIBLE,
                non_retryable=True,
            )
        if row.state == RETRY:
            self._require_account(where)
            if self._claim_retry(row.id):
                return self._place(row.id, row.to_number, where)
            # Another attempt claimed it first: what it did decides.
            with self._engine.connect() as conn:
                again = conn.execute(
                    select(follow_up_calls).where(follow_up_calls.c.id == row.id)
                ).one()
            return self._resume(again, where)
        # placing: an earlier attempt died or timed out while asking Twilio, so the call may
        # exist. Never ask again; if it exists its webhooks (naming the row id) will report.
        activity.logger.warning(
            "%s: an earlier attempt may have placed it (row %s is %s); not asking again",
            where,
            row.id,
            row.state,
        )
        return PlaceCallResult(call_id=row.id, call_sid=None)

    def _require_account(self, where: str) -> None:
        if self._client is None or not self._from:
            raise ApplicationError(
                f"{where}: automated calls are off (no Twilio account configured)",
                type=CALL_IMPOSSIBLE,
                non_retryable=True,
            )

    def _resident_number(self, inp: PlaceCallInput, where: str) -> str:
        with self._engine.connect() as conn:
            phone = conn.scalar(select(orders.c.resident_phone).where(orders.c.id == inp.order_id))
        if phone is None:
            raise ApplicationError(
                f"{where}: the order does not exist", type=CALL_IMPOSSIBLE, non_retryable=True
            )
        to = e164(phone, country_code=self._country)
        if to is None:
            activity.logger.warning("%s: unusable resident number %s", where, mask_for_log(phone))
            raise ApplicationError(
                f"{where}: the resident's number cannot be dialled (not convertible to E.164)",
                type=CALL_IMPOSSIBLE,
                non_retryable=True,
            )
        return to

    def _record_intent(self, inp: PlaceCallInput, to: str) -> int | None:
        """Insert the ``placing`` row and commit; its id, or None if it existed already."""
        with self._engine.begin() as conn:
            inserted: int | None = conn.execute(
                insert_ignore(conn, follow_up_calls, ("order_id", "attempt"))
                .values(
                    order_id=inp.order_id,
                    follow_up_id=inp.follow_up_id,
                    attempt=inp.attempt,
                    state=PLACING,
                    to_number=to,
                    created_at=utcnow(),
                    confirm_rating=inp.confirm_rating.value if inp.confirm_rating else None,
                )
                .returning(follow_up_calls.c.id)
            ).scalar_one_or_none()
        return inserted

    def _claim_retry(self, call_id: int) -> bool:
        """Move a ``retry`` row back to ``placing`` (committed); False if another attempt did."""
        with self._engine.begin() as conn:
            moved = conn.execute(
                update(follow_up_calls)
                .where(follow_up_calls.c.id == call_id, follow_up_calls.c.state == RETRY)
                .values(state=PLACING)
            )
        return bool(moved.rowcount)

    # ---- asking Twilio ----------------------------------------------------------------

    def _place(self, call_id: int, to: str, where: str) -> PlaceCallResult:
        """Ask Twilio for the call of the ``placing`` row ``call_id`` this attempt owns."""
        assert self._client is not None and self._from
        try:
            call = self._client.calls.create(
                to=to,
                from_=self._from,
                url=call_voice_url(self._base, call_id),
                method="POST",
                status_callback=call_status_url(self._base, call_id),
                status_callback_method="POST",
                machine_detection="Enable",
                timeout=RING_SECONDS,
            )
        except Exception as exc:
            failure = classify(exc)
            if failure.verdict is Verdict.REFUSED:
                self._set(call_id, state=REFUSED, error_code=failure.code)
                activity.logger.warning("%s refused: %s", where, failure.summary)
                raise ApplicationError(
                    f"{where}: Twilio refused the call: {failure.summary}",
                    type=CALL_IMPOSSIBLE,
                    non_retryable=True,
                ) from None
            if failure.verdict is Verdict.NOT_CREATED:
                self._set(call_id, state=RETRY, error_code=failure.code)
                activity.logger.warning("%s not placed, will retry: %s", where, failure.summary)
            else:
                # The call may exist: the row stays placing, and the next attempt will not ask.
                activity.logger.warning("%s may or may not be placed: %s", where, failure.summary)
            raise retry_error(failure, where=where, what="placed") from None
        sid = call.sid
        if not sid:  # pragma: no cover - Twilio always answers a created call with its sid
            raise ApplicationError(f"{where}: Twilio answered without a CallSid")
        with self._engine.begin() as conn:
            conn.execute(
                update(follow_up_calls)
                .where(follow_up_calls.c.id == call_id)
                .values(
                    call_sid=sid,
                    placed_at=utcnow(),
                    # The status callback may have been recorded already (a fast call): keep
                    # what it wrote rather than going back to "queued".
                    state=case(
                        (follow_up_calls.c.state.in_([PLACING, RETRY]), PLACED),
                        else_=follow_up_calls.c.state,
                    ),
                    call_status=func.coalesce(follow_up_calls.c.call_status, call.status),
                    error_code=None,
                )
            )
        activity.logger.info("%s placed as row %s", where, call_id)
        return PlaceCallResult(call_id=call_id, call_sid=sid)

    def _set(self, call_id: int, **values: Any) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                update(follow_up_calls).where(follow_up_calls.c.id == call_id).values(**values)
            )
