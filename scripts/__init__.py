"""What the make targets run (``make run``: run.py; ``make test``: test_env.py)."""
