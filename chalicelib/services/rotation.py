"""Rotation: a successor PAT with the same name and scope, and a grace window for the old one.

Both happen in one transaction, so a client that loses the response still holds a token that
works for the window, and two concurrent rotations cannot make two successors. A rotated token
used after its window is refused and logged (see services.authentication), and nothing else
happens to it or its successor: revoking a whole family on reuse is the outage GitLab's reuse
detection caused.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib import audit
from chalicelib.errors import AlreadyRotated, Conflict, ExpiryExceedsToken, InsufficientScope, NotFound
from chalicelib.model import ids
from chalicelib.model.accounts import earliest
from chalicelib.model.caller import Caller
from chalicelib.model.events import EventType, repeatable_event, told_recently
from chalicelib.model.expiry import require_future_within, span_in_words
from chalicelib.model.expiry_notices import kept_by_successor
from chalicelib.model.kinds import TokenKind
from chalicelib.model.tokens import (
    MAX_LIFETIME,
    IssuedToken,
    LeftOut,
    TokenRecord,
    escalation,
    new_token,
    require_within_maker,
)
from chalicelib.storage import Store
from chalicelib.storage.errors import RotationLost
from chalicelib.timeutil import to_iso

SELF = "self"
_PAT = TokenKind.PAT.spec


@dataclass(frozen=True)
class Rotation:
    """A successor, and when the token it replaced stops working."""

    successor: IssuedToken
    old_id: str
    old_stops_at: datetime


def rotate_pat(
    store: Store, caller: Caller, token_ref: str, *, expires_at: datetime | None | LeftOut,
    grace_seconds: int, now: datetime,
) -> Rotation:
    """Replace one of the caller's PATs (``self``: the calling one) with a successor; the old
    one works ``grace_seconds`` more (never past its own expiry). ``expires_at`` left out keeps
    the old token's lifetime length."""
    token_id = caller.token_id if token_ref == SELF else ids.normalize(_PAT.id_prefix, token_ref)
    found = store.tokens.get_many(caller.user_id, [token_id]).get(token_id) if token_id else None
    old = _rotatable(store, caller, found, now)
    rotating_itself = old.id == caller.token_id
    if not rotating_itself and not old.allowed_ips.within(caller.addresses):
        raise InsufficientScope(f"This token works only from {caller.addresses.in_words()}, so it cannot rotate a "
                                "token that works from other addresses; rotate it with a token that may.",
                                required_scope="")
    if not rotating_itself and (refusal := escalation(caller.scope, caller.grant, old.scope, old.grant, "rotate")):
        audit.record("token.rotated", audit.DENIED, caller.user_id, tokenId=old.id, viaTokenId=caller.token_id,
                     scope=old.scope.value, reason="scope_escalation")
        raise refusal
    not_after = old.not_after if rotating_itself else _earlier(old.not_after, caller.expires_at)
    successor_expiry = caller.token_policy.pat_expiry(
        old.scope, _successor_expiry(old, expires_at, old.not_after, now), now,
        asked=not isinstance(expires_at, LeftOut))
    if rotating_itself:
        _require_within_own_lifetime(old, successor_expiry, now)
    else:
        require_within_maker(caller.expires_at, successor_expiry)
    # The old token works for the grace period, but never past its own expiry or its successor's.
    window_end = min([now + timedelta(seconds=grace_seconds)]
                     + [limit for limit in (old.expires_at, successor_expiry) if limit is not None])
    # It descends from both the old token and the caller's: a cut-off that reaches either reaches it.
    made_by = dataclasses.replace(caller.maker, lineage_issued_ms=min(old.line_issued_ms, caller.line_issued_ms),
                                  revocations_seen=earliest(old.revocations_seen, caller.revocations_seen))
    successor = new_token(TokenKind.PAT, user_id=old.user_id, name=old.name, scope=old.scope,
                          expires_at=successor_expiry, now=now, rotated_from=old.id, not_after=not_after,
                          made_by=made_by, permissions=old.permissions, allowed_ips=old.allowed_ips)
    successor = dataclasses.replace(successor, record=dataclasses.replace(
        successor.record, used=old.used, told=kept_by_successor(old.told)))
    try:
        store.tokens.rotate(old, successor.record, window_end=window_end, now=now, creator=caller.creator)
    except RotationLost as lost:  # rotated (409) or gone (404) meanwhile: the item as it was says which
        _rotatable(store, caller, lost.found, now)
        raise Conflict() from None
    if old.rotated_from is not None:  # the token it replaced, if still in its window, stops with it
        store.tokens.end_windows(old.user_id, old.rotated_from, old.id, window_end)
    audit.record("token.rotated", audit.SUCCESS, caller.user_id, tokenId=old.id, successorId=successor.record.id,
                 viaTokenId=caller.token_id, graceSeconds=grace_seconds, oldStopsAt=to_iso(window_end))
    return Rotation(successor=successor, old_id=old.id, old_stops_at=window_end)


def _rotatable(store: Store, caller: Caller, record: TokenRecord | None, now: datetime) -> TokenRecord:
    """``record`` if it is a live, not yet rotated PAT of the caller. 404 for anything that is no
    PAT of theirs; 409 for one already rotated, even after its window (a client retrying a lost
    answer learns where its token went, rather than that it never existed)."""
    if (record is None or record.deleted_at is not None or record.kind is not TokenKind.PAT
            or record.user_id != caller.user_id
            or caller.owner.revocation_of(record.line_issued_ms, record.scope, record.revocations_seen)):
        raise NotFound(_PAT.not_found)
    if record.rotated_to is not None:
        raise _replayed(store, caller, record, now)
    if record.is_expired(now):
        raise NotFound(_PAT.not_found)
    return record


def _replayed(store: Store, caller: Caller, old: TokenRecord, now: datetime) -> AlreadyRotated:
    """A second rotation of one token: a client retrying a lost answer, or someone else holding
    a copy of the old token. Refused, audited, and told to the owner (once an hour)."""
    audit.record("token.rotated", audit.DENIED, caller.user_id, tokenId=old.id, successorId=old.rotated_to,
                 viaTokenId=caller.token_id, reason="already_rotated")
    if not told_recently(old.told, EventType.ROTATION_REPLAYED, now):
        store.events.report(repeatable_event(
            caller.user_id, EventType.ROTATION_REPLAYED, f"Someone asked to rotate \"{old.name}\" again after it "
            f"was rotated to {old.rotated_to}; nothing changed. A client retrying a lost answer does this; if none "
            "of yours did, someone else holds the old token: delete it.", now, token_id=old.id, token_name=old.name))
    stops = ("" if old.expires_at is None else
             f" and {'stops' if old.expires_at > now else 'stopped'} working at {to_iso(old.expires_at)}")
    successor = old.rotated_to
    return AlreadyRotated(f"This token was already rotated to {successor}{stops}; rotate {successor} instead.")


def _successor_expiry(
    old: TokenRecord, requested: datetime | None | LeftOut, not_after: datetime | None, now: datetime
) -> datetime | None:
    """The asked-for expiry, or a fresh lifetime as long as the old token's (none stays none),
    never past ``not_after``, the expiry of the token the chain was created from."""
    if isinstance(requested, LeftOut):
        kept = now + (old.expires_at - old.created_at) if old.expires_at is not None else None
        return _earlier(kept, not_after)
    if requested is not None:
        require_future_within(
            requested, now, MAX_LIFETIME, "within 100 years; send null for a token that does not expire"
        )
    if not_after is not None and (requested is None or requested > not_after):
        raise ExpiryExceedsToken(
            f"Invalid request: this token was created by a token that expires at {to_iso(not_after)}, and "
            f"nothing made from it may outlive that; set expiresAt at or before {to_iso(not_after)}."
        )
    return requested


def _require_within_own_lifetime(old: TokenRecord, expires_at: datetime | None, now: datetime) -> None:
    """A token rotating itself renews its lifetime; it does not lengthen it."""
    if old.expires_at is None:
        return
    lifetime = old.expires_at - old.created_at
    if expires_at is None or expires_at > now + lifetime:
        raise ExpiryExceedsToken(
            f"Invalid request: this token was made to live {span_in_words(lifetime)}, so rotating it may renew that "
            f"lifetime but not lengthen it; set expiresAt at or before {to_iso(now + lifetime)}, or leave it "
            "out to keep the same lifetime."
        )


def _earlier(first: datetime | None, second: datetime | None) -> datetime | None:
    """The earlier of two optional moments (None: never)."""
    return min(first, second) if first is not None and second is not None else first or second

