"""The recognition workflow: honour rolls (评先选优) per month and year.

- ``messages.py``: the figures and roll entries its activities carry;
- ``ranking.py``: periods and the ranking, pure;
- ``workflow.py``: ``RecognitionWorkflow``, the thin Temporal shell;
- ``schedules.py``: the Temporal Schedules that start it, created idempotently, and backfill.
"""
