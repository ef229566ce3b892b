"""What the API says about the token in use besides the answer: ``OpenIndex-Token-Expires``,
and ``OpenIndex-Token-Rotated-To`` for a token rotated and in its grace window.

Every response to a request made with an expiring token carries the first (RFC 3339 UTC), so any
command can warn before the token stops working, the way GitHub's
``github-authentication-token-expiration`` lets clients do. The warning is one line on standard
error, so it never mixes into standard output or ``--json``. A token rotated elsewhere (in the web
UI, or by another copy of the profile) is not told to rotate itself, which would fail: it is told
to store its successor.
"""
from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from openindex_cli.durations import in_words
from openindex_cli.wording import local_time, parse_time

TOKEN_EXPIRES_HEADER = "OpenIndex-Token-Expires"
TOKEN_ROTATED_TO_HEADER = "OpenIndex-Token-Rotated-To"
WARN_WITHIN = timedelta(days=7)


def expiry_warning(header: str, now: datetime, token_label: str, rotate_advice: str,
                   rotated_to: str | None = None, successor_advice: str = "", zone: tzinfo | None = None,
                   ) -> str | None:
    """The warning for a token expiring within seven days of ``now``; None when it is further off.

    A token already rotated (``rotated_to``: its successor) stops at the end of its grace window;
    rotating it again is refused, so the advice is to store the successor instead.
    """
    expires = parse_time(header)
    if expires is None or expires - now > WARN_WITHIN:
        return None
    when = f"{in_words(expires - now)} ({local_time(expires, zone)})"
    if rotated_to:
        return (f"oi: warning: the token from {token_label} was rotated to {rotated_to} and stops working {when}; "
                f"{successor_advice}")
    return f"oi: warning: the token from {token_label} expires {when}; {rotate_advice}"
