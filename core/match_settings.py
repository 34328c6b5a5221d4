"""What ranking needs besides the database: weights, radius and the county's clock.

Apart from ``core/matching.py`` (which is SQL) so that settings can build it without
importing the ORM.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Weights:
    """How much each part counts; configuration (``MATCH_WEIGHT_*``)."""

    proximity: float = 0.35
    skill: float = 0.30
    trade: float = 0.15
    fit: float = 0.20


@dataclass(frozen=True, kw_only=True)
class Matching:
    """Everything ranking needs besides the database: weights, radius and local time."""

    weights: Weights = Weights()
    radius_km: float = 30.0
    timezone: str = "Asia/Shanghai"
