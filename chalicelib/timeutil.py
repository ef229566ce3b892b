"""UTC time helpers. The clock is always passed in (``now``) so tests never sleep."""
from __future__ import annotations

from datetime import UTC, datetime

_ISO_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def to_iso(moment: datetime) -> str:
    """ISO-8601 in UTC to the second, e.g. ``2027-01-01T00:00:00Z``."""
    return moment.astimezone(UTC).strftime(_ISO_FORMAT)


def from_iso(text: str) -> datetime:
    """Parse a timestamp written by :func:`to_iso` (``fromisoformat``: strptime is ten times
    slower, and the authorizer parses a few on every request)."""
    return datetime.fromisoformat(text).astimezone(UTC)


def to_epoch(moment: datetime) -> int:
    """Whole seconds since the epoch, the unit of DynamoDB's TTL attribute."""
    return int(moment.timestamp())
