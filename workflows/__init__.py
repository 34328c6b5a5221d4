"""Temporal workflows: one module per workflow, its messages beside it."""
