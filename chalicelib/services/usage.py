"""Where and when a token is used: taken from API Gateway's request context, recorded sparingly.

The address is API Gateway's ``identity.sourceIp`` (the connection it served), never a header
the client wrote such as X-Forwarded-For; the user agent is ``identity.userAgent``. The
authorizer already read the token, so deciding whether to record costs no read; the write
happens at most once per token per five minutes, or at once when the address changes. It runs
in the route's handler, after the authorizer's one read, so authorization itself never writes.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.model.caller import Caller
from chalicelib.storage import Store

GRANULARITY = timedelta(minutes=5)
MAX_USER_AGENT = 200
# Controls, format characters (direction overrides, zero-width), separators that break lines,
# surrogates, private-use and unassigned code points.
_UNPRINTABLE = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


@dataclass(frozen=True)
class Use:
    """One use of a token: when, from which address, with which user agent."""

    at: datetime
    ip: str | None
    user_agent: str | None


def from_request_context(context: Mapping[str, Any], now: datetime) -> Use:
    """The use API Gateway saw: its own record of the source address and user agent."""
    identity = context.get("identity") or {}
    return Use(at=now, ip=identity.get("sourceIp") or None, user_agent=_printable(identity.get("userAgent")))


def record(store: Store, caller: Caller, use: Use) -> None:
    """Record ``use`` of the caller's token unless a recent one from the same address is stored."""
    stale_before = use.at - GRANULARITY
    fresh = caller.last_used_at is not None and caller.last_used_at >= stale_before
    if fresh and (use.ip is None or use.ip == caller.last_used_ip):
        return
    store.tokens.record_use(caller.user_id, caller.token_id, use.at, use.ip, use.user_agent,
                            stale_before=stale_before)


def _printable(user_agent: object) -> str | None:
    """At most 200 characters, without the control and format characters a terminal or a
    page would act on (a user agent is whatever the client sent)."""
    if not isinstance(user_agent, str):
        return None
    visible = "".join(char for char in user_agent if unicodedata.category(char) not in _UNPRINTABLE)
    return visible[:MAX_USER_AGENT].strip() or None
