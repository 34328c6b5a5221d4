"""Who may call what: the signed-in principal, from a verified token, as route dependencies.

Identity always comes from the ``Authorization: Bearer`` token (``core.security``), never
from a request body. A route declares what it needs by the type of one parameter:

- ``Actor``: anyone signed in (including an order link from our SMS);
- ``ResidentActor``, ``VolunteerActor``, ``LeaderActor``: residents signed in by SMS code,
  volunteers among them, and unit leaders among those;
- ``AgentActor``, ``AdminActor``, ``StaffActor``: call-center agents, admins, either.

Without a token: 401. With a token lacking the role: 403. What belongs to someone else reads
as 404, decided by the stores (``api/stores/access.py``), so existence never leaks.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from api.database import Database
from api.params import OrderId
from api.stores import accounts
from api.stores.access import OrderRef, Viewer, resolve, resolve_offered
from api.stores.errors import INVALID_TOKEN, NOT_SIGNED_IN, Forbidden, Unauthorized
from core.logs import bind_order
from core.security import InvalidToken, Principal, read_token
from core.settings import Settings
from core.vocab import Role

# The OAuth2 password flow at /api/auth/token is what /docs' "Authorize" button uses; the
# same bearer tokens come from the SMS-code sign-in.
_bearer = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


async def _maybe_principal(
    request: Request, token: Annotated[str | None, Depends(_bearer)]
) -> Principal | None:
    if not token:
        return None
    settings: Settings = request.app.state.settings
    try:
        principal = read_token(token, secret=settings.signing_secret)
    except InvalidToken as exc:
        raise Unauthorized(INVALID_TOKEN, "the token is invalid or has expired") from exc
    if accounts.rechecked(principal):
        current = await _standings(request).current(
            request.app.state.database, principal, settings.principal_refresh.total_seconds()
        )
        if current is None:
            raise Unauthorized(INVALID_TOKEN, "the account is disabled")
        principal = current
    request.state.principal = principal  # for the access log and the audit trail
    return principal


class Standings:
    """Tokens' principals as their accounts stand now, each re-read at most every
    ``PRINCIPAL_REFRESH`` (a primary-key read or two): disabling an account or a volunteer
    takes effect within that on every replica, not when the token expires."""

    # Past this many principals, those not re-read within the refresh are forgotten.
    LIMIT = 10_000

    def __init__(self) -> None:
        self._seen: dict[Principal, tuple[float, Principal | None]] = {}

    async def current(self, db: Database, principal: Principal, refresh: float) -> Principal | None:
        now = time.monotonic()
        seen = self._seen.get(principal)
        if seen is not None and now - seen[0] < refresh:
            return seen[1]
        current = await db.run(accounts.current_principal, principal)
        if len(self._seen) >= self.LIMIT:
            self._seen = {p: s for p, s in self._seen.items() if now - s[0] < refresh}
        self._seen[principal] = (now, current)
        return current


def _standings(request: Request) -> Standings:
    # Made on first use (tests may skip the lifespan); on the event loop, so only once.
    standings: Standings | None = getattr(request.app.state, "standings", None)
    if standings is None:
        standings = request.app.state.standings = Standings()
    return standings


MaybeActor = Annotated[Principal | None, Depends(_maybe_principal)]


async def _signed_in(principal: MaybeActor, request: Request) -> Principal:
    if principal is None:
        raise Unauthorized(NOT_SIGNED_IN, "sign in first")
    # A volunteer link (from a dispatch SMS) reaches its one order's routes, nothing else.
    if principal.only_order is not None and (
        request.path_params.get("order_id") != principal.only_order
    ):
        raise Forbidden("this link opens one order only; sign in for the rest")
    return principal


Actor = Annotated[Principal, Depends(_signed_in)]


def require(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets through a principal holding any of ``roles``."""

    # async: checked on the event loop, not handed to a thread (see api/deps.py).
    async def check(principal: Actor) -> Principal:
        if not principal.has(*roles):
            raise Forbidden()
        return principal

    return check


ResidentActor = Annotated[Principal, Depends(require(Role.RESIDENT))]
VolunteerActor = Annotated[Principal, Depends(require(Role.VOLUNTEER))]
LeaderActor = Annotated[Principal, Depends(require(Role.LEADER))]
AgentActor = Annotated[Principal, Depends(require(Role.AGENT))]
AdminActor = Annotated[Principal, Depends(require(Role.ADMIN))]
StaffActor = Annotated[Principal, Depends(require(Role.ADMIN, Role.AGENT))]


def client_ip(request: Request) -> str | None:
    """The caller's address (behind the proxy, uvicorn's --proxy-headers puts it here)."""
    return request.client.host if request.client else None


async def _visible_order(order_id: OrderId, principal: Actor, request: Request) -> OrderRef:
    db: Database = request.app.state.database
    order = await db.run(resolve, principal, order_id)
    bind_order(order.id)
    return order


async def _offered_order(order_id: OrderId, principal: Actor, request: Request) -> OrderRef:
    db: Database = request.app.state.database
    order = await db.run(resolve_offered, principal, order_id)
    bind_order(order.id)
    return order


VisibleOrder = Annotated[OrderRef, Depends(_visible_order)]
"""The order in the path, if the caller may see it (else 404, as if it did not exist)."""

OfferedOrder = Annotated[OrderRef, Depends(_offered_order)]
"""As ``VisibleOrder``, for accepting: an open call someone else took first is 409."""


def owner_only(order: OrderRef) -> None:
    """Only the resident (or their SMS link) acts as the one who asked for help."""
    if order.viewer is not Viewer.OWNER:
        raise Forbidden("only the resident who asked for help may do this")


def owner_or_admin(order: OrderRef, principal: Principal) -> None:
    """Only the resident (or their SMS link) and admins act on an order as its owner."""
    if order.viewer is Viewer.OWNER or principal.has(Role.ADMIN):
        return
    raise Forbidden("only the resident who asked for help (or an admin) may do this")
