"""Volunteers' photos of the work: checked, cleaned and stored.

A photo is accepted by what its bytes are (JPEG, PNG or WebP, as Pillow reads them), never
by its name or declared type. It is re-encoded, which drops EXIF (GPS position, the phone's
make, the time), after turning it upright by its EXIF orientation, and a thumbnail is made.
The files live in the media folder under the order's public id, or in an S3-compatible
bucket (MinIO, …) when ``OBJECT_STORE_URL`` is set, under the same keys.
"""

from __future__ import annotations

import asyncio
import io
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from minio import Minio
from PIL import Image, ImageMode, ImageOps, UnidentifiedImageError
from starlette.concurrency import run_in_threadpool

from api.stores.errors import PHOTO_TOO_MANY_PIXELS, UNSUPPORTED_PHOTO, Invalid
from core.settings import Settings

THUMBNAIL_PX = 320
# A phone's photo is 12-24 Mpx (a 200 Mpx sensor saves 12 by default). A few hundred KB of
# PNG can declare far more, and decoding it is what costs: 8000x7400 RGBA took 1.15 GB and
# 4 s. Both limits are read from the header, before a pixel is decoded.
MAX_PIXELS = 25_000_000
# What the decoded pixels may weigh, by the mode's own sample size: a 25 Mpx RGB photo (3
# bytes a pixel) fits; with alpha, or 16 bits a sample, fewer pixels do. Pillow keeps up to
# 4 bytes a pixel, and the upright copy and the thumbnail's source about double that.
MAX_DECODED_BYTES = 75_000_000
_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
# The first bytes of each accepted format: anything else is refused before Pillow parses it.
_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")


@dataclass(frozen=True)
class CleanPhoto:
    content_type: str
    data: bytes
    thumbnail: bytes
    width: int
    height: int


def new_photo_id() -> str:
    return f"ph_{secrets.token_hex(8)}"


def _sniffed(data: bytes) -> bool:
    return data.startswith(_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")


def clean(data: bytes) -> CleanPhoto:
    """The photo re-encoded without metadata, and its thumbnail; ``Invalid`` if not a photo."""
    if not _sniffed(data):
        raise Invalid(UNSUPPORTED_PHOTO, "send a JPEG, PNG or WebP photo")
    try:
        with Image.open(io.BytesIO(data)) as img:
            kind = img.format or ""
            if kind not in _FORMATS:
                raise Invalid(UNSUPPORTED_PHOTO, "send a JPEG, PNG or WebP photo")
            _require_decodable(img)
            upright = ImageOps.exif_transpose(img)
            upright.load()
    except Image.DecompressionBombError as exc:  # Pillow's own guard, at twice its limit
        raise Invalid(PHOTO_TOO_MANY_PIXELS, "the photo declares too many pixels") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise Invalid(UNSUPPORTED_PHOTO, "the photo cannot be read") from exc
    if kind == "JPEG" and upright.mode not in ("RGB", "L"):
        upright = upright.convert("RGB")
    thumb = upright.copy()
    thumb.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
    return CleanPhoto(
        content_type=_FORMATS[kind],
        data=_encode(upright, kind),
        thumbnail=_encode(thumb, kind),
        width=upright.width,
        height=upright.height,
    )


def _require_decodable(img: Image.Image) -> None:
    pixels = img.width * img.height
    mode = ImageMode.getmode(img.mode)  # its typestr ends in a sample's bytes: "|u1", "<u2"
    if pixels > MAX_PIXELS or pixels * len(mode.bands) * int(mode.typestr[-1]) > MAX_DECODED_BYTES:
        raise Invalid(
            PHOTO_TOO_MANY_PIXELS,
            f"a photo is at most {MAX_PIXELS // 1_000_000} Mpx; this one is "
            f"{img.width}x{img.height} {img.mode}",
        )


class Decoding:
    """Photos cleaned in the thread pool, at most ``at_once`` together: each may hold a few
    hundred MB while it decodes, so a burst of uploads waits instead of exhausting memory."""

    def __init__(self, at_once: int) -> None:
        self._slots = asyncio.Semaphore(at_once)

    async def clean(self, data: bytes) -> CleanPhoto:
        async with self._slots:
            return await run_in_threadpool(clean, data)


def _encode(img: Image.Image, kind: str) -> bytes:
    out = io.BytesIO()
    # No ``exif=``/``icc_profile=`` passed: Pillow writes none, so nothing of the original's
    # metadata survives.
    options = {"quality": 85} if kind in ("JPEG", "WEBP") else {"optimize": True}
    img.save(out, format=kind, **options)
    return out.getvalue()


def _key(order: str, photo_id: str, content_type: str, *, thumbnail: bool) -> str:
    suffix = ".thumb" if thumbnail else ""
    return f"{order}/{photo_id}{suffix}.{_EXTENSIONS[content_type]}"


class MediaStore(Protocol):
    """Where photos live: ``<order public id>/<photo id>[.thumb].<ext>``."""

    def save(self, order: str, photo_id: str, photo: CleanPhoto) -> None: ...

    def read(self, order: str, photo_id: str, content_type: str, *, thumbnail: bool) -> bytes: ...

    def remove(self, order: str, photo_id: str, content_type: str) -> None: ...


@dataclass(frozen=True)
class FolderStore:
    """Photos in a local folder (the default: ``MEDIA_DIR``)."""

    root: Path

    def save(self, order: str, photo_id: str, photo: CleanPhoto) -> None:
        for thumbnail, data in ((False, photo.data), (True, photo.thumbnail)):
            path = self.root / _key(order, photo_id, photo.content_type, thumbnail=thumbnail)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)

    def read(self, order: str, photo_id: str, content_type: str, *, thumbnail: bool) -> bytes:
        return (self.root / _key(order, photo_id, content_type, thumbnail=thumbnail)).read_bytes()

    def remove(self, order: str, photo_id: str, content_type: str) -> None:
        for thumbnail in (False, True):
            (self.root / _key(order, photo_id, content_type, thumbnail=thumbnail)).unlink(
                missing_ok=True
            )


class BucketStore:
    """Photos in an S3-compatible bucket: ``OBJECT_STORE_URL`` = ``http(s)://host[:port]/bucket``."""

    def __init__(self, url: str, *, access_key: str, secret_key: str, region: str) -> None:
        parts = urlsplit(url)
        self._bucket = parts.path.strip("/")
        self._client = Minio(
            parts.netloc,
            access_key=access_key,
            secret_key=secret_key,
            secure=parts.scheme == "https",
            region=region,
        )

    def ensure_bucket(self) -> None:
        if not self._client.bucket_exists(self._bucket):
            self._client.make_bucket(self._bucket)

    def save(self, order: str, photo_id: str, photo: CleanPhoto) -> None:
        for thumbnail, data in ((False, photo.data), (True, photo.thumbnail)):
            self._client.put_object(
                self._bucket,
                _key(order, photo_id, photo.content_type, thumbnail=thumbnail),
                io.BytesIO(data),
                len(data),
                content_type=photo.content_type,
            )

    def read(self, order: str, photo_id: str, content_type: str, *, thumbnail: bool) -> bytes:
        key = _key(order, photo_id, content_type, thumbnail=thumbnail)
        response = self._client.get_object(self._bucket, key)
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    def remove(self, order: str, photo_id: str, content_type: str) -> None:
        for thumbnail in (False, True):
            key = _key(order, photo_id, content_type, thumbnail=thumbnail)
            self._client.remove_object(self._bucket, key)


def media_store(settings: Settings) -> MediaStore:
    """The bucket when ``OBJECT_STORE_URL`` is set, else the folder."""
    if settings.object_store_url is None:
        return FolderStore(settings.media_dir)
    assert settings.object_store_access_key is not None  # the settings require both keys
    assert settings.object_store_secret_key is not None
    return BucketStore(
        settings.object_store_url,
        access_key=settings.object_store_access_key,
        secret_key=settings.object_store_secret_key.get_secret_value(),
        region=settings.object_store_region,
    )
