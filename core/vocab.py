"""The loop's vocabulary, shared by workflows, activities and the API.

Plain enums only: workflow code imports this module, so it must stay free of I/O libraries.
"""

from __future__ import annotations

from enum import StrEnum


class OrderStatus(StrEnum):
    PENDING = "pending"
    DISPATCHED = "dispatched"
    ACCEPTED = "accepted"
    COMPLETED = "completed"
    REVIEWED = "reviewed"
    CLOSED = "closed"
    CANCELLED = "cancelled"


OPEN_STATUSES = frozenset({OrderStatus.PENDING, OrderStatus.DISPATCHED, OrderStatus.ACCEPTED})
FINAL_STATUSES = frozenset({OrderStatus.CLOSED, OrderStatus.CANCELLED})


class EventName(StrEnum):
    SUBMITTED = "submitted"
    DISPATCHED = "dispatched"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    ACCEPT_TIMEOUT = "accept_timeout"
    COMPLETED = "completed"
    REVIEWED = "reviewed"
    REVIEW_WINDOW_EXPIRED = "review_window_expired"
    ESCALATED = "escalated"
    FOLLOW_UP_CREATED = "follow_up_created"
    FOLLOWED_UP = "followed_up"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    # Matching and dispatch.
    REDISPATCHED = "redispatched"
    OPEN_CALL = "open_call"
    ASSIGNED = "assigned"
    UNDISPATCHABLE = "undispatchable"
    # Automated follow-up calls and the call-center queue.
    CALL_PLACED = "call_placed"
    CALL_ENDED = "call_ended"
    FOLLOW_UP_QUEUED = "follow_up_queued"
    # The apps: the resident hurries, the volunteer arrives and leaves.
    HURRIED = "hurried"
    CHECKED_IN = "checked_in"
    CHECKED_OUT = "checked_out"


class Rating(StrEnum):
    """The four grades of the county's satisfaction form (满意度评议表)."""

    VERY_SATISFIED = "very_satisfied"
    SATISFIED = "satisfied"
    AVERAGE = "average"
    DISSATISFIED = "dissatisfied"


RATING_POINTS: dict[Rating, int] = {
    Rating.VERY_SATISFIED: 4,
    Rating.SATISFIED: 3,
    Rating.AVERAGE: 2,
    Rating.DISSATISFIED: 1,
}


class ReviewChannel(StrEnum):
    """Where the review was given."""

    ONLINE = "online"  # the resident, on their own phone or the SMS link
    ON_SITE = "on_site"  # on the volunteer's phone, handed over (现场填写《满意度评议表》)
    SMS = "sms"  # a reply to the completion SMS (1-4), from a phone without the internet


class DispatchPolicy(StrEnum):
    """How an order finds its volunteer: the admin picks, confirms a suggestion, or not at all."""

    MANUAL = "manual"
    SUGGEST = "suggest"
    AUTO = "auto"


class Platform(StrEnum):
    """The county's five talent platforms (五大平台)."""

    THEORY = "theory"
    EDUCATION = "education"
    SCIENCE = "science"
    CULTURE = "culture"
    FITNESS = "fitness"


class UnitKind(StrEnum):
    """Who can receive an order besides a single volunteer."""

    INSTITUTE = "institute"  # 新时代文明实践所, township level
    STATION = "station"  # 新时代文明实践站, village level
    TEAM = "team"  # 志愿服务队


class PlaceKind(StrEnum):
    VILLAGE = "village"  # 村
    COMMUNITY = "community"  # 社区


class FollowUpMethod(StrEnum):
    PHONE = "phone"
    HOME_VISIT = "home_visit"
    FIELD_VISIT = "field_visit"


class FollowUpOutcome(StrEnum):
    CONFIRMED = "confirmed"
    RATING_CORRECTED = "rating_corrected"
    COMPLAINT = "complaint"
    UNREACHABLE = "unreachable"


class FollowUpStatus(StrEnum):
    CALLING = "calling"  # the automated calls are still trying
    OPEN = "open"  # in the call-center queue
    DONE = "done"


class QueueReason(StrEnum):
    """Why a follow-up reached call-center staff rather than being settled by the call."""

    NO_AUTOMATED_CALL = "no_automated_call"  # calls are off (no Twilio account) or pre-date them
    DISSATISFIED = "dissatisfied"  # pressed 4: a person should talk to them
    STAFF_REQUESTED = "staff_requested"  # pressed 9
    ATTEMPTS_EXHAUSTED = "attempts_exhausted"
    CALL_IMPOSSIBLE = "call_impossible"  # the number is refused, or calling is not configured


# Lower is more urgent: the queue serves dissatisfied residents first.
QUEUE_PRIORITY: dict[QueueReason, int] = {
    QueueReason.DISSATISFIED: 0,
    QueueReason.STAFF_REQUESTED: 1,
    QueueReason.ATTEMPTS_EXHAUSTED: 2,
    QueueReason.CALL_IMPOSSIBLE: 2,
    QueueReason.NO_AUTOMATED_CALL: 3,
}


class CallOutcome(StrEnum):
    """How one automated follow-up call ended, as the workflow classifies it."""

    RATED = "rated"  # pressed 1-4
    STAFF_REQUESTED = "staff_requested"  # pressed 9
    NO_INPUT = "no_input"  # answered, but no valid key after the repeat
    NO_ANSWER = "no-answer"
    BUSY = "busy"
    FAILED = "failed"
    MACHINE = "machine"  # voicemail / answering machine detected
    LOST = "lost"  # no outcome arrived before the call timeout


class SettledBy(StrEnum):
    AUTOMATED_CALL = "automated_call"
    STAFF = "staff"


# The keypad of the follow-up call (DOMAIN: the four grades of the satisfaction form).
KEYPAD_RATINGS: dict[str, Rating] = {
    "1": Rating.VERY_SATISFIED,
    "2": Rating.SATISFIED,
    "3": Rating.AVERAGE,
    "4": Rating.DISSATISFIED,
}
STAFF_KEY = "9"
# The prompt plays at most this many times: invalid or no input repeats it once.
GATHER_ROUNDS = 2


def confirm_keypad(reviewed: Rating) -> dict[str, Rating]:
    """The keypad confirming calls had before ``MENU_KEY``: 1 confirmed the review, 2-4 gave
    the other grades, best first (reviewed 满意: 非常满意 2, 一般 3, 不满意 4). Only the
    signals of calls made then are still read this way (they carry no ``meaning``)."""
    others = [r for r in KEYPAD_RATINGS.values() if r != reviewed]
    return {"1": reviewed, **{str(key): r for key, r in enumerate(others, start=2)}}


def keypad(digits: str, *, confirming: Rating | None = None) -> Rating | str | None:
    """What a key meant on a follow-up call before the API read it (see ``key_meaning``):
    a rating, ``STAFF_KEY``, or ``None``.

    ``confirming``: the call asked to confirm this rating (see ``confirm_keypad``).
    """
    ratings = KEYPAD_RATINGS if confirming is None else confirm_keypad(confirming)
    if digits in ratings:
        return ratings[digits]
    return STAFF_KEY if digits == STAFF_KEY else None


# On a call confirming the resident's review: 1 confirms it, this key opens the usual menu.
CONFIRM_KEY = "1"
MENU_KEY = "2"
# What a key pressed means, as the API tells the order's workflow (``CallProgress.meaning``):
# a rating's value, or one of these.
STAFF = "staff"
MENU = "menu"
NO_KEY = ""


def key_meaning(digits: str, *, confirming: Rating | None, in_menu: bool) -> str:
    """What ``digits`` mean on a follow-up call, each key one thing whatever was reviewed.

    The usual menu (a call asking for a rating, or the menu a confirming call opened):
    1 非常满意 … 4 不满意. A call confirming the review ``confirming``: 1 confirms it, 2
    opens the usual menu. 9 asks for a person everywhere. Anything else: ``NO_KEY``.
    """
    if digits == STAFF_KEY:
        return STAFF
    if confirming is not None and not in_menu:
        if digits == CONFIRM_KEY:
            return confirming.value
        return MENU if digits == MENU_KEY else NO_KEY
    rating = KEYPAD_RATINGS.get(digits)
    return rating.value if rating is not None else NO_KEY


def is_machine(answered_by: str | None) -> bool:
    """Twilio's AnsweredBy for voicemail and fax (machine_start, machine_end_beep, fax…)."""
    return bool(answered_by) and str(answered_by).startswith(("machine", "fax"))


class Notice(StrEnum):
    """The SMS the loop sends, each at one moment of an order."""

    RECEIVED = "received"  # to the resident, when staff took the order for them
    DISPATCHED = "dispatched"  # to the volunteer
    TEAM_DISPATCHED = "team_dispatched"  # to the unit's leader
    ACCEPTED = "accepted"  # to the resident
    COMPLETED = "completed"  # to the resident, with how to review
    ESCALATED = "escalated"  # to the county's admins
    WITHDRAWN = "withdrawn"  # to the volunteer an accepted order was re-dispatched away from


class MemberStatus(StrEnum):
    """A volunteer's standing on an activity's roster."""

    INVITED = "invited"  # asked, not yet answered
    ACCEPTED = "accepted"  # holds a place
    WAITING = "waiting"  # signed up when every place was taken (候补)
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"  # left before the start


class CallRequestKind(StrEnum):
    """Why a caller of the center's number waits for an agent to call back."""

    CALLBACK = "callback"  # pressed 0 for a person
    INTAKE = "intake"  # said their address and need after the tone


class CallRequestStatus(StrEnum):
    OPEN = "open"
    DONE = "done"


class ComplaintStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class ActorKind(StrEnum):
    RESIDENT = "resident"
    ADMIN = "admin"
    VOLUNTEER = "volunteer"
    CALL_CENTER = "call_center"
    SYSTEM = "system"


def actor(kind: ActorKind, ident: int | str | None = None) -> str:
    """Timeline actor label: ``volunteer:12``, ``admin``, ``system``."""
    return f"{kind.value}:{ident}" if ident is not None else kind.value


class Role(StrEnum):
    """What a signed-in person may do (see api/auth.py for the rules)."""

    RESIDENT = "resident"  # signed in with an SMS code: their own orders
    VOLUNTEER = "volunteer"  # a resident who is an active volunteer
    LEADER = "leader"  # a volunteer who leads a team, station or institute
    AGENT = "agent"  # call-center staff
    ADMIN = "admin"  # center staff: the county, or a list of townships
    ORDER_LINK = "order_link"  # a signed link from our SMS: one order, nothing else


STAFF_ROLES = frozenset({Role.AGENT, Role.ADMIN})


class Channel(StrEnum):
    """How an order reached the center."""

    WEB = "web"  # the resident, on the web page or API
    HOTLINE = "hotline"  # staff, for a resident who phoned
    WALK_IN = "walk_in"  # staff, for a resident at a station
    IVR = "ivr"  # the resident, by keypad on a call to the center's number


# What staff write on an order for each other (the console's internal notes).
STAFF_NOTE = "staff_note"
# Notes only staff read on the timeline: why a volunteer declined, what the call-center heard,
# the dispatcher's note (which the volunteer it went to also reads, as ``dispatch_note``), how
# a complaint was resolved, staff notes.
INTERNAL_NOTES = frozenset(
    {
        "dispatch_reason",
        "decline_reason",
        "follow_up_notes",
        "complaint_resolution",
        "resident_complaint",
        STAFF_NOTE,
    }
)


class Application(StrEnum):
    """A resident's own application to volunteer, until an admin decides."""

    PENDING = "pending"
    REFUSED = "refused"
