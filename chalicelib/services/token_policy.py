"""Administering the token policy: reading it, replacing it, and previewing what a change blocks."""
from __future__ import annotations

from datetime import UTC, datetime

from chalicelib import audit
from chalicelib.errors import PolicyBlocksCaller
from chalicelib.model import ids
from chalicelib.model.accounts import User
from chalicelib.model.caller import Caller
from chalicelib.model.kinds import TokenKind
from chalicelib.model.token_policy import Blocked, Impact, TokenPolicy
from chalicelib.model.tokens import TokenRecord
from chalicelib.storage import Store

SAMPLE_SIZE = 20
_PAGE = 100
_PAT_PREFIX = TokenKind.PAT.spec.id_prefix


def get_policy(store: Store) -> TokenPolicy:
    """The policy in force (the defaults until an admin sets one)."""
    return store.policy.get()


def set_policy(store: Store, caller: Caller, policy: TokenPolicy, now: datetime) -> TokenPolicy:
    """Replace the policy, unless it would block the token asking (an admin cannot lock themselves out)."""
    if refusal := caller_refusal(caller, policy):
        audit.record("token_policy.updated", audit.DENIED, caller.user_id, viaTokenId=caller.token_id,
                     reason="policy_blocks_caller")
        raise PolicyBlocksCaller(refusal)
    store.policy.put(policy, updated_by=caller.user_id, now=now)
    # The policy before is the one the authorizer read with the caller's token: no read here.
    audit.record("token_policy.updated", audit.SUCCESS, caller.user_id, viaTokenId=caller.token_id,
                 before=caller.policy, after=policy.to_text())
    return policy


def caller_refusal(caller: Caller, policy: TokenPolicy) -> str | None:
    """Why saving ``policy`` with the caller's token would be refused (words for the admin), or None."""
    if caller.rotated_to is not None:
        # It fits any policy while its window lasts, but its successor may not: a change made
        # from it could leave no admin token working once the window ends.
        return (f"This token was rotated to {caller.rotated_to} and stops working soon; change the token policy "
                "with that token.")
    created_at = datetime.fromtimestamp(ids.issued_at_ms(caller.token_id) / 1000, UTC)
    if breach := policy.breach(caller.kind, caller.scope, created_at, caller.expires_at):
        return (f"This policy would block the token making the change ({breach}). Create a token that fits it "
                "and use that one, or choose a policy that allows this token.")
    return None


def impact(store: Store, proposed: TokenPolicy, now: datetime, caller: Caller) -> Impact:
    """Every live PAT of every active user checked against ``proposed``: one Query per page of
    users (the sparse user index) and one per page of each user's tokens, never a Scan; and
    whether saving it with the caller's token would be refused."""
    found = Impact(blocks_caller=caller_refusal(caller, proposed))
    for owner in _active_users(store):
        live = _live_pats(store, owner, now)
        blocked = [Blocked(owner, token, reason) for token in live
                   if (reason := proposed.breach(token.kind, token.scope, token.created_at, token.lifetime_expires_at))]
        found.read_write_preset_tokens += sum(
            1 for token in live if token.created_by_token_id is not None and token.created_via_invite_id is None
            and proposed.preset_refusal(token.scope, token.permissions) is not None)
        if blocked:
            found.users_affected += 1
            found.tokens_blocked += len(blocked)
            found.sample += blocked[:SAMPLE_SIZE - len(found.sample)]
    return found


def _active_users(store: Store) -> list[User]:
    users: list[User] = []
    cursor: str | None = None
    while True:
        page, cursor = store.users.page(_PAGE, cursor)
        users += [user for user in page if user.is_active]
        if cursor is None:
            return users


def _live_pats(store: Store, owner: User, now: datetime) -> list[TokenRecord]:
    tokens: list[TokenRecord] = []
    cursor: str | None = None
    while True:
        page, cursor = store.tokens.page(owner, _PAT_PREFIX, _PAGE, cursor, now)
        tokens += page
        if cursor is None:
            return tokens

