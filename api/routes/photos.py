"""Photos of the work: the volunteer holding an order adds them; its people look at them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Response, UploadFile, status
from starlette.concurrency import run_in_threadpool

from api import media, schemas
from api.auth import VisibleOrder, VolunteerActor
from api.deps import DatabaseDep, DecodingDep, MediaDep, SettingsDep
from api.errors import PHOTO_TOO_LARGE, ApiError
from api.params import PhotoId
from api.stores import photos, volunteers
from api.stores.order_view import photo_urls

router = APIRouter(prefix="/api", tags=["volunteer"], responses=schemas.ERRORS)


@router.post(
    "/orders/{order_id}/photos",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.PhotoOut,
    responses={413: {"model": schemas.ErrorOut}, 422: {"model": schemas.ErrorOut}},
)
async def upload_photo(
    actor: VolunteerActor,
    order: VisibleOrder,
    file: Annotated[UploadFile, File()],
    db: DatabaseDep,
    store: MediaDep,
    decoding: DecodingDep,
    settings: SettingsDep,
) -> schemas.PhotoOut:
    """Add a photo of the work (JPEG, PNG or WebP, up to 5 MB) while you hold the order.

    Its metadata (GPS position, phone, time) is removed; a thumbnail is made.
    """
    me = volunteers.me(actor)
    photos.require_holder(order)
    await db.run(photos.require_room, order)
    data = await file.read(settings.photo_max_bytes + 1)
    if len(data) > settings.photo_max_bytes:
        raise ApiError(413, PHOTO_TOO_LARGE, f"a photo is at most {settings.photo_max_bytes} bytes")
    clean = await decoding.clean(data)
    photo_id = media.new_photo_id()
    await run_in_threadpool(store.save, order.public_id, photo_id, clean)
    await db.run(photos.add, order, me, photo_id, clean)
    url, thumbnail = photo_urls(order.public_id, photo_id)
    return schemas.PhotoOut(photo_id=photo_id, url=url, thumbnail_url=thumbnail)


@router.delete("/orders/{order_id}/photos/{photo_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_photo(
    actor: VolunteerActor, order: VisibleOrder, photo_id: PhotoId, db: DatabaseDep, store: MediaDep
) -> Response:
    """Take back a photo you uploaded before completing (a wrong shot): nobody sees it again.

    While you hold the accepted order; a photo the completion named stays (404).
    """
    kind = await db.run(photos.remove, order, volunteers.me(actor), photo_id)
    await run_in_threadpool(store.remove, order.public_id, photo_id, kind)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def _serve(
    order: VisibleOrder, photo_id: str, db: DatabaseDep, store: MediaDep, *, thumbnail: bool
) -> Response:
    kind = await db.run(photos.content_type, order, photo_id)
    data = await run_in_threadpool(store.read, order.public_id, photo_id, kind, thumbnail=thumbnail)
    return Response(data, media_type=kind, headers={"Cache-Control": "private, max-age=86400"})


_IMAGE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}}
}


@router.get("/orders/{order_id}/photos/{photo_id}", response_class=Response, responses=_IMAGE)
async def get_photo(
    order: VisibleOrder, photo_id: PhotoId, db: DatabaseDep, store: MediaDep
) -> Response:
    """A photo of the work: for the resident, the volunteer holding the order, and staff."""
    return await _serve(order, photo_id, db, store, thumbnail=False)


@router.get(
    "/orders/{order_id}/photos/{photo_id}/thumbnail", response_class=Response, responses=_IMAGE
)
async def get_thumbnail(
    order: VisibleOrder, photo_id: PhotoId, db: DatabaseDep, store: MediaDep
) -> Response:
    """The photo's thumbnail (at most 320 px a side), for the same people."""
    return await _serve(order, photo_id, db, store, thumbnail=True)
