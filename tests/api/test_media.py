"""Photos of the work: what ``api.media`` accepts, what it keeps, and both stores.

The bucket store runs against moto's S3-compatible server (from PyPI), started here on a
free local port: the same calls MinIO answers in the compose file.
"""

from __future__ import annotations

import asyncio
import io
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer
from PIL import Image

from api.media import BucketStore, Decoding, FolderStore, MediaStore, clean, media_store
from api.stores.errors import Invalid
from core.settings import Settings
from tests.integration.test_apps_api import photo_bytes

ORDER, PHOTO = "k3v9q2m7x8p4w1z6", "ph_0123456789abcdef"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def s3_url() -> Iterator[str]:
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}/photos"
    finally:
        server.stop()


@pytest.mark.parametrize("kind", ["JPEG", "PNG", "WEBP"])
def test_a_photo_is_re_encoded_without_its_metadata_and_thumbnailed(kind: str) -> None:
    original = photo_bytes(kind, (1000, 500))
    assert b"PhoneMaker" in original
    photo = clean(original)
    assert photo.content_type == f"image/{kind.lower()}"
    assert b"PhoneMaker" not in photo.data and b"PhoneMaker" not in photo.thumbnail
    with Image.open(io.BytesIO(photo.data)) as img:
        assert (img.format, img.size, dict(img.getexif())) == (kind, (1000, 500), {})
    with Image.open(io.BytesIO(photo.thumbnail)) as img:
        assert img.size == (320, 160)


def test_a_sideways_phone_photo_is_turned_upright_before_its_orientation_goes() -> None:
    img = Image.new("RGB", (400, 200), (10, 20, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to view
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif)
    with Image.open(io.BytesIO(clean(out.getvalue()).data)) as upright:
        assert upright.size == (200, 400)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"GIF89a" + b"\0" * 64,
        b"%PDF-1.7 not a photo",
        b"\xff\xd8\xff" + b"\0" * 64,  # a JPEG's start, and nothing a decoder can read
        b"RIFF\0\0\0\0WEBP" + b"\0" * 16,
    ],
)
def test_anything_but_a_readable_jpeg_png_or_webp_is_refused(data: bytes) -> None:
    with pytest.raises(Invalid) as refused:
        clean(data)
    assert refused.value.code == "UnsupportedPhoto"


def _png(mode: str, size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, format="PNG")  # one colour: compresses to almost nothing
    return out.getvalue()


# Pillow warns on opening the largest; the header refuses each before anything is decoded.
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize(
    ("mode", "size"),
    [
        ("1", (10_000, 10_000)),  # 100 Mpx
        ("RGBA", (8000, 7400)),  # 59 Mpx in 230 KB: 1.15 GB and 4 s to decode
        ("L", (5100, 5000)),  # 25.5 Mpx, one byte each: just over the pixels
        ("RGBA", (4500, 4500)),  # 20 Mpx, under the pixels, but 81 MB with its alpha
        ("RGB", (20_000, 20_000)),  # Pillow's own guard refuses this at open
    ],
)
def test_a_photo_with_more_pixels_than_a_phone_takes_is_refused_before_decoding(
    mode: str, size: tuple[int, int]
) -> None:
    data = _png(mode, size)
    assert len(data) < 2_000_000
    # The header and the first bytes of pixel data alone: decoding them would fail as
    # unreadable, so a refusal for their pixels is one made before any decoding.
    header = data[: data.index(b"IDAT") + 20]
    for sent in (data, header):
        with pytest.raises(Invalid) as refused:
            clean(sent)
        assert refused.value.code == "PhotoTooManyPixels"


def test_a_photo_cut_short_is_unreadable() -> None:
    data = _png("RGB", (100, 100))
    with pytest.raises(Invalid) as refused:
        clean(data[: data.index(b"IDAT") + 20])
    assert refused.value.code == "UnsupportedPhoto"


def test_a_phone_sized_photo_still_goes_through() -> None:
    photo = clean(_png("RGB", (5000, 5000)))  # 25 Mpx, 75 MB decoded: the most allowed
    assert (photo.width, photo.height) == (5000, 5000)


async def test_photos_are_decoded_a_few_at_a_time() -> None:
    decoding = Decoding(at_once=1)
    done: list[str] = []

    async def clean_one(name: str, data: bytes) -> None:
        await decoding.clean(data)
        done.append(name)

    # The small one would finish first beside the large; with one slot it waits its turn.
    big, small = _png("RGB", (4000, 4000)), photo_bytes("PNG", (10, 10))
    await asyncio.gather(clean_one("big", big), clean_one("small", small))
    assert done == ["big", "small"]


def _round_trip(store: MediaStore) -> None:
    photo = clean(photo_bytes())
    store.save(ORDER, PHOTO, photo)
    for thumbnail, data in ((False, photo.data), (True, photo.thumbnail)):
        kept = store.read(ORDER, PHOTO, "image/jpeg", thumbnail=thumbnail)
        assert kept == data


def test_the_folder_store_keeps_both_files(tmp_path: Path) -> None:
    store = media_store(Settings(environment="test", media_dir=tmp_path))
    assert isinstance(store, FolderStore)
    _round_trip(store)
    assert sorted(p.name for p in (tmp_path / "k3v9q2m7x8p4w1z6").iterdir()) == [
        "ph_0123456789abcdef.jpg",
        "ph_0123456789abcdef.thumb.jpg",
    ]


def test_the_bucket_store_keeps_both_objects(s3_url: str) -> None:
    settings = Settings(
        environment="test",
        object_store_url=s3_url,
        object_store_access_key="test-key",
        object_store_secret_key="test-secret",  # type: ignore[arg-type]
    )
    store = media_store(settings)
    assert isinstance(store, BucketStore)
    store.ensure_bucket()
    store.ensure_bucket()  # once made, it stays
    _round_trip(store)


def test_an_object_store_needs_its_keys() -> None:
    with pytest.raises(ValueError, match="OBJECT_STORE_ACCESS_KEY"):
        Settings(environment="test", object_store_url="http://127.0.0.1:9000/photos")
