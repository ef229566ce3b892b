"""Times for people, and the server's messages for people: times as local times, API field names
as `oi`'s options, and one full stop where two were joined. `oi`'s own sentences tell times the
same way; its tables keep UTC, one column of one zone. Every time `oi` shows a person is
written here, in one format, on one clock or the other.

The API speaks to programs (``expiresAt``, ``2027-01-01T00:00:00Z``); `oi` speaks to a person
at a terminal, so what it passes on is said in their words: the option they typed and the time
on their clock. ``--json`` keeps the server's values as they are.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo

# An RFC 3339 UTC time as the API writes it (to the second; a fraction tolerated).
_API_TIME = re.compile(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z\b", re.ASCII)
# Two full stops where a sentence that ends in one got another; an ellipsis (...) is left alone.
_DOUBLED_STOP = re.compile(r"(?<!\.)\.\.(?!\.)")
# The API's field names in its messages, and the option that sets each in `oi`.
OPTIONS = {
    "expiresAt": "--expires-at",
    "graceSeconds": "--grace",
    "expiresInSeconds": "--expires-in",
    "agentId": "--agent-id",
    "maxLifetimeDays": "--max-lifetime-days",
    "adminMaxLifetimeDays": "--admin-max-lifetime-days",
    "runTokenMaxSeconds": "--run-token-max-seconds",
    "requireExpiry": "--require-expiry",
    "allowedIps": "--allow-ip",
    "permissions": "--permission",
}
# (with what names one of a map's keys: ``permissions.billing``, ``permissions.<a family>``)
_FIELD = re.compile(r"\b(" + "|".join(OPTIONS) + r")\b(?:\.(?:<[^>]*>|\w+))?", re.ASCII)


def local_time(moment: datetime, zone: tzinfo | None = None) -> str:
    """``2027-01-01 01:00 CET``: ``moment`` on the clock of ``zone`` (None: this machine's; UTC:
    the tables' clock, ``2027-01-01 00:00 UTC``)."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z").rstrip()


def when(value: str | None, missing: str = "never") -> str:
    """An API time in a table: ``2027-01-01 00:00 UTC``, so a column holds one zone."""
    return when_here(value, UTC, missing)


def when_here(value: str | None, zone: tzinfo | None = None, missing: str = "never") -> str:
    """An API time in a sentence, on the clock of ``zone`` (tables keep UTC: see :func:`when`);
    anything that is not a time is shown as it is."""
    if not value:
        return missing
    moment = parse_time(value)
    return value if moment is None else local_time(moment, zone)


def parse_time(text: str) -> datetime | None:
    """An RFC 3339 time with a zone, or None for anything else (a header is never worth a traceback)."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def for_people(message: str, zone: tzinfo | None = None) -> str:
    """``message`` with each API time as a local time, each API field as its option, and no
    doubled full stop."""
    message = _API_TIME.sub(lambda found: when_here(found.group(0), zone), message)
    return one_full_stop(_FIELD.sub(lambda found: OPTIONS[found.group(1)], message))


def one_full_stop(text: str) -> str:
    """``text`` with ``..`` (not ``...``) made one full stop."""
    return _DOUBLED_STOP.sub(".", text)
