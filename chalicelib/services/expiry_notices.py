"""Announcing tokens about to expire: once a day, each PAT that expires in 7 days or in 1 day
gets a ``token_expiring`` security event for its owner and a ``Token Expiring`` event on the bus
for the mail service. Off the request path; the tokens come from the expiry index, not a Scan.

The bus comes first: a run cut off after it and before the security event sends that bus event
again on its retry (the reader drops the repeat by ``noticeId``), where the other order would
lose the mail for good. The security event is stored once (its token's item keeps when).
"""
from __future__ import annotations

from datetime import datetime

from chalicelib import audit
from chalicelib.messaging.bus import EventBus
from chalicelib.messaging.token_events import token_expiring
from chalicelib.model.expiry_notices import ExpiryNotice, notice_days, notice_for, start_of_day, worth_announcing
from chalicelib.storage import Store

ACTOR = "expiry-notices"


class NoticesNotDelivered(Exception):
    """The bus refused some notices: the run fails so that Lambda runs it again (the notices
    already given are not given twice)."""


def announce_expiring_tokens(store: Store, bus: EventBus, now: datetime) -> list[ExpiryNotice]:
    """Give today's notices (see the module); the notices given."""
    today = now.date()
    tokens, owners, policy = store.tokens.expiring(notice_days(today))
    notices = [notice for token in tokens if (notice := notice_for(token, today)) is not None
               and worth_announcing(token, owners.get(token.user_id), policy, now)]
    if not notices:
        return []
    events = [token_expiring(notice, now) for notice in notices]
    refused = bus.publish(events)
    given = [notice for notice, event in zip(notices, events, strict=True) if event not in refused
             and store.events.tell_once(notice.security_event(now), since=start_of_day(now),
                                        expiring_at=notice.expires_at)]
    for notice in given:
        audit.record("token.expiry_announced", audit.SUCCESS, ACTOR, userId=notice.token.user_id,
                     tokenId=notice.token.id, daysLeft=notice.days_left)
    if refused:
        audit.record("token.expiry_announced", audit.FAILURE, ACTOR, refused=len(refused))
        raise NoticesNotDelivered(f"the event bus refused {len(refused)} of {len(notices)} expiry notices")
    return given
