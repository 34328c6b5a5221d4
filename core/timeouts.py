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

# The worker's workflow tasks (worker.py). A task is "started", its timeout (10 s) running,
# from the moment a worker takes it. With the SDK's default of 100 at once, a worker just
# (re)started took every waiting order's task and replayed them side by side under the GIL,
# each in a fresh sandbox: the tail ran out of time on a busy machine, and a worker killed
# meanwhile left all of them to time out. Each timeout counts as a failed attempt, and from the
# fourth in a row Temporal adds 5 s, 10 s, 20 s … (up to 10 min) to the next attempt's
# timeout: an order unlucky a few times over stalled for minutes. A few tasks at a time keep
# the worker as busy; the rest wait in the server, where whichever worker polls next takes them.
WORKFLOW_TASK_SLOTS: Final = 8
# A task for an order cached by a worker waits this long for that very worker before any may
# take it (the SDK's default is 10 s). A killed worker never polls again, and its orders' next
# commands waited the whole time; a live worker only ever loses the cache's shortcut.
STICKY_SCHEDULE_TO_START: Final = timedelta(seconds=3)
