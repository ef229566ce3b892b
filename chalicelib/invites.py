"""Invites: an admin invites an email; claiming the invite creates the account and a first PAT."""
from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib import audit, ids, token_codec
from chalicelib.errors import Conflict, Gone, InvalidRequest, NotFound, ServiceError, StorageUnavailable
from chalicelib.models import Invite, InviteStatus, Role, Scope, User
from chalicelib.store import ConditionFailed, Store
from chalicelib.tokens import IssuedToken, new_pat
from chalicelib.users import account_exists, new_user, normalize_email

DEFAULT_LIFETIME = timedelta(days=7)
MAX_LIFETIME = timedelta(days=30)
FIRST_TOKEN_NAME = "first token"


@dataclass(frozen=True)
class IssuedInvite:
    """An invite just created, with its token and link, which are never shown again."""

    invite: Invite
    token: str
    url: str


def invite_url(app_url: str, token: str) -> str:
    """The link to send: the token rides in the fragment, which browsers never send to servers."""
    return f"{app_url.rstrip('/')}/invite#token={token}"


def create_invite(
    store: Store,
    email: str,
    role: Role,
    expires_at: datetime | None,
    created_by: str,
    app_url: str,
    now: datetime,
) -> IssuedInvite:
    """A pending invite for an email that has no account yet (7 days unless said, 30 at most)."""
    email = normalize_email(email)
    expires_at = expires_at or now + DEFAULT_LIFETIME
    if expires_at <= now:
        raise InvalidRequest("Invalid request: expiresAt must be in the future.")
    if expires_at > now + MAX_LIFETIME:
        raise InvalidRequest("Invalid request: expiresAt must be at most 30 days away.")
    if store.email_taken(email):
        raise account_exists()
    invite_id = ids.new_id(ids.INVITE, now)
    minted = token_codec.mint(token_codec.INVITE, (invite_id,))
    invite = Invite(
        id=invite_id,
        email=email,
        role=role,
        status=InviteStatus.PENDING,
        digest=minted.digest,
        created_by=created_by,
        created_at=now,
        expires_at=expires_at,
    )
    store.put_invite(invite)
    audit.record("invite.created", audit.SUCCESS, created_by, inviteId=invite_id, role=role.value)
    return IssuedInvite(invite=invite, token=minted.value, url=invite_url(app_url, minted.value))


def list_invites(
    store: Store, limit: int, cursor: str | None, now: datetime
) -> tuple[list[Invite], str | None]:
    """One page of pending invites, newest first."""
    start_after = ids.cursor_start(ids.INVITE, cursor)
    return store.list_pending_invites(limit, start_after, now)


def revoke_invite(store: Store, invite_id: str, now: datetime, actor_id: str) -> None:
    """Revoke a pending invite; anything else (unknown, claimed, expired, revoked) is 404."""
    canonical = ids.normalize(ids.INVITE, invite_id)
    if canonical is None or not store.revoke_invite(canonical, now):
        audit.record("invite.revoked", audit.FAILURE, actor_id, inviteId=canonical, reason="not_found")
        raise NotFound("No pending invite with this id.")
    audit.record("invite.revoked", audit.SUCCESS, actor_id, inviteId=canonical)


def claim_invite(store: Store, token: str, now: datetime) -> tuple[User, IssuedToken]:
    """Activate the invited account and issue its first PAT, exactly once per invite.

    The invite, the user, the email reservation and the PAT are written in one conditional
    transaction, so among racing claims exactly one wins and a failed claim writes nothing.
    """
    try:
        return _claim(store, token, now)
    except ServiceError as refusal:
        audit.record("invite.claimed", audit.FAILURE, "anonymous", reason=refusal.code)
        raise


def _claim(store: Store, token: str, now: datetime) -> tuple[User, IssuedToken]:
    invite = _find(store, token)
    _ensure_claimable(invite, now)
    user = new_user(invite.email, invite.role, now)
    scope = Scope.ADMIN if invite.role is Role.ADMIN else Scope.READ_WRITE
    first_token = new_pat(user.id, FIRST_TOKEN_NAME, scope, None, now)
    try:
        store.claim_invite(invite, user, first_token.record, now)
    except ConditionFailed as failure:
        if failure.part == "email" and not failure.concurrent:
            raise account_exists() from failure
        current = store.get_invite(invite.id)
        if current is not None:
            _ensure_claimable(current, now)
        # Still pending: a concurrent claim failed too; the client may retry.
        raise StorageUnavailable() from failure
    audit.record("invite.claimed", audit.SUCCESS, user.id, inviteId=invite.id, userId=user.id,
                 role=user.role.value, tokenId=first_token.record.id)
    return user, first_token


def _find(store: Store, token: str) -> Invite:
    parsed = token_codec.parse(token)
    invite = None
    if parsed is not None and parsed.type is token_codec.INVITE:
        invite = store.get_invite(parsed.ids[0])
    if invite is None or parsed is None or not hmac.compare_digest(invite.digest, parsed.digest):
        raise NotFound("No invite matches this token.", code="invite_not_found")
    return invite


def _ensure_claimable(invite: Invite, now: datetime) -> None:
    if invite.status is InviteStatus.CLAIMED:
        raise Conflict("This invite has already been claimed.", code="invite_already_claimed")
    if invite.status is InviteStatus.REVOKED:
        raise Gone("This invite was revoked; ask an admin for a new one.", code="invite_revoked")
    if invite.is_expired(now):
        raise Gone("This invite has expired; ask an admin for a new one.", code="invite_expired")
