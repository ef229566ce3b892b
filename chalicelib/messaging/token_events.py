"""The events this service puts on the bus, each spelled once: its detail-type and its detail."""
from __future__ import annotations

from datetime import datetime

from chalicelib.messaging.bus import BusEvent
from chalicelib.model.accounts import User
from chalicelib.model.expiry_notices import ExpiryNotice
from chalicelib.timeutil import to_iso

TOKEN_EXPIRING = "Token Expiring"


def token_expiring(notice: ExpiryNotice, owner: User, now: datetime) -> BusEvent:
    """A PAT expires in ``daysLeft`` UTC days: for the mail service to tell its owner, at ``email``
    (so that it needs no token of its own to look them up). ``noticeId`` is the same for every
    attempt, so a repeat can be dropped."""
    return BusEvent(TOKEN_EXPIRING, {
        "noticeId": notice.id,
        "userId": notice.token.user_id,
        "email": owner.email,
        "tokenId": notice.token.id,
        "tokenName": notice.token.name,
        "expiresAt": to_iso(notice.expires_at),
        "daysLeft": notice.days_left,
    }, now)
