"""Call-center agents as the follow-up queue knows them: a staff account's id."""

from __future__ import annotations

from api.stores.errors import Forbidden
from core.security import Principal


def me(principal: Principal) -> int:
    """The signed-in agent's id (claims and results are theirs, never a body's)."""
    if principal.staff_id is None:
        raise Forbidden("sign in with a call-center account")
    return principal.staff_id
