"""Who is calling: tokens, passwords, one-time codes and opaque ids. No HTTP, no database.

- **Access tokens** are short-lived JWTs (HS256, ``JWT_SECRET``) naming a principal: a
  resident (by phone, verified with an SMS code), who may also be a volunteer and a unit's
  leader, or a staff account (admin or call-center agent) with its township scope.
- **Refresh tokens** are random strings; only their SHA-256 is stored, and each use rotates
  them (``api/stores/auth`` keeps the family and revokes it on reuse).
- **Order links** are short HMAC-signed tokens that grant one order, nothing else: they go
  out in our SMS so a resident opens their own order without typing a code.
- **Volunteer links** go out in the dispatch SMS: they act as that volunteer on that one
  order (see it, accept or decline it), and reach nothing else.
- **Passwords** are hashed with argon2id (``pwdlib``); **SMS codes** with HMAC, keyed by the
  secret and bound to the phone, so a leaked table reveals neither.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from core.vocab import Role

ALGORITHM = "HS256"
ISSUER = "four-orders"
ACCESS = "access"
ORDER_LINK_PREFIX = "ol1."
VOLUNTEER_LINK_PREFIX = "vl1."
_passwords = PasswordHash((Argon2Hasher(),))


@functools.cache
def _dummy_hash() -> str:
    """Verifying against this when the account does not exist costs what a real check costs, so
    response times do not tell which usernames exist. Made on first use, not at import: an
    argon2 hash is a CPU-second on a busy machine, and every worker (re)start imports us."""
    return _passwords.hash(secrets.token_urlsafe(16))


class InvalidToken(Exception):
    """The token is malformed, forged, expired or of the wrong kind."""


@dataclass(frozen=True)
class Principal:
    """Who a request acts as, from a verified token (never from a request body)."""

    subject: str  # "resident:5" or "staff:3"
    roles: frozenset[Role]
    resident_id: int | None = None
    staff_id: int | None = None
    volunteer_id: int | None = None
    # Units this person leads (a volunteer who is a team or station leader).
    led_units: tuple[int, ...] = ()
    # A staff member's townships; ``None`` is the whole county.
    townships: tuple[str, ...] | None = None
    # An order-link token grants exactly this order (its public id), and nothing else.
    order: str | None = None
    # A volunteer link acts as the volunteer on this order (its public id) only.
    only_order: str | None = None

    def has(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def county_wide(self) -> bool:
        return self.townships is None

    def may_see_township(self, township: str) -> bool:
        return self.townships is None or township in self.townships


# The API's own background work (the reconciler): sees no order through the rules.
SYSTEM = Principal(subject="system", roles=frozenset())


def issue_access_token(principal: Principal, *, secret: str, ttl: timedelta, now: datetime) -> str:
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "typ": ACCESS,
        "sub": principal.subject,
        "roles": sorted(r.value for r in principal.roles),
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
    }
    if principal.resident_id is not None:
        claims["rid"] = principal.resident_id
    if principal.staff_id is not None:
        claims["sid"] = principal.staff_id
    if principal.volunteer_id is not None:
        claims["vid"] = principal.volunteer_id
    if principal.led_units:
        claims["units"] = list(principal.led_units)
    if principal.townships is not None:
        claims["tw"] = list(principal.townships)
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def issue_order_link(public_id: str, *, secret: str, ttl: timedelta, now: datetime) -> str:
    """A bearer token that opens one order: ``ol1.<public id>.<link_code>``."""
    code = link_code(public_id, secret=secret, ttl=ttl, now=now)
    return f"{ORDER_LINK_PREFIX}{public_id}.{code}"


def link_code(public_id: str, *, secret: str, ttl: timedelta, now: datetime) -> str:
    """What an SMS link carries (``/orders/<public id>?t=<code>``): ``<expiry>.<mac>``.

    The expiry in base 36 and 128 bits of HMAC-SHA256: about 30 characters, where a JWT
    would take 200 of an SMS that costs by the segment. The page makes the bearer token
    from the link: ``ol1.<public id>.<code>``.
    """
    expires = _base36(int((now + ttl).timestamp()))
    return f"{expires}.{_link_mac(public_id, expires, secret)}"


_LINK_CODE = re.compile(r"([?&]t=)[A-Za-z0-9_.-]+")


def mask_link_codes(text: str) -> str:
    """``text`` with the code of every link in it (``?t=<code>``) cut to ``?t=…``.

    Anyone holding a link's code acts as its recipient, so what we store and log of a link
    never carries it: only the SMS itself does.
    """
    return _LINK_CODE.sub(r"\1…", text)


def volunteer_link_code(
    public_id: str, volunteer_id: int, *, secret: str, ttl: timedelta, now: datetime
) -> str:
    """What a dispatch SMS's link carries (``/volunteer/orders/<public id>?t=<code>``).

    ``<volunteer id>.<expiry>.<mac>``, ids and expiry in base 36; the page makes the bearer
    token from the link: ``vl1.<public id>.<code>``. It acts as that volunteer on that
    order only, and only while the order is theirs to see. Its path is longer than a
    resident's, so its MAC is cut to 64 bits (guessing one online is out of reach) to keep
    the dispatch SMS short; the volunteer's id is part of what is signed.
    """
    expires = _base36(int((now + ttl).timestamp()))
    volunteer = _base36(volunteer_id)
    mac = _link_mac(public_id, expires, secret, purpose=f"volunteer-link:{volunteer}", size=8)
    return f"{volunteer}.{expires}.{mac}"


def _link_mac(
    public_id: str, expires: str, secret: str, *, purpose: str = "order-link", size: int = 16
) -> str:
    digest = hmac.new(
        secret.encode(), f"{purpose}:{public_id}:{expires}".encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest[:size]).decode().rstrip("=")


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while number:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
    return out or "0"


def _read_order_link(token: str, secret: str, now: datetime) -> Principal:
    try:
        public_id, expires, mac = token.removeprefix(ORDER_LINK_PREFIX).split(".")
        expired = int(expires, 36) < now.timestamp()
    except ValueError as exc:
        raise InvalidToken("malformed order link") from exc
    if not hmac.compare_digest(mac, _link_mac(public_id, expires, secret)):
        raise InvalidToken("forged order link")
    if expired:
        raise InvalidToken("the order link has expired")
    return Principal(
        subject=f"order:{public_id}", roles=frozenset({Role.ORDER_LINK}), order=public_id
    )


def _read_volunteer_link(token: str, secret: str, now: datetime) -> Principal:
    try:
        public_id, volunteer, expires, mac = token.removeprefix(VOLUNTEER_LINK_PREFIX).split(".")
        volunteer_id = int(volunteer, 36)
        expired = int(expires, 36) < now.timestamp()
    except ValueError as exc:
        raise InvalidToken("malformed volunteer link") from exc
    expected = _link_mac(public_id, expires, secret, purpose=f"volunteer-link:{volunteer}", size=8)
    if not hmac.compare_digest(mac, expected):
        raise InvalidToken("forged volunteer link")
    if expired:
        raise InvalidToken("the volunteer link has expired")
    return Principal(
        subject=f"volunteer-link:{volunteer_id}",
        roles=frozenset({Role.VOLUNTEER}),
        volunteer_id=volunteer_id,
        only_order=public_id,
    )


def read_token(token: str, *, secret: str, now: datetime | None = None) -> Principal:
    """The principal a token names; ``InvalidToken`` for anything not issued by us and alive."""
    if token.startswith(ORDER_LINK_PREFIX):
        return _read_order_link(token, secret, now or datetime.now(UTC))
    if token.startswith(VOLUNTEER_LINK_PREFIX):
        return _read_volunteer_link(token, secret, now or datetime.now(UTC))
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "typ"]},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    try:
        if claims["typ"] != ACCESS:
            raise InvalidToken(f"not an access token: {claims['typ']!r}")
        townships = claims.get("tw")
        return Principal(
            subject=str(claims["sub"]),
            roles=frozenset(Role(r) for r in claims["roles"]),
            resident_id=_int_or_none(claims.get("rid")),
            staff_id=_int_or_none(claims.get("sid")),
            volunteer_id=_int_or_none(claims.get("vid")),
            led_units=tuple(int(u) for u in claims.get("units", ())),
            townships=tuple(str(t) for t in townships) if townships is not None else None,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidToken(f"malformed claims: {exc}") from exc


def _int_or_none(value: object) -> int | None:
    return None if value is None else int(str(value))


def new_refresh_token() -> tuple[str, str]:
    """A new refresh token and the hash to store (the token itself is never stored)."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    return _passwords.hash(password)


def verify_password(password: str, hashed: str | None) -> bool:
    """Whether ``password`` matches; as slow for an unknown account as for a known one."""
    if hashed is None:
        _passwords.verify(password, _dummy_hash())
        return False
    try:
        return _passwords.verify(password, hashed)
    except Exception:  # a corrupt hash never lets anyone in
        return False


def new_sms_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def sms_code_hash(phone: str, code: str, *, secret: str) -> str:
    """The code bound to its phone, keyed by the secret (a code for one number fails another)."""
    return hmac.new(secret.encode(), f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def codes_match(expected_hash: str, phone: str, code: str, *, secret: str) -> bool:
    return hmac.compare_digest(expected_hash, sms_code_hash(phone, code, secret=secret))


CERTIFICATE_PREFIX = "c1"


@dataclass(frozen=True)
class CertificateClaim:
    """What a service-record certificate states: whose, how many verified hours, when."""

    volunteer_id: int
    centi_hours: int
    period_from: date
    period_to: date
    issued_on: date


def certificate_code(claim: CertificateClaim, *, secret: str) -> str:
    """``c1-<fields in base 36>-<mac>``: short enough to type from paper, unforgeable."""
    fields = "-".join(
        _base36(n)
        for n in (
            claim.volunteer_id,
            claim.centi_hours,
            claim.period_from.toordinal(),
            claim.period_to.toordinal(),
            claim.issued_on.toordinal(),
        )
    )
    return f"{CERTIFICATE_PREFIX}-{fields}-{_certificate_mac(fields, secret)}"


def read_certificate_code(code: str, *, secret: str) -> CertificateClaim:
    """The claim a code carries; ``InvalidToken`` for anything we did not sign."""
    prefix, _, rest = code.partition("-")
    fields, _, mac = rest.rpartition("-")
    if prefix != CERTIFICATE_PREFIX or not hmac.compare_digest(
        mac.encode(), _certificate_mac(fields, secret).encode()
    ):
        raise InvalidToken("not a certificate code we issued")
    try:
        vid, centi, start, end, issued = (int(part, 36) for part in fields.split("-"))
        return CertificateClaim(
            volunteer_id=vid,
            centi_hours=centi,
            period_from=date.fromordinal(start),
            period_to=date.fromordinal(end),
            issued_on=date.fromordinal(issued),
        )
    except ValueError as exc:
        raise InvalidToken("malformed certificate code") from exc


def _certificate_mac(fields: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), f"certificate:{fields}".encode(), hashlib.sha256).digest()
    # Base 32 without "-" (the separator): 80 bits, upper case, no ambiguous padding.
    return base64.b32encode(digest[:10]).decode().rstrip("=")
