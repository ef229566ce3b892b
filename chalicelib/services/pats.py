"""Personal access tokens: issue, list and explain them."""
from __future__ import annotations

from datetime import datetime

from chalicelib import audit
from chalicelib.errors import InsufficientScope, PolicyViolation
from chalicelib.model import ids
from chalicelib.model.accounts import User
from chalicelib.model.addresses import AllowedIps
from chalicelib.model.caller import Caller
from chalicelib.model.expiry import require_future_within
from chalicelib.model.grants import Grant
from chalicelib.model.kinds import Scope, TokenKind
from chalicelib.model.token_policy import TokenPolicy
from chalicelib.model.tokens import (
    MAX_LIFETIME,
    BlockedReason,
    CreationLimit,
    IssuedToken,
    TokenRecord,
    escalation,
    new_token,
    require_within_maker,
)
from chalicelib.storage import Store

PAT_ID_PREFIX = TokenKind.PAT.spec.id_prefix


def create_pat(
    store: Store, caller: Caller, *, name: str, scope: Scope | None, expires_at: datetime | None, now: datetime,
    permissions: Grant | None = None, allowed_ips: AllowedIps | None = None,
) -> IssuedToken:
    """A new PAT for the caller: of a preset ``scope``, or with ``permissions`` family by family
    (stored as the preset it equals, if it equals one), used from ``allowed_ips`` (None: the
    calling token's ranges); never able to do more, or from more places, than the token asking
    for it. Stored only if the caller's token is still as the authorizer saw it (CreatorRevoked
    otherwise)."""
    if permissions is not None:
        scope = permissions.preset() or permissions.least_scope()
        permissions = None if permissions.preset() else permissions
    assert scope is not None  # the request gives a scope or permissions
    if refusal_words := caller.token_policy.preset_refusal(scope, permissions):
        audit.record("token.create", audit.DENIED, caller.user_id, tokenId=caller.token_id, scope=scope.value,
                     reason="policy_refuses_preset")
        raise PolicyViolation(f"Invalid request: {refusal_words}.")
    wanted = permissions if permissions is not None else Grant.of_scope(scope)
    if refusal := escalation(caller.scope, caller.grant, scope, wanted, "create"):
        audit.record("token.create", audit.DENIED, caller.user_id, tokenId=caller.token_id, scope=scope.value,
                     reason="scope_escalation")
        raise refusal
    addresses = caller.addresses if allowed_ips is None else allowed_ips
    if not addresses.within(caller.addresses):
        audit.record("token.create", audit.DENIED, caller.user_id, tokenId=caller.token_id, reason="wider_ranges")
        raise InsufficientScope(f"This token works only from {caller.addresses.in_words()}, so it cannot create one "
                                "that works from other addresses; give allowedIps within those, or leave it out.",
                                required_scope="")
    if expires_at is not None:
        require_future_within(
            expires_at, now, MAX_LIFETIME, "within 100 years; omit it for a token that does not expire"
        )
    expires_at = caller.token_policy.pat_expiry(scope, expires_at, now)
    require_within_maker(caller.expires_at, expires_at)
    issued = new_token(TokenKind.PAT, user_id=caller.user_id, name=name, scope=scope, expires_at=expires_at, now=now,
                       not_after=caller.expires_at, made_by=caller.maker, permissions=permissions,
                       allowed_ips=addresses)
    store.tokens.put_created_by(issued.record, creator=caller.creator, now=now)
    audit.record("token.created", audit.SUCCESS, caller.user_id, tokenId=issued.record.id,
                 viaTokenId=caller.token_id, scope=scope.value, kind=issued.record.kind.value,
                 permissions=issued.record.grant.to_text())
    return issued


def list_pats(
    store: Store, owner: User, *, limit: int, cursor: str | None, now: datetime
) -> tuple[list[TokenRecord], str | None]:
    """One page of a user's live PATs, and those rotated away in the last 30 days, newest first,
    and the cursor of the next page."""
    start_after = ids.cursor_start(PAT_ID_PREFIX, cursor)
    return store.tokens.page(owner, PAT_ID_PREFIX, limit, start_after, now, with_rotated_away=True)


def why_blocked(token: TokenRecord, policy: TokenPolicy, now: datetime) -> BlockedReason | None:
    """Why the authorizer refuses this listed token: rotated away, or blocked by the policy."""
    if token.rotated_to is not None and token.is_expired(now):
        if token.successor_revoked:
            return BlockedReason("rotated", f"Rotated to {token.rotated_to}, which was deleted or revoked since: "
                                            "neither works. Create a new token.")
        return BlockedReason("rotated", f"Rotated to {token.rotated_to}, and its grace period is over: it no longer "
                                        "works. Use its successor.")
    if breach := policy.breach(token.kind, token.scope, token.created_at, token.lifetime_expires_at):
        return BlockedReason("blocked_by_policy", f"Blocked by the instance's token policy: {breach}. It works again "
                                            "if an admin relaxes the policy; or create a token that fits it.")
    return None


def creation_limits(caller: Caller, now: datetime) -> dict[Scope, CreationLimit]:
    """The limits on a new PAT of each scope the caller's token may create (none for a run
    token): the token policy's caps, and the calling token's own expiry."""
    if not caller.kind.spec.held_by_person:
        return {}
    policy = caller.token_policy
    limits = {}
    for scope in Scope:
        if not caller.scope.covers(scope):
            continue
        longest, _ = policy.longest(TokenKind.PAT, scope)
        caps = [moment for moment in (now + longest if longest else None, caller.expires_at) if moment is not None]
        filled = policy.pat_expiry(scope, None, now, asked=False)
        no_expiry = filled is None and caller.expires_at is None
        fits = filled is not None and (caller.expires_at is None or filled <= caller.expires_at)
        limits[scope] = CreationLimit(
            latest_expires_at=min(caps) if caps else None, no_expiry_allowed=no_expiry,
            left_out="no_expiry" if no_expiry else "latest" if fits else "refused",
            left_out_expires_at=filled if fits else None, refused=policy.preset_refusal(scope, None))
    return limits
