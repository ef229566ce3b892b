"""Where and when a token is used: taken from API Gateway's request context, recorded sparingly.

The address is API Gateway's ``identity.sourceIp`` (the connection it served), never a header
the client wrote such as X-Forwarded-For; the user agent is ``identity.userAgent``. The
authorizer records it, having read the token already, so deciding costs no read; it writes at
most once per token per five minutes, or within a minute when the address changes (so a client
that switches addresses on every request, a dual-stack host or a NAT pool, still costs at most a
write a minute). What a PAT uses (model.used) is learned on the same write, and written at once
the first time each use is seen: at most a few writes in a token's life, none in steady state.
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
NEW_ADDRESS_GRANULARITY = timedelta(minutes=1)
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
    """The use API Gateway saw: its own record of the source address and user agent, at the
    whole second the table stores (so deciding here and the write's condition agree)."""
    identity = context.get("identity") or {}
    return Use(at=now.replace(microsecond=0), ip=identity.get("sourceIp") or None,
               user_agent=_printable(identity.get("userAgent")))


def record(store: Store, caller: Caller, use: Use, used: str | None = None) -> None:
    """Record ``use`` of the caller's token unless a use recorded recently enough stands for it:
    one within five minutes from the same address, or one within the minute from any. ``used``:
    what the request used (a route's ``Need.use``), learned by the PAT the first time it is seen,
    on the same write when the use is recorded too (a run token's parent, in a write of its own)."""
    stale_before, recent_before = use.at - GRANULARITY, use.at - NEW_ADDRESS_GRANULARITY
    learned = used if used is not None and not caller.has_used(used) else None
    if learned is not None and caller.parent_id is not None:
        store.tokens.learn_use(caller.user_id, caller.parent_id, learned, use.at)
        learned = None
    last = caller.last_used_at
    moved = use.ip is not None and use.ip != caller.last_used_ip
    if last is not None and (last >= recent_before or (last >= stale_before and not moved)):
        if learned is not None:
            store.tokens.learn_use(caller.user_id, caller.token_id, learned, use.at)
        return
    store.tokens.record_use(caller.user_id, caller.token_id, use.at, use.ip, use.user_agent,
                            stale_before=stale_before, recent_before=recent_before, learned=learned)


def _printable(user_agent: object) -> str | None:
    """At most 200 characters, without the control and format characters a terminal or a
    page would act on (a user agent is whatever the client sent)."""
    if not isinstance(user_agent, str):
        return None
    visible = "".join(char for char in user_agent if unicodedata.category(char) not in _UNPRINTABLE)
    return visible[:MAX_USER_AGENT].strip() or None
