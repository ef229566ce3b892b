"""``--expires-at``: what people type (a date, an RFC 3339 time, a duration) as the RFC 3339 UTC
string the API takes, explained in words when it is none of those."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

FORMATS = ("a date (2027-01-01, midnight UTC), an RFC 3339 time (2027-01-01T09:00:00Z) "
           "or a duration from now (30d, 12h, 90m, 2w)")
_DURATION = re.compile(r"(\d{1,9})([mhdw])", re.ASCII)
_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)([Zz]|[+-]\d{2}:\d{2})?", re.ASCII)


class ExpiryError(ValueError):
    """Input that is not an expiry, with the reason in words."""


def parse(text: str, now: datetime) -> str:
    """``text`` as an RFC 3339 UTC time to the second, e.g. ``2027-01-01T00:00:00Z``.

    Whether it is in the future is the server's rule to enforce; only the form is checked here.
    """
    value = text.strip()
    try:
        moment = _duration(value, now) or _date(value) or _time(value)
    except OverflowError:
        raise ExpiryError(f"{value!r} is too far in the future") from None
    if moment is None:
        raise ExpiryError(f"{value!r} is not {FORMATS}")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _duration(value: str, now: datetime) -> datetime | None:
    match = _DURATION.fullmatch(value)
    if match is None:
        return None
    if int(match.group(1)) == 0:
        raise ExpiryError(f"{value!r}: a duration must be more than zero")
    return now + int(match.group(1)) * _UNITS[match.group(2)]


def _date(value: str) -> datetime | None:
    if not _DATE.fullmatch(value):
        return None
    return datetime.combine(_real_date(value), time(0, 0), tzinfo=UTC)


def _time(value: str) -> datetime | None:
    match = _TIME.fullmatch(value)
    if match is None:
        return None
    day, clock, zone = match.groups()
    if zone is None:
        raise ExpiryError(f"{value!r} has no timezone: add Z for UTC, or an offset such as +02:00")
    _real_date(day)
    try:
        return datetime.fromisoformat(f"{day}T{clock}{'+00:00' if zone in 'Zz' else zone}")
    except ValueError:
        raise ExpiryError(f"{value!r} is not a real time of day or offset") from None


def _real_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ExpiryError(f"{text!r} is not a real date") from None
