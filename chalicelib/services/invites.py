"""Invites: an admin invites an email; claiming the invite creates the account and a first PAT."""
from __future__ import annotations

import dataclasses
import hmac
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import NoReturn

from chalicelib import audit
from chalicelib.errors import (
    AccessLinkUserInactive,
    AccountExists,
    Conflict,
    InsufficientScope,
    InviteAlreadyClaimed,
    InviteExpired,
    InviteNotFound,
    InviteRevoked,
    NotFound,
    ServiceError,
    ServiceUnavailable,
    UserInactive,
)
from chalicelib.model import ids, token_format
from chalicelib.model.accounts import Generations, Role, User, new_user, normalize_email
from chalicelib.model.events import EventType, SecurityEvent, new_event
from chalicelib.model.expiry import require_future_within
from chalicelib.model.invites import Invite, InviteStatus, IssuedInvite, Maker, invite_url
from chalicelib.model.kinds import TokenKind
from chalicelib.model.token_policy import DEFAULT_POLICY, TokenPolicy
from chalicelib.model.tokens import IssuedToken, new_token
from chalicelib.storage import Store
from chalicelib.storage.errors import CreatorRevoked, EmailTaken, InviteNotPending, StoreConflict, UserChanged

DEFAULT_LIFETIME = timedelta(days=7)
MAX_LIFETIME = timedelta(days=30)
ACCESS_LINK_DEFAULT_LIFETIME = timedelta(hours=24)
ACCESS_LINK_MAX_LIFETIME = timedelta(days=7)
FIRST_TOKEN_NAME = "first token"
ACCESS_LINK_TOKEN_NAME = "re-access link"
# A link is a way to a token: what revokes the user's tokens (revoke-all, deactivation, a demotion
# for an admin's link) revokes the links sent before it too.
_REVOKED_WITH_TOKENS = ("This link was revoked with the account's tokens (revoke-all, deactivation or "
                        "demotion); ask an admin for a new one.")
INVITE = TokenKind.INVITE.spec


def create_invite(
    store: Store, *, email: str, role: Role, expires_at: datetime | None, maker: Maker, app_url: str, now: datetime,
) -> IssuedInvite:
    """A pending invite for an email that has no account yet (7 days unless said, 30 at most)."""
    email = normalize_email(email)
    expires_at = expires_at or now + DEFAULT_LIFETIME
    require_future_within(expires_at, now, MAX_LIFETIME, "at most 30 days away")
    if store.users.email_taken(email):
        raise AccountExists()
    issued = _issue(store, email=email, role=role, user_id=None, expires_at=expires_at, maker=maker,
                    app_url=app_url, now=now)
    audit.record("invite.created", audit.SUCCESS, maker.user_id, viaTokenId=maker.token_id,
                 inviteId=issued.invite.id, role=role.value)
    return issued


def create_access_link(
    store: Store, user: User, *, expires_at: datetime | None, maker: Maker, app_url: str, now: datetime,
) -> IssuedInvite:
    """A single-use link that gives an existing, active user a new PAT (24 hours unless said, 7
    days at most): how a promoted admin gets an admin token, and how someone who lost every
    token, or was just reactivated, gets back in."""
    if not user.is_active:
        raise UserInactive()
    if user.id == maker.user_id and not maker.allowed_ips.any:
        audit.record("access_link.created", audit.DENIED, maker.user_id, viaTokenId=maker.token_id, userId=user.id,
                     reason="wider_ranges")
        raise InsufficientScope(f"This token works only from {maker.allowed_ips.in_words()}, so it cannot make a "
                                "re-access link for its own account: the link's token would work from anywhere. "
                                "Create the token you need with this one instead.", required_scope="")
    expires_at = expires_at or now + ACCESS_LINK_DEFAULT_LIFETIME
    require_future_within(expires_at, now, ACCESS_LINK_MAX_LIFETIME, "at most 7 days away")
    told = new_event(user.id, EventType.ACCESS_LINK_CREATED,
                     "An administrator created a re-access link that gives your account a new token.", now)
    try:
        issued = _issue(store, email=user.email, role=user.role, user_id=user.id, expires_at=expires_at,
                        maker=maker, app_url=app_url, now=now, told=told, target_revocations=user.revocations)
    except UserChanged as changed:  # deactivated, revoked or demoted while the link was made
        raise Conflict("The account changed while the link was being made (its tokens were revoked, or it was "
                       "deactivated or demoted); nothing was sent. Try again.") from changed
    audit.record("access_link.created", audit.SUCCESS, maker.user_id, viaTokenId=maker.token_id,
                 inviteId=issued.invite.id, userId=user.id)
    return issued


def _issue(
    store: Store, *, email: str, role: Role, user_id: str | None, expires_at: datetime, maker: Maker,
    app_url: str, now: datetime, told: SecurityEvent | None = None, target_revocations: Generations | None = None,
) -> IssuedInvite:
    """Store a pending invite or link, naming the token that made it (a compromise of that token
    revokes it while pending). A making token that expires caps the link itself, as it caps
    what it creates; the PAT a claim gives is bounded by the token policy only."""
    invite_id = ids.new_id(INVITE.id_prefix, now)
    minted = token_format.mint(INVITE, token_id=invite_id)
    invite = Invite(
        id=invite_id,
        email=email,
        role=role,
        status=InviteStatus.PENDING,
        digest=minted.digest,
        created_by=maker.user_id,
        created_at=now,
        expires_at=min(expires_at, maker.expires_at) if maker.expires_at else expires_at,
        user_id=user_id,
        created_by_token_id=maker.token_id,
        created_by_email=maker.email,
        maker_lineage_ms=maker.lineage_issued_ms,
        maker_expires_at=maker.expires_at,
        target_revocations=target_revocations,
    )
    store.invites.put(invite, store.events.write(told) if told else None)
    return IssuedInvite(invite=invite, token=minted.value, url=invite_url(app_url, minted.value))


def list_invites(store: Store, *, limit: int, cursor: str | None, now: datetime) -> tuple[list[Invite], str | None]:
    """One page of pending invites, newest first; one whose making token was revoked for cause
    since is shown revoked (one more batched read per page, for the makers)."""
    page, next_cursor = store.invites.list_pending(limit, ids.cursor_start(INVITE.id_prefix, cursor), now)
    makers, compromised = store.invites.makers_of(page)
    return [dataclasses.replace(invite, status=InviteStatus.REVOKED)
            if invite.revoked_with_maker(makers.get(invite.created_by), invite.created_by_token_id in compromised)
            else invite for invite in page], next_cursor


def revoke_invite(
    store: Store, invite_id: str, *, now: datetime, actor_id: str, via_token_id: str | None = None
) -> None:
    """Revoke a pending invite; anything else (unknown, claimed, expired, revoked) is 404."""
    canonical = ids.normalize(INVITE.id_prefix, invite_id)
    if canonical is None or not store.invites.revoke(canonical, now):
        audit.record("invite.revoked", audit.FAILURE, actor_id, viaTokenId=via_token_id, inviteId=canonical,
                     reason="not_found")
        raise NotFound("No pending invite with this id.")
    audit.record("invite.revoked", audit.SUCCESS, actor_id, viaTokenId=via_token_id, inviteId=canonical)


def claim_invite(store: Store, token: str, *, now: datetime) -> tuple[User, IssuedToken]:
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
    invite, policy = _find(store, token)
    _ensure_claimable(invite, now)
    if invite.user_id is not None:
        return _claim_access_link(store, invite, policy, now)
    user = new_user(invite.email, invite.role, now)
    first_token = _claimed_pat(invite, policy, user, FIRST_TOKEN_NAME, now)
    return _committed(store, invite, user, first_token, now,
                      lambda: store.invites.claim(invite, user, first_token.record, now))


def _committed(store: Store, invite: Invite, user: User, token: IssuedToken, now: datetime,
               commit: Callable[[], None]) -> tuple[User, IssuedToken]:
    """The claim, once its one transaction ``commit`` is done; otherwise why it failed, as the
    invitee should hear it."""
    try:
        commit()
    except EmailTaken as taken:
        raise AccountExists() from taken
    except UserChanged as changed:  # deactivated, re-roled or revoked between the read and the claim
        raise AccessLinkUserInactive() from changed
    except CreatorRevoked as revoked:
        raise InviteRevoked(_maker_revoked(invite)) from revoked
    except StoreConflict as conflict:
        _explain_lost_claim(store, invite, now, conflict)
    audit.record("invite.claimed", audit.SUCCESS, user.id, inviteId=invite.id, userId=user.id,
                 inviteCreatedByTokenId=invite.created_by_token_id,
                 kind="access_link" if invite.user_id else None, role=user.role.value, tokenId=token.record.id)
    return user, token


def _claimed_pat(invite: Invite, policy: TokenPolicy, user: User, name: str, now: datetime) -> IssuedToken:
    """The PAT a claim gives, of the highest scope the user's role allows, bounded by the token
    policy in force (its longest lifetime when it requires one or caps them): an account never
    inherits the expiry of the token that invited it. A re-access link's PAT descends from the
    link, so a cut-off that reaches the link reaches the PAT too. A link to the maker's own
    account is a token made by a token: its PAT descends from the making token too and never
    outlives it, so a stolen short-lived token cannot be stretched through a link to itself."""
    scope = user.role.highest_scope
    lineage, not_after = None, None
    if invite.user_id is not None:
        lineage = ids.issued_at_ms(invite.id)
    if invite.is_self_link and invite.maker_lineage_ms is not None:
        lineage = min(ids.issued_at_ms(invite.id), invite.maker_lineage_ms)
        not_after = invite.maker_expires_at
    expires_at = policy.pat_expiry(scope, None, now, asked=False)
    if not_after is not None and (expires_at is None or expires_at > not_after):
        expires_at = not_after
    made_by = Maker(user_id=invite.created_by, token_id=invite.created_by_token_id, lineage_issued_ms=lineage,
                    revocations_seen=invite.target_revocations)
    return new_token(TokenKind.PAT, user_id=user.id, name=name, scope=scope, now=now, expires_at=expires_at,
                     not_after=not_after, made_by=made_by, via_invite_id=invite.id)


def _claim_access_link(store: Store, invite: Invite, policy: TokenPolicy, now: datetime) -> tuple[User, IssuedToken]:
    user = store.users.get(invite.user_id or "")
    if user is None or not user.is_active:
        raise AccessLinkUserInactive()
    if user.revocation_of(ids.issued_at_ms(invite.id), user.role.highest_scope, invite.target_revocations):
        raise InviteRevoked(_REVOKED_WITH_TOKENS)
    if invite.is_self_link and invite.revoked_with_maker(user, maker_compromised=False):
        raise InviteRevoked(_maker_revoked(invite))
    token = _claimed_pat(invite, policy, user, ACCESS_LINK_TOKEN_NAME, now)
    return _committed(store, invite, user, token, now,
                      lambda: store.invites.claim_access_link(invite, user, token.record, now))


def _maker_revoked(invite: Invite) -> str:
    what = "link" if invite.user_id else "invite"
    return (f"This {what} was revoked: the token that created it was revoked since (reported leaked, or its "
            "account's tokens were revoked, deactivated or demoted); ask an admin for a new one.")


def _explain_lost_claim(store: Store, invite: Invite, now: datetime, conflict: StoreConflict) -> NoReturn:
    """Why a claim's transaction failed: the invite's new state (409/410), or, if it is still
    pending, a concurrent claim that failed too (503: the client may retry). A failed condition
    returns the invite as it is; a transaction conflict leaves its state unknown, so it is read."""
    current = conflict.found if isinstance(conflict, InviteNotPending) else store.invites.get(invite.id)
    if current is not None:
        _ensure_claimable(current, now)
    raise ServiceUnavailable() from conflict


def _find(store: Store, token: str) -> tuple[Invite, TokenPolicy]:
    parsed = token_format.parse(token)
    invite, policy = None, DEFAULT_POLICY
    if parsed is not None and parsed.kind is INVITE:
        invite, policy = store.invites.get_with_policy(parsed.token_id)
    if invite is None or parsed is None or not hmac.compare_digest(invite.digest, parsed.digest):
        raise InviteNotFound()
    return invite, policy


def _ensure_claimable(invite: Invite, now: datetime) -> None:
    if invite.status is InviteStatus.CLAIMED:
        raise InviteAlreadyClaimed()
    if invite.status is InviteStatus.REVOKED:
        raise InviteRevoked()
    if invite.is_expired(now):
        raise InviteExpired()

