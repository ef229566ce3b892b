"""Narrowing a PAT: a smaller grant or an earlier expiry for the same secret, so a token found
to hold more than it needs is cut down where it runs, without redeploying a new value.

Only ever narrower: a grant within the token's own (and within the calling token's), an expiry
no later than its own. Audited, and told to the owner as a security event written with the
change, so a thief cannot narrow a token quietly to learn it is theirs."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from chalicelib import audit
from chalicelib.errors import Conflict, InsufficientScope, NotFound, NotNarrower
from chalicelib.model import ids
from chalicelib.model.caller import Caller
from chalicelib.model.events import EventType, new_event
from chalicelib.model.expiry import require_future_within
from chalicelib.model.grants import Grant
from chalicelib.model.kinds import Scope, TokenKind
from chalicelib.model.tokens import MAX_LIFETIME, TokenRecord, escalation
from chalicelib.storage import Store
from chalicelib.storage.errors import CreatorRevoked, NarrowingLost
from chalicelib.timeutil import to_iso

_PAT = TokenKind.PAT.spec


@dataclass(frozen=True)
class Narrowing:
    """A PAT as narrowed (or as it would be, for a dry run), and which of the uses recorded for it
    the narrowing would have refused."""

    token: TokenRecord
    refused_uses: list[str]


def narrow_pat(
    store: Store, caller: Caller, token_ref: str, *, grant: Grant | None, expires_at: datetime | None,
    now: datetime, dry_run: bool = False,
) -> Narrowing:
    """Narrow one of the caller's PATs to ``grant`` (None: keep it) and ``expires_at`` (None: keep
    it); the token as it is now (``dry_run``: as it would be, nothing stored). 403 for anything
    wider than the token or the calling token; 404 for no live PAT of theirs; 409 for a rotated
    one, or one changed meanwhile."""
    token_id = ids.normalize(_PAT.id_prefix, token_ref)
    found = store.tokens.get_many(caller.user_id, [token_id]).get(token_id) if token_id else None
    old = _narrowable(caller, found, now)
    if expires_at is not None:
        require_future_within(expires_at, now, MAX_LIFETIME, "within 100 years")
    wanted = grant if grant is not None else old.grant
    scope = _scope_of(wanted, old)
    refusal = _wider(old, wanted, expires_at) or escalation(caller.scope, caller.grant, scope, wanted, "narrow to")
    if refusal is not None:
        audit.record("token.narrowed", audit.DENIED, caller.user_id, tokenId=old.id, viaTokenId=caller.token_id,
                     permissions=wanted.to_text(), reason=refusal.code)
        raise refusal
    # A PAT given permissions family by family keeps them, even when they add up to a preset: a
    # preset PAT may manage tokens, which the token could not do.
    narrowed = dataclasses.replace(
        old, scope=scope, permissions=None if wanted.preset() and old.permissions is None else wanted,
        expires_at=expires_at or old.expires_at, lifetime_expires_at=expires_at or old.lifetime_expires_at,
        not_after=_earlier(old.not_after, expires_at))
    refused = old.used.refused_by(narrowed.grant)
    if dry_run:
        return Narrowing(narrowed, refused)
    told = new_event(old.user_id, EventType.TOKEN_NARROWED, _in_words(old, narrowed), now, token_id=old.id,
                     token_name=old.name)
    try:
        store.tokens.narrow(old, narrowed, told=told, now=now)
    except NarrowingLost as lost:  # gone (404), rotated (409) or changed (409) meanwhile
        _narrowable(caller, lost.found, now)
        raise Conflict("The token changed while it was being narrowed; list it again and retry.") from None
    except CreatorRevoked:  # a revoke-all, deactivation or demotion revoked it meanwhile
        raise NotFound(_PAT.not_found) from None
    audit.record("token.narrowed", audit.SUCCESS, caller.user_id, tokenId=old.id, viaTokenId=caller.token_id,
                 scope=scope.value, permissions=wanted.to_text(),
                 expiresAt=to_iso(narrowed.expires_at) if narrowed.expires_at else None)
    return Narrowing(narrowed, refused)


def _narrowable(caller: Caller, record: TokenRecord | None, now: datetime) -> TokenRecord:
    """``record`` if it is a live, not rotated PAT of the caller: 404 for anything that is no PAT
    of theirs, 409 for one rotated (narrow its successor: the old one is on its way out)."""
    if (record is None or record.deleted_at is not None or record.kind is not TokenKind.PAT
            or record.user_id != caller.user_id or record.is_expired(now)
            or caller.owner.revocation_of(record.line_issued_ms, record.scope, record.revocations_seen)):
        raise NotFound(_PAT.not_found)
    if record.rotated_to is not None:
        raise Conflict(f"This token was rotated to {record.rotated_to}: narrow {record.rotated_to} instead.")
    return record


def _scope_of(grant: Grant, old: TokenRecord) -> Scope:
    """The scope a narrowed token is stored with: its own while its grant is unchanged, the
    preset the grant equals, or the narrowest scope holding it (as at creation)."""
    if grant == old.grant:
        return old.scope
    return grant.preset() or grant.least_scope()


def _earlier(first: datetime | None, second: datetime | None) -> datetime | None:
    """The earlier of two optional moments (None: never)."""
    return min(first, second) if first is not None and second is not None else first or second


def _wider(old: TokenRecord, grant: Grant, expires_at: datetime | None) -> InsufficientScope | None:
    """The refusal of a grant or expiry wider than the token's own, or None."""
    if beyond := grant.beyond(old.grant):
        return NotNarrower(f"Narrowing only takes away: this token cannot {grant.excess_over(old.grant).in_words()} "
                           "now, so it cannot be given that. Create a new token for more.",
                           required_scope=",".join(beyond))
    if old.expires_at is not None and expires_at is not None and expires_at > old.expires_at:
        return NotNarrower(f"Narrowing only brings an expiry forward: this token expires at {to_iso(old.expires_at)}; "
                           f"set expiresAt at or before it.", required_scope="")
    return None


def _in_words(old: TokenRecord, narrowed: TokenRecord) -> str:
    """The owner's security event: what the token may do now, and whether it stops sooner."""
    said = f"\"{old.name}\" was narrowed: from now on it may only {narrowed.grant.in_words()}."
    if narrowed.grant == old.grant:
        said = f"\"{old.name}\" was narrowed: it keeps its permissions."
    if narrowed.expires_at != old.expires_at:
        said += " It stops working sooner than it did."
    return said
