"""Revoking tokens: one at a time (a conditional delete), and sweeping away what cut-offs revoked."""
from __future__ import annotations

import logging
from datetime import datetime

from chalicelib import audit
from chalicelib.errors import NotFound
from chalicelib.model import ids
from chalicelib.model.events import EventType, new_event
from chalicelib.model.kinds import TokenKind
from chalicelib.services.security_log import report
from chalicelib.storage import Store

log = logging.getLogger(__name__)

_WORDS = {TokenKind.PAT: "personal access token", TokenKind.AGENT_RUN: "agent run token"}
_NOT_FOUND = {
    TokenKind.PAT: "No personal access token with this id.",
    TokenKind.AGENT_RUN: "No agent run token with this id.",
}


def delete_token(
    store: Store, kind: TokenKind, owner_id: str, token_id: str, *, now: datetime, actor_id: str,
    via_token_id: str | None = None,
) -> None:
    """Revoke one of a user's tokens at once (a PAT takes the run tokens it minted with it).

    Unknown, malformed, expired, already deleted and other users' ids (and unknown owners) all get
    the same 404, from the one conditional delete: no read first.
    """
    owner = ids.normalize(ids.USER, owner_id)
    canonical = ids.normalize(kind.spec.id_prefix, token_id)
    deleted = store.tokens.delete(owner, canonical, now) if owner and canonical else None
    if owner is None or deleted is None:
        audit.record("token.deleted", audit.FAILURE, actor_id, viaTokenId=via_token_id, userId=owner,
                     tokenId=canonical, kind=kind.value, reason="not_found")
        raise NotFound(_NOT_FOUND[kind])
    if deleted.rotated_from is not None:  # the tokens it replaced, if still in their windows, die with it
        store.tokens.end_windows(owner, deleted.rotated_from, deleted.id, now, successor_revoked=True)
    audit.record("token.deleted", audit.SUCCESS, actor_id, viaTokenId=via_token_id, userId=owner, tokenId=canonical,
                 kind=kind.value)
    if actor_id != owner:
        told = f"An administrator revoked your {_WORDS[kind]} \"{deleted.name}\"."
        report(store, new_event(owner, EventType.TOKEN_REVOKED_BY_ADMIN, told, now, token_id=deleted.id,
                                token_name=deleted.name))


def sweep_revoked_tokens(store: Store, *, users_per_run: int = 25) -> int:
    """Delete the items of tokens that revoke-all, deactivation or demotion revoked; how many.

    Runs on a schedule, off the request path: revoking costs the request two item writes,
    and the dead items leave the table here (they already left the lists and the authorizer).
    """
    deleted = 0
    for user_id, marker in store.users.pending_sweeps(users_per_run):
        user = store.users.get(user_id)
        swept = store.tokens.delete_revoked(user) if user is not None else 0
        store.users.finish_sweep(user_id, marker)
        audit.record("tokens.swept", audit.SUCCESS, "sweeper", userId=user_id, deleted=swept)
        deleted += swept
    return deleted
