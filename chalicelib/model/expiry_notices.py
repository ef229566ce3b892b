"""Expiry notices: a person is told a week ahead, and again a day ahead, that one of their
personal access tokens stops working, so that whatever uses it can be moved to a new one first.

A notice is due for a PAT whose expiry falls on the UTC day 7 days (or 1 day) after the day of
the run; the tokens are found by that day (the table's expiry index), never by a Scan.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from chalicelib.model.accounts import User
from chalicelib.model.events import EventType, SecurityEvent, new_event
from chalicelib.model.kinds import TokenKind
from chalicelib.model.token_policy import TokenPolicy
from chalicelib.model.tokens import TokenRecord
from chalicelib.timeutil import to_iso

# How many days ahead a person is told.
NOTICE_DAYS = (7, 1)


@dataclass(frozen=True)
class ExpiryNotice:
    """One notice: this token expires in ``days_left`` days."""

    token: TokenRecord
    days_left: int

    @property
    def expires_at(self) -> datetime:
        assert self.token.expires_at is not None  # only expiring tokens are indexed
        return self.token.expires_at

    @property
    def id(self) -> str:
        """The same for every attempt at this notice (a retried run, a second run that day), so a
        reader of the bus can drop a repeat: ``<token id>/<expiry day>/<days left>``."""
        return f"{self.token.id}/{self.expires_at.date().isoformat()}/{self.days_left}"

    def security_event(self, now: datetime) -> SecurityEvent:
        """The owner's security log entry: the expiry as a time, which clients say in the reader's
        zone (a count of days or hours would disagree with theirs, and go stale in the log)."""
        return new_event(
            self.token.user_id, EventType.TOKEN_EXPIRING,
            f"\"{self.token.name}\" expires at {to_iso(self.expires_at)}. Rotate it before then, or whatever "
            "uses it stops working; a rotated token keeps working for a grace period while you switch.",
            now, token_id=self.token.id, token_name=self.token.name)


def notice_days(today: date) -> list[date]:
    """The expiry days a run on ``today`` (UTC) gives notices for."""
    return [today + timedelta(days=days) for days in NOTICE_DAYS]


def notice_for(token: TokenRecord, today: date) -> ExpiryNotice | None:
    """The notice a run on ``today`` gives of this token, if its expiry falls on a notice day."""
    if token.expires_at is None:
        return None
    days_left = (token.expires_at.astimezone(UTC).date() - today).days
    return ExpiryNotice(token, days_left) if days_left in NOTICE_DAYS else None


def in_turns(notices: list[ExpiryNotice]) -> list[ExpiryNotice]:
    """The order to give notices in: the day-before ones first, and within each, owners take turns,
    so that nobody's many tokens hold back anyone else's notice in a run cut short (a timeout)."""
    given: dict[tuple[int, str], int] = {}
    ranked = []
    for notice in notices:
        owner = (notice.days_left, notice.token.user_id)
        given[owner] = given.get(owner, 0) + 1
        ranked.append(((notice.days_left, given[owner]), notice))
    return [notice for _, notice in sorted(ranked, key=lambda rank: rank[0])]


def start_of_day(now: datetime) -> datetime:
    """Midnight UTC of ``now``'s day: a token told since then was told by today's run."""
    return datetime.combine(now.astimezone(UTC).date(), time(), UTC)


def is_indexed_for_notice(token: TokenRecord) -> bool:
    """Whether a token belongs in the expiry index: a person's PAT that expires, not rotated away
    (its successor is the one to announce) and not deleted. Run tokens live hours, not days."""
    return (token.kind is TokenKind.PAT and token.expires_at is not None and token.rotated_to is None
            and token.deleted_at is None)


def worth_announcing(token: TokenRecord, user: User | None, policy: TokenPolicy, now: datetime) -> bool:
    """Whether the token still works today, so that its end is news: its account is active, no
    cut-off (revoke-all, demotion) or token policy refuses it, and it was not told today.
    (The index may still hold a token a cut-off revoked until the sweeper deletes it.)"""
    told = token.told.get(EventType.TOKEN_EXPIRING.value)
    return (is_indexed_for_notice(token) and not token.is_expired(now)
            and (told is None or told < start_of_day(now))
            and user is not None and user.is_active
            and user.revocation_of(token.line_issued_ms, token.scope, token.revocations_seen) is None
            and user.role.highest_scope.covers(token.scope)
            and policy.breach(token.kind, token.scope, token.created_at, token.lifetime_expires_at) is None)
