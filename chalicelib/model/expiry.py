"""Expiry, decided in one place: never left to DynamoDB's TTL, which lags by up to two days."""
from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.errors import InvalidRequest


def is_expired(expires_at: datetime | None, now: datetime) -> bool:
    """True once ``now`` reaches ``expires_at``; never for something that does not expire."""
    return expires_at is not None and now >= expires_at


def require_future_within(expires_at: datetime, now: datetime, longest: timedelta, longest_words: str) -> None:
    """InvalidRequest (400) unless ``expires_at`` is after ``now`` and at most ``longest`` away."""
    if expires_at <= now:
        raise InvalidRequest("Invalid request: expiresAt must be in the future.")
    if expires_at > now + longest:
        raise InvalidRequest(f"Invalid request: expiresAt must be {longest_words}.")


def span_in_words(span: timedelta) -> str:
    """A lifetime for people: in whole days from a day up ("1 day", "96 days"), in seconds below
    ("3600 seconds")."""
    if span < timedelta(days=1):
        return f"{int(span.total_seconds())} seconds"
    days = round(span / timedelta(days=1))
    return "1 day" if days == 1 else f"{days} days"
