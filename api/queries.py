"""Kept while ``tests/activities/test_database.py`` imports it; the stores are ``api.stores``."""

from api.stores.orders import create_order

__all__ = ["create_order"]
