"""How long one attempt of a database activity may take, and what the API must wait for it.

A worker killed mid-attempt is noticed only when the attempt's ``start_to_close`` runs
out: with 30 s (the API's whole ``COMMAND_TIMEOUT``) a command answered 504 and applied
later. A transition's writes take milliseconds, so an attempt gets a few seconds, and the
API waits long enough for two lost attempts and their retries.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

DATABASE_ATTEMPT: Final = timedelta(seconds=10)
DATABASE_FIRST_RETRY: Final = timedelta(seconds=1)
MIN_COMMAND_TIMEOUT: Final = 2 * (DATABASE_ATTEMPT + DATABASE_FIRST_RETRY)
