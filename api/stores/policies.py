"""Dispatch policies, county-wide (``*``) or per category, for orders submitted from now on."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from api import schemas
from api.stores.errors import NotFound
from core.db import utcnow
from core.models import Category, DispatchPolicyRow
from core.vocab import DispatchPolicy

COUNTY_SCOPE = "*"


def policies(session: Session) -> list[schemas.PolicyOut]:
    rows = session.scalars(select(DispatchPolicyRow).order_by(DispatchPolicyRow.scope))
    return [schemas.PolicyOut.model_validate(r, from_attributes=True) for r in rows]


def set_policy(session: Session, scope: str, policy: DispatchPolicy) -> schemas.PolicyOut:
    """County-wide (``*``) or for one category; applies to orders submitted from now on."""
    if scope != COUNTY_SCOPE and session.get(Category, scope) is None:
        raise NotFound("category", scope)
    row = session.get(DispatchPolicyRow, scope)
    if row is None:
        row = DispatchPolicyRow(scope=scope, policy=policy.value, updated_at=utcnow())
        session.add(row)
    else:
        row.policy = policy.value
        row.updated_at = utcnow()
    session.flush()
    return schemas.PolicyOut.model_validate(row, from_attributes=True)


def policy_for(session: Session, category_code: str) -> DispatchPolicy:
    rows: dict[str, str] = {
        scope: policy
        for scope, policy in session.execute(
            select(DispatchPolicyRow.scope, DispatchPolicyRow.policy).where(
                DispatchPolicyRow.scope.in_([category_code, COUNTY_SCOPE])
            )
        )
    }
    return DispatchPolicy(rows.get(category_code) or rows.get(COUNTY_SCOPE) or "manual")
