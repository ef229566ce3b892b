"""Announcing tokens about to expire: once a day, each PAT whose notice fell due (a week ahead,
the day before: chalicelib/model/expiry_notices.py) gets a ``token_expiring`` security event for
its owner and a ``Token Expiring`` event on the bus for the mail service. Off the request path;
the tokens come from the expiry index, not a Scan.

The bus comes first, ten notices at a time: a run cut off after it and before the security events
sends those bus events again on its retry (the reader drops a repeat by ``noticeId``), where the
other order would lose the mail for good. The security event is stored once (its token's item
keeps when). The day-before notices go first, and owners take turns, so that a run cut short
gives the most urgent notices of everyone.
"""
from __future__ import annotations

from datetime import datetime

from chalicelib import audit
from chalicelib.messaging.bus import EventBus
from chalicelib.messaging.token_events import token_expiring
from chalicelib.model.expiry_notices import ExpiryNotice, expiry_days, in_turns, notice_for, still_works, utc_day
from chalicelib.storage import Store
from chalicelib.storage.errors import ConcurrentChange

ACTOR = "expiry-notices"


# Notices given per round: one PutEvents call, then their security events, so that a run cut
# short (a timeout) sends again at most one round's bus events.
ROUND = 10


class NoticesNotDelivered(Exception):
    """Some notices were not given (the bus refused them, or another write held their token): the
    run fails so that Lambda runs it again (twice at most; the next day's run catches up what is
    still not given), and the notices already given are not given twice."""


def announce_expiring_tokens(store: Store, bus: EventBus, now: datetime) -> list[ExpiryNotice]:
    """Give today's notices (see the module); the notices given."""
    today = utc_day(now)
    tokens, owners, policy = store.tokens.expiring(expiry_days(today))
    notices = in_turns([notice for token in tokens if (notice := notice_for(token, today)) is not None
                        and still_works(token, owners.get(token.user_id), policy, now)])
    given: list[ExpiryNotice] = []
    missed = 0
    for start in range(0, len(notices), ROUND):
        batch = notices[start:start + ROUND]
        events = [token_expiring(notice, owners[notice.token.user_id], now) for notice in batch]
        refused = bus.publish(events)
        for notice, event in zip(batch, events, strict=True):
            if event in refused:
                missed += 1
                continue
            try:
                told = store.events.tell_expiring(notice.security_event(now), since=notice.since,
                                                  expires_at=notice.expires_at,
                                                  line=(notice.token.line_issued_ms, notice.token.scope))
            except ConcurrentChange:  # another write held the token: tell it on the retry
                missed += 1
                continue
            if told:
                given.append(notice)
                audit.record("token.expiry_announced", audit.SUCCESS, ACTOR, userId=notice.token.user_id,
                             tokenId=notice.token.id, daysLeft=notice.days_left)
    if missed:
        audit.record("token.expiry_announced", audit.FAILURE, ACTOR, missed=missed)
        raise NoticesNotDelivered(f"{missed} of {len(notices)} expiry notices were not given")
    return given
