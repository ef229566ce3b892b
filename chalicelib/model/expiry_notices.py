"""Expiry notices: a person is told a week ahead, and again the day before, that one of their
personal access tokens stops working, so that whatever uses it can be moved to a new one first.

Days are UTC days. A PAT's week-ahead notice falls due 7 days before the day it expires, its
day-before notice the day before; a daily run gives each notice that has fallen due and was not
given, so a run that failed altogether is caught up by the next day's. A notice that fell due
on a day before the token existed is not given (a PAT made to live three days gets the day-before
notice only). A narrowing that moves the expiry forgets the notices given (they were of another
expiry); a rotation's successor keeps its predecessor's. The PATs are found by their expiry day
(the table's expiry index), never by a Scan.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from chalicelib.model.accounts import User
from chalicelib.model.events import EventType, SecurityEvent, new_event
from chalicelib.model.kinds import TokenKind
from chalicelib.model.token_policy import TokenPolicy
from chalicelib.model.tokens import TokenRecord, account_refusal
from chalicelib.timeutil import to_iso

# The notices, by how many days before the expiry's day each falls due.
NOTICE_DAYS = (7, 1)
_WITHIN = max(NOTICE_DAYS)


@dataclass(frozen=True)
class ExpiryNotice:
    """One notice of a token: which one (``days_before`` its expiry's day it fell due), and how
    many days are left from the day of the run."""

    token: TokenRecord
    days_before: int
    days_left: int

    @property
    def expires_at(self) -> datetime:
        assert self.token.expires_at is not None  # only expiring tokens get notices
        return self.token.expires_at

    @property
    def due_on(self) -> date:
        return utc_day(self.expires_at) - timedelta(days=self.days_before)

    @property
    def since(self) -> datetime:
        """A token told since this moment was given this notice."""
        return datetime.combine(self.due_on, time(), UTC)

    @property
    def id(self) -> str:
        """The same for every attempt at this notice (a retried run, a later day's catch-up), so a
        reader of the bus can drop a repeat: ``<token id>/<expiry>/<days before>`` (the expiry's time,
        not its day: a narrowing to another time that day is a new notice, not a repeat)."""
        return f"{self.token.id}/{to_iso(self.expires_at)}/{self.days_before}"

    def security_event(self, now: datetime) -> SecurityEvent:
        """The owner's security log entry: the expiry as a time, which clients say in the reader's
        zone (a count of days or hours would disagree with theirs, and go stale in the log)."""
        return new_event(
            self.token.user_id, EventType.TOKEN_EXPIRING,
            f"\"{self.token.name}\" expires at {to_iso(self.expires_at)}. Rotate it before then, or whatever "
            "uses it stops working (a rotation can give the old token a grace period while you switch).",
            now, token_id=self.token.id, token_name=self.token.name)


def utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def expiry_days(today: date) -> list[date]:
    """The expiry days whose PATs a run on ``today`` looks at: today (a day-before notice a failed
    run missed) to the day a week-ahead notice falls due for."""
    return [today + timedelta(days=days) for days in range(_WITHIN + 1)]


def notice_for(token: TokenRecord, today: date) -> ExpiryNotice | None:
    """The notice a run on ``today`` gives of this token: the last one that has fallen due, unless
    the token was told since it fell due, or did not exist yet that day."""
    if token.expires_at is None:
        return None
    days_left = (utc_day(token.expires_at) - today).days
    fallen_due = [days for days in NOTICE_DAYS if days >= days_left]
    if days_left < 0 or not fallen_due:
        return None
    notice = ExpiryNotice(token, min(fallen_due), days_left)
    told = token.told.get(EventType.TOKEN_EXPIRING.value)
    if (told is not None and told >= notice.since) or utc_day(token.created_at) > notice.due_on:
        return None
    return notice


def kept_by_successor(told: dict[str, datetime]) -> dict[str, datetime]:
    """What a rotation's successor keeps of its predecessor's told times: the expiry notice given,
    so that a successor with the same expiry is not told it again (one expiring on a later day is
    told anew, its notices falling due after that time)."""
    expiring = EventType.TOKEN_EXPIRING.value
    return {expiring: told[expiring]} if expiring in told else {}


def in_turns(notices: list[ExpiryNotice]) -> list[ExpiryNotice]:
    """The order to give notices in: the day-before ones first, and within each, owners take turns,
    so that nobody's many tokens hold back anyone else's notice in a run cut short (a timeout)."""
    turns_taken: dict[tuple[int, str], int] = {}
    ranked = []
    for notice in notices:
        owner = (notice.days_before, notice.token.user_id)
        turns_taken[owner] = turns_taken.get(owner, 0) + 1
        ranked.append(((notice.days_before, turns_taken[owner]), notice))
    return [notice for _, notice in sorted(ranked, key=lambda rank: rank[0])]


def is_announceable(token: TokenRecord) -> bool:
    """Whether a token's expiry is announced at all: a person's PAT that expires, not rotated away
    (its successor is the one to announce) and not deleted. Run tokens live hours, not days."""
    return (token.kind is TokenKind.PAT and token.expires_at is not None and token.rotated_to is None
            and token.deleted_at is None)


def still_works(token: TokenRecord, user: User | None, policy: TokenPolicy, now: datetime) -> bool:
    """Whether the token works now, so that its end is news: not expired, and neither its account
    (deactivated, a revoke-all or demotion: the index holds such a token until the sweeper deletes
    it) nor the token policy refuses it, by the authorizer's own rules."""
    return (is_announceable(token) and not token.is_expired(now) and account_refusal(token, user) is None
            and policy.breach(token.kind, token.scope, token.created_at, token.lifetime_expires_at) is None)
