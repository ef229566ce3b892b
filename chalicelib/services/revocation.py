"""Revoking tokens: one at a time, all of a user's at once (revoke-all), and sweeping away the
items of what cut-offs revoked."""
from __future__ import annotations

from datetime import datetime

from chalicelib import audit
from chalicelib.errors import NotFound
from chalicelib.model import ids
from chalicelib.model.events import EventType, new_event
from chalicelib.model.kinds import TokenKind
from chalicelib.storage import Store
from chalicelib.storage.errors import UserChanged
from chalicelib.timeutil import to_iso


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
        raise NotFound(kind.spec.not_found)
    if deleted.rotated_from is not None:  # the tokens it replaced, if still in their windows, die with it
        store.tokens.end_windows(owner, deleted.rotated_from, deleted.id, now, successor_revoked=True)
    audit.record("token.deleted", audit.SUCCESS, actor_id, viaTokenId=via_token_id, userId=owner, tokenId=canonical,
                 kind=kind.value)
    if actor_id != owner:
        told = f"An administrator revoked your {kind.spec.words} \"{deleted.name}\"."
        store.events.report(new_event(owner, EventType.TOKEN_REVOKED_BY_ADMIN, told, now, token_id=deleted.id,
                                token_name=deleted.name))


def revoke_all_tokens(
    store: Store, user_id: str, *, now: datetime, actor_id: str, via_token_id: str | None = None
) -> None:
    """Refuse every PAT and run token of the user issued up to ``now``, from the next request
    (the caller's own token included); two item writes whatever the number of tokens."""
    canonical = ids.normalize(ids.USER, user_id)
    if canonical is None:
        raise NotFound("No user with this id.")
    by = "You" if actor_id == canonical else "An administrator"
    told = new_event(canonical, EventType.TOKENS_REVOKED_ALL,
                     f"{by} revoked every token of your account issued up to then.", now)
    try:
        store.users.revoke_tokens(canonical, ids.epoch_ms(now), store.events.write(told))
    except UserChanged as changed:
        # No read first: either there is no such user, or a later cut-off (which covers now) is in place.
        if changed.found is None:
            raise NotFound("No user with this id.") from changed
    audit.record("tokens.revoked_all", audit.SUCCESS, actor_id, viaTokenId=via_token_id, userId=canonical,
                 revokedUpTo=to_iso(now))


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
