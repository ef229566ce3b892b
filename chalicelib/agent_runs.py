"""Workflow agent run tokens: short-lived read_write tokens minted from a person's PAT."""
from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib import audit, ids, token_codec
from chalicelib.access import Caller
from chalicelib.models import Scope, TokenKind, TokenRecord
from chalicelib.store import Store
from chalicelib.tokens import IssuedToken

DEFAULT_LIFETIME_SECONDS = 3600
MAX_LIFETIME_SECONDS = 86400


def mint_run_token(
    store: Store,
    caller: Caller,
    agent_id: str,
    stage: str | None,
    lifetime_seconds: int,
    now: datetime,
) -> IssuedToken:
    """A run token for ``agent_id``, valid for ``lifetime_seconds`` but never past its parent PAT.

    The caller's PAT is named in the run token, so deleting that PAT revokes the run token too.
    """
    expires_at = now + timedelta(seconds=lifetime_seconds)
    if caller.expires_at is not None:
        expires_at = min(expires_at, caller.expires_at)
    run_id = ids.new_id(ids.RUN, now)
    minted = token_codec.mint(token_codec.RUN, (caller.user_id, run_id, caller.token_id))
    record = TokenRecord(
        id=run_id,
        user_id=caller.user_id,
        name=agent_id,
        scope=Scope.READ_WRITE,
        kind=TokenKind.AGENT_RUN,
        digest=minted.digest,
        created_at=now,
        expires_at=expires_at,
        agent_id=agent_id,
        stage=stage,
        parent_id=caller.token_id,
    )
    store.put_token(record)
    audit.record("token.created", audit.SUCCESS, caller.user_id, tokenId=run_id, viaTokenId=caller.token_id,
                 scope=record.scope.value, kind=record.kind.value, agentId=agent_id)
    return IssuedToken(record=record, value=minted.value)
