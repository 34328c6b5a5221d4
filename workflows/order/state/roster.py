"""An activity's roster (名额, 报名, 候补, 签到签退): who serves a group order, in what standing.

Pure and on its own: the volunteers invited, in the order they were asked; the places filled
in the order the answers came (a workflow applies updates one at a time, so N+1 accepts for
N places leave exactly N accepted and one waiting); a withdrawal promotes the first waiting;
each member's own arrival and leaving, and the hours the team's record gets by default.
The order's state holds one of these for an activity, and its transitions call these
functions; errors are the order's named failures, so the API maps them as it does today.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from core.vocab import MemberStatus
from workflows import errors
from workflows.errors import rejected

# Who holds a place, or is next in line for one.
_STANDING = frozenset({MemberStatus.ACCEPTED, MemberStatus.WAITING})


@dataclass
class Member:
    volunteer_id: int
    status: MemberStatus
    invited_at: datetime
    # When they last answered: places and the waiting list go in this order.
    answered_at: datetime | None = None
    checked_in_at: datetime | None = None
    checked_out_at: datetime | None = None


@dataclass
class Roster:
    headcount: int
    starts_at: datetime
    members: list[Member] = field(default_factory=list)
    # A leader or an admin settled for the team as it is (fewer than the headcount).
    confirmed: bool = False

    def member(self, volunteer_id: int) -> Member:
        """The member, or the failure that reads as 404: what is not yours is not there."""
        for m in self.members:
            if m.volunteer_id == volunteer_id:
                return m
        raise rejected(errors.NOT_ASSIGNED, f"volunteer {volunteer_id} is not on this roster")

    def with_status(self, status: MemberStatus) -> list[Member]:
        chosen = [m for m in self.members if m.status == status]
        # Answers are kept in arrival order; equal times keep the invitation order.
        return sorted(chosen, key=lambda m: m.answered_at or m.invited_at)

    @property
    def accepted(self) -> list[int]:
        return [m.volunteer_id for m in self.with_status(MemberStatus.ACCEPTED)]

    @property
    def waiting(self) -> list[int]:
        return [m.volunteer_id for m in self.with_status(MemberStatus.WAITING)]

    @property
    def places_left(self) -> int:
        return max(self.headcount - len(self.accepted), 0)

    @property
    def full(self) -> bool:
        return self.places_left == 0

    @property
    def settled(self) -> bool:
        """The team is arranged: every place filled, or a smaller team confirmed."""
        return self.full or (self.confirmed and bool(self.accepted))


def invite(r: Roster, volunteer_ids: list[int], now: datetime) -> list[int]:
    """Ask volunteers to join; returns those newly asked (members already on the roster,
    whatever their answer, are skipped: they can sign up from their invitation)."""
    if not volunteer_ids or len(set(volunteer_ids)) != len(volunteer_ids):
        raise rejected(errors.INVALID_TRANSITION, "invite one or more distinct volunteers")
    asked: list[int] = []
    for vid in volunteer_ids:
        if any(m.volunteer_id == vid for m in r.members):
            continue
        r.members.append(Member(vid, MemberStatus.INVITED, invited_at=now))
        asked.append(vid)
    return asked


def accept(r: Roster, volunteer_id: int, now: datetime) -> MemberStatus | None:
    """Sign up: a place while any is left, else the waiting list (候补). A repeat changes
    nothing and returns None, so a retried request is not a second sign-up. One who declined
    or withdrew may change their mind; they queue as anyone answering now would."""
    member = r.member(volunteer_id)
    if member.status in _STANDING:
        return None
    member.status = MemberStatus.ACCEPTED if r.places_left else MemberStatus.WAITING
    member.answered_at = now
    return member.status


def decline(r: Roster, volunteer_id: int, now: datetime) -> bool:
    """Say no to an invitation; False when they had already (a repeat records nothing)."""
    member = r.member(volunteer_id)
    if member.status in _STANDING:
        raise rejected(errors.INVALID_TRANSITION, "a member who signed up withdraws instead")
    if member.status == MemberStatus.DECLINED:
        return False
    member.status, member.answered_at = MemberStatus.DECLINED, now
    return True


def check_withdraw(r: Roster, volunteer_id: int, now: datetime) -> Member:
    member = r.member(volunteer_id)
    if member.status not in _STANDING:
        raise rejected(errors.INVALID_TRANSITION, "only a member who signed up can withdraw")
    if now >= r.starts_at:
        raise rejected(errors.INVALID_TRANSITION, "the activity has started: it is too late")
    return member


def withdraw(r: Roster, volunteer_id: int, now: datetime) -> int | None:
    """Leave before the start; the first waiting member takes a freed place (returned)."""
    member = check_withdraw(r, volunteer_id, now)
    freed = member.status == MemberStatus.ACCEPTED
    member.status, member.answered_at = MemberStatus.WITHDRAWN, now
    if not freed or not r.waiting:
        return None
    promoted = r.member(r.waiting[0])
    promoted.status = MemberStatus.ACCEPTED
    return promoted.volunteer_id


def check_confirm(r: Roster) -> None:
    if not r.accepted:
        raise rejected(errors.INVALID_TRANSITION, "nobody has signed up yet")


def confirm(r: Roster) -> bool:
    """Settle for the team as it is; False when it was already settled."""
    check_confirm(r)
    if r.settled:
        return False
    r.confirmed = True
    return True


def check_attendance(r: Roster, volunteer_id: int) -> Member:
    member = r.member(volunteer_id)
    if member.status != MemberStatus.ACCEPTED:
        raise rejected(errors.NOT_ASSIGNED, f"volunteer {volunteer_id} holds no place")
    return member


def check_in(r: Roster, volunteer_id: int, now: datetime) -> bool:
    """A member arrives; a repeat keeps the first time and returns False."""
    member = check_attendance(r, volunteer_id)
    if member.checked_in_at is not None:
        return False
    member.checked_in_at = now
    return True


def check_out(r: Roster, volunteer_id: int, now: datetime) -> bool:
    """A member leaves; they must have arrived. A repeat keeps the first time."""
    member = check_attendance(r, volunteer_id)
    if member.checked_in_at is None:
        raise rejected(errors.NOT_CHECKED_IN, "check in on arrival before checking out")
    if member.checked_out_at is not None:
        return False
    member.checked_out_at = now
    return True


def default_hours(r: Roster, now: datetime) -> dict[int, float]:
    """Each place-holder's hours when the leader gives none: arrival to leaving (to now for
    one who never checked out), in half hours; 0 for one who never arrived."""
    hours: dict[int, float] = {}
    for vid in r.accepted:
        m = r.member(vid)
        if m.checked_in_at is None:
            hours[vid] = 0.0
            continue
        seconds = ((m.checked_out_at or now) - m.checked_in_at).total_seconds()
        hours[vid] = round(max(seconds, 0) / 1800) / 2
    return hours


def check_member_hours(r: Roster, given: dict[int, float]) -> None:
    """Hours go only to those who held a place, each between 0 and the day's 24."""
    strangers = sorted(set(given) - set(r.accepted))
    if strangers:
        raise rejected(errors.NOT_ASSIGNED, f"volunteers {strangers} hold no place")
    if any(not 0 <= h <= 24 for h in given.values()):
        raise rejected(errors.INVALID_TRANSITION, "each member's hours are between 0 and 24")
