"""What every store does with rows: count a list's before its page is cut, make a body of one."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

M = TypeVar("M", bound=BaseModel)


def total_rows(session: Session, query: Select[*tuple[Any, ...]]) -> int:
    """How many rows a list query matches, before its page is cut."""
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


def from_row(model: type[M], row: object, **fields: Any) -> M:
    """``model`` from ``row``'s attributes of the same names; ``fields`` give or replace some."""
    return model.model_validate(
        {
            name: fields[name] if name in fields else getattr(row, name)
            for name in model.model_fields
        }
    )
