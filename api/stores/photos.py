"""Photos of the work: which order, who took them, whether the completion named them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from api.media import CleanPhoto
from api.stores.access import OrderRef, Viewer
from api.stores.errors import TOO_MANY_PHOTOS, UNKNOWN_PHOTO, Conflict, Invalid, NotFound
from core.db import utcnow
from core.models import Photo
from core.vocab import OrderStatus
from workflows.errors import INVALID_TRANSITION, NOT_ASSIGNED

# Enough for before, during and after; a completion names at most this many too.
MAX_PER_ORDER = 9


def require_holder(order: OrderRef) -> None:
    """Only the volunteer holding an accepted order adds photos (or checks in, completes)."""
    if order.viewer is not Viewer.HOLDER:
        raise Conflict(NOT_ASSIGNED, "the order is not accepted by you")
    if order.status != OrderStatus.ACCEPTED:
        raise Conflict(
            INVALID_TRANSITION, f"photos are added while accepted; this is {order.status}"
        )


def require_room(session: Session, order: OrderRef) -> None:
    """The order has fewer photos than it may: checked before a photo is processed or stored."""
    count = session.scalar(select(func.count()).where(Photo.order_id == order.id)) or 0
    if count >= MAX_PER_ORDER:
        raise Conflict(TOO_MANY_PHOTOS, f"an order has at most {MAX_PER_ORDER} photos")


def add(
    session: Session, order: OrderRef, volunteer_id: int, photo_id: str, photo: CleanPhoto
) -> None:
    require_room(session, order)  # again: two uploads may have raced for the last place
    session.add(
        Photo(
            id=photo_id,
            order_id=order.id,
            volunteer_id=volunteer_id,
            content_type=photo.content_type,
            size=len(photo.data),
            width=photo.width,
            height=photo.height,
            uploaded_at=utcnow(),
            attached=False,
        )
    )


def content_type(session: Session, order: OrderRef, photo_id: str) -> str:
    """The photo's type, for the owner, the holder and staff; anyone else: ``NotFound``."""
    if order.viewer not in (Viewer.OWNER, Viewer.HOLDER, Viewer.STAFF):
        raise NotFound("photo", photo_id)
    kind = session.scalar(
        select(Photo.content_type).where(Photo.id == photo_id, Photo.order_id == order.id)
    )
    if kind is None:
        raise NotFound("photo", photo_id)
    return kind


def require_own(
    session: Session, order: OrderRef, volunteer_id: int, photo_ids: Sequence[str]
) -> None:
    """Every photo named was uploaded by this volunteer to this order."""
    if not photo_ids:
        return
    known = set(
        session.scalars(
            select(Photo.id).where(
                Photo.id.in_(photo_ids),
                Photo.order_id == order.id,
                Photo.volunteer_id == volunteer_id,
            )
        )
    )
    missing = sorted(set(photo_ids) - known)
    if missing:
        raise Invalid(UNKNOWN_PHOTO, f"unknown photo {missing[0]!r}: upload it to this order first")


def remove(session: Session, order: OrderRef, volunteer_id: int, photo_id: str) -> str:
    """Take back a photo the holder uploaded and the completion has not named: its row goes
    (nobody sees it any more); its type is returned for the files to go too."""
    require_holder(order)
    photo = session.scalar(
        select(Photo).where(
            Photo.id == photo_id,
            Photo.order_id == order.id,
            Photo.volunteer_id == volunteer_id,
            Photo.attached.is_(False),
        )
    )
    if photo is None:
        raise NotFound("photo", photo_id)
    kind = photo.content_type
    session.delete(photo)
    return kind


def attach(session: Session, order: OrderRef, photo_ids: Sequence[str]) -> None:
    if photo_ids:
        session.execute(
            update(Photo)
            .where(Photo.order_id == order.id, Photo.id.in_(photo_ids))
            .values(attached=True)
        )
