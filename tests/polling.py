"""The one way tests wait for a system that acts on its own (timers, workers, webhooks)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]],
    check: Callable[[T], bool],
    *,
    what: str,
    within: float = 30.0,
    pause: float = 0.025,
) -> T:
    """Poll ``probe`` until ``check`` holds; the value that passed.

    ``within`` is generous on purpose: a busy machine is slow, never wrong, and a test
    that waits for what must happen should fail only when it does not happen.
    """
    deadline = time.monotonic() + within
    value = await probe()
    while not check(value):
        if time.monotonic() > deadline:
            raise AssertionError(f"never saw {what} within {within:.0f} s; last {value!r}")
        await asyncio.sleep(pause)
        value = await probe()
    return value
