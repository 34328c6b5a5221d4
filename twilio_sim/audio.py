"""The audio a simulated recording serves: silence of the recording's length.

Twilio serves a recording's media as WAV (the default) or MP3. Both are made here from
nothing but the standard library, so an application that downloads, stores or transcodes a
recording handles real, decodable files of the right duration.
"""

from __future__ import annotations

import io
import wave

WAV_RATE = 8000  # Hz: telephone audio, as Twilio records it

# One MPEG-1 Layer III frame, mono, 32 kbit/s at 32 kHz, no CRC: 1152 samples in 144 bytes.
# With all-zero side information every granule decodes to silence.
_MP3_HEADER = bytes([0xFF, 0xFB, 0x18, 0xC0])
_MP3_FRAME = _MP3_HEADER + bytes(144 - len(_MP3_HEADER))
_MP3_FRAME_SECONDS = 1152 / 32000


def silent_wav(seconds: int) -> bytes:
    """A 16-bit mono PCM WAV file of ``seconds`` of silence."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(WAV_RATE)
        out.writeframes(bytes(2 * WAV_RATE * max(0, seconds)))
    return buffer.getvalue()


def silent_mp3(seconds: int) -> bytes:
    """An MP3 stream of ``seconds`` of silence (whole frames, rounded up)."""
    frames = -(-max(0, seconds) * 1000 // round(_MP3_FRAME_SECONDS * 1000))
    return _MP3_FRAME * max(1, frames)
