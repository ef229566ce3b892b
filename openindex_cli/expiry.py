"""``--expires-at``: what people type (a date, an RFC 3339 time, a duration) as the RFC 3339 UTC
string the API takes, explained in words when it is none of those.

A date is 00:00 UTC at the start of that day: the same instant wherever the command runs (a CI
runner and a laptop agree), as GitLab reads a token's expiry date, and as the API's own example
(``2027-01-01T00:00:00Z``) writes it. The web UI's date field means the same instant.
"""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

FORMATS = ("a date (2027-01-01: 00:00 UTC at its start), an RFC 3339 time (2027-01-01T09:00:00Z) "
           "or a duration from now (30d, 12h, 90m, 2w)")
_DURATION = re.compile(r"(\d{1,9})([mhdw])", re.ASCII)
_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)([Zz]|[+-]\d{2}:\d{2})?", re.ASCII)


class ExpiryError(ValueError):
    """Input that is not an expiry, with the reason in words."""


def parse(text: str, now: datetime) -> str:
    """``text`` as an RFC 3339 UTC time to the second, e.g. ``2027-01-01T00:00:00Z``.

    Only the form is checked here; see :func:`moment` for the instant and whether it was a date.
    """
    return as_api_time(moment(text, now)[0])


def moment(text: str, now: datetime) -> tuple[datetime, bool]:
    """The instant ``text`` names, and whether it was a bare date (00:00 UTC at its start)."""
    value = text.strip()
    try:
        date_start = _date(value)
        found = _duration(value, now) or date_start or _time(value)
    except OverflowError:
        raise ExpiryError(f"{value!r} is too far in the future") from None
    if found is None:
        raise ExpiryError(f"{value!r} is not {FORMATS}")
    return found.replace(microsecond=0), date_start is not None


def as_api_time(instant: datetime) -> str:
    """RFC 3339 UTC to the second, as the API writes and takes times."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
