"""Volunteers' photos of the work: checked, cleaned and stored (issue 12).

A photo is accepted by what its bytes are (JPEG, PNG or WebP, as Pillow reads them), never
by its name or declared type. It is re-encoded, which drops EXIF (GPS position, the phone's
make, the time), after turning it upright by its EXIF orientation, and a thumbnail is made.
The files live in the media folder under the order's public id.
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from api.stores.errors import Invalid

UNSUPPORTED_PHOTO = "UnsupportedPhoto"
THUMBNAIL_PX = 320
# Pillow's default guard is ~89 Mpx (a warning); a phone photo is under 50 Mpx. Bigger is
# a decompression bomb, refused outright.
MAX_PIXELS = 60_000_000
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
            if img.width * img.height > MAX_PIXELS:
                raise Invalid(UNSUPPORTED_PHOTO, "the photo has too many pixels")
            upright = ImageOps.exif_transpose(img)
            upright.load()
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
    ) as exc:
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


def _encode(img: Image.Image, kind: str) -> bytes:
    out = io.BytesIO()
    # No ``exif=``/``icc_profile=`` passed: Pillow writes none, so nothing of the original's
    # metadata survives.
    options = {"quality": 85} if kind in ("JPEG", "WEBP") else {"optimize": True}
    img.save(out, format=kind, **options)
    return out.getvalue()


@dataclass(frozen=True)
class MediaStore:
    """Photos in a folder: ``<root>/<order public id>/<photo id>[.thumb].<ext>``."""

    root: Path

    def _path(self, order: str, photo_id: str, content_type: str, *, thumbnail: bool) -> Path:
        suffix = ".thumb" if thumbnail else ""
        return self.root / order / f"{photo_id}{suffix}.{_EXTENSIONS[content_type]}"

    def save(self, order: str, photo_id: str, photo: CleanPhoto) -> None:
        folder = self.root / order
        folder.mkdir(parents=True, exist_ok=True)
        self._path(order, photo_id, photo.content_type, thumbnail=False).write_bytes(photo.data)
        self._path(order, photo_id, photo.content_type, thumbnail=True).write_bytes(photo.thumbnail)

    def read(self, order: str, photo_id: str, content_type: str, *, thumbnail: bool) -> bytes:
        return self._path(order, photo_id, content_type, thumbnail=thumbnail).read_bytes()
