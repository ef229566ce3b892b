"""Workflow agent run tokens: short-lived read_write tokens minted from a person's PAT."""
from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib import audit
from chalicelib.errors import InsufficientScope
from chalicelib.model import ids
from chalicelib.model.accounts import User
from chalicelib.model.caller import Caller
from chalicelib.model.grants import Grant
from chalicelib.model.kinds import Scope, TokenKind
from chalicelib.model.tokens import RUN_TOKEN_DEFAULT_SECONDS, IssuedToken, LeftOut, TokenRecord, new_token
from chalicelib.storage import Store

RUN_ID_PREFIX = TokenKind.AGENT_RUN.spec.id_prefix


def mint_run_token(
    store: Store, caller: Caller, *, agent_id: str, stage: str | None, lifetime_seconds: int | LeftOut,
    now: datetime, permissions: Grant | None = None,
) -> IssuedToken:
    """A run token for ``agent_id``, valid for ``lifetime_seconds`` (an hour when left out; within
    the token policy: 400 beyond it when asked for, cut to it when not) but never past its
    parent PAT. The caller's PAT is named in the run token, so deleting that PAT revokes it too.
    ``permissions`` narrows it to one run's needs: never more than the PAT's grant (403).
    """
    if permissions is not None and not permissions.within(caller.grant):
        raise InsufficientScope("A run token cannot have a permission its personal access token does not have.",
                                required_scope=permissions.to_text())
    asked = not isinstance(lifetime_seconds, LeftOut)
    seconds = lifetime_seconds if not isinstance(lifetime_seconds, LeftOut) else RUN_TOKEN_DEFAULT_SECONDS
    expires_at = caller.token_policy.run_token_expiry(now + timedelta(seconds=seconds), now, asked=asked)
    if caller.expires_at is not None:
        expires_at = min(expires_at, caller.expires_at)
    issued = new_token(
        TokenKind.AGENT_RUN, user_id=caller.user_id, name=agent_id, scope=Scope.READ_WRITE, now=now,
        expires_at=expires_at, parent_id=caller.token_id, agent_id=agent_id, stage=stage, made_by=caller.maker,
        permissions=permissions,
    )
    store.tokens.put_created_by(issued.record, creator=caller.creator, now=now)
    audit.record("token.created", audit.SUCCESS, caller.user_id, tokenId=issued.record.id,
                 viaTokenId=caller.token_id, scope=Scope.READ_WRITE.value, kind=TokenKind.AGENT_RUN.value,
                 agentId=agent_id, permissions=issued.record.grant.to_text())
    return issued


def list_run_tokens(
    store: Store, owner: User, *, limit: int, cursor: str | None, now: datetime
) -> tuple[list[TokenRecord], str | None]:
    """One page of a user's live run tokens, newest first: unexpired, not revoked, and minted by
    a PAT that is itself still live (one more batched read per page, for the parents)."""
    start_after = ids.cursor_start(RUN_ID_PREFIX, cursor)
    page, next_cursor = store.tokens.page(owner, RUN_ID_PREFIX, limit, start_after, now)
    parents = store.tokens.get_many(owner.id, sorted({token.parent_id for token in page if token.parent_id}))
    live = [token for token in page if _parent_is_live(parents.get(token.parent_id or ""), owner, now)]
    return live, next_cursor


def _parent_is_live(parent: TokenRecord | None, owner: User, now: datetime) -> bool:
    return (parent is not None and parent.deleted_at is None and not parent.is_expired(now)
            and owner.revocation_of(parent.line_issued_ms, parent.scope, parent.revocations_seen) is None)
