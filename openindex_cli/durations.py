"""Durations both ways: ``--grace`` as whole seconds, and the time left until a moment in words."""
from __future__ import annotations

import re
from datetime import timedelta

MAX_GRACE_SECONDS = 86400  # the API's cap: the old token works at most one more day
GRACE_FORMATS = "seconds (90) or a number with s, m, h or d (90s, 30m, 1h, 1d)"
_GRACE = re.compile(r"(\d{1,9})([smhd]?)", re.ASCII)
_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_WORDS = (("day", 86400), ("hour", 3600), ("minute", 60))


class DurationError(ValueError):
    """Input that is not a grace window, with the reason in words."""


def grace_seconds(text: str) -> int:
    """``text`` (``90``, ``90s``, ``30m``, ``1h``, ``1d``) as seconds, 0 to one day."""
    value = text.strip()
    match = _GRACE.fullmatch(value)
    if match is None:
        raise DurationError(f"{value!r} is not a duration: use {GRACE_FORMATS}")
    seconds = int(match.group(1)) * _SECONDS[match.group(2)]
    if seconds > MAX_GRACE_SECONDS:
        raise DurationError(f"{value!r} is more than one day ({MAX_GRACE_SECONDS} seconds), the longest grace window")
    return seconds


def seconds(text: str, shortest: int, longest: int) -> int:
    """``text`` (``90``, ``90s``, ``30m``, ``1h``, ``1d``) as seconds, ``shortest`` to ``longest``."""
    value = text.strip()
    match = _GRACE.fullmatch(value)
    if match is None:
        raise DurationError(f"{value!r} is not a duration: use {GRACE_FORMATS}")
    count = int(match.group(1)) * _SECONDS[match.group(2)]
    if count < shortest:
        raise DurationError(f"{value!r} is shorter than {_span(shortest)}, the shortest")
    if count > longest:
        raise DurationError(f"{value!r} is longer than {_span(longest)}, the longest")
    return count


def _span(seconds: int) -> str:
    """``1 minute``, ``1 day``: a whole number of the largest unit that fits."""
    for unit, size in (*_WORDS, ("second", 1)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} seconds"


def in_words(left: timedelta) -> str:
    """``in 6 days``, ``in 1 hour``, ``in 12 minutes``: the largest whole unit, rounded down."""
    seconds = int(left.total_seconds())
    for unit, size in _WORDS:
        if seconds >= size:
            count = seconds // size
            return f"in {count} {unit}{'' if count == 1 else 's'}"
    return "in less than a minute" if seconds > 0 else "now"
