"""Stored tokens, the one builder every kind of bearer token is made with, and the rules of a
token's life that hold whoever makes it: no escalation, never outliving its maker, its limits."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

from chalicelib.errors import ExpiryExceedsToken, InsufficientScope
from chalicelib.model import ids, token_format
from chalicelib.model.accounts import Generations, User
from chalicelib.model.addresses import AllowedIps
from chalicelib.model.expiry import is_expired
from chalicelib.model.grants import Grant
from chalicelib.model.invites import Maker
from chalicelib.model.kinds import Scope, TokenKind
from chalicelib.model.used import Used
from chalicelib.timeutil import to_iso

# Far enough that nobody needs more (omit the expiry instead), near enough for any date library.
MAX_LIFETIME = timedelta(days=365 * 100)
# How long a rotated PAT may keep working, so that its clients can switch.
MAX_GRACE_SECONDS = 86400
RUN_TOKEN_DEFAULT_SECONDS = 3600
RUN_TOKEN_MAX_SECONDS = 86400


class LeftOut(Enum):
    """A field the client left out of its request, which is not the same as sending null: a
    rotation left without an expiry keeps its lifetime, one sent null asks for none."""

    LEFT_OUT = "left out"


LEFT_OUT = LeftOut.LEFT_OUT


@dataclass(frozen=True)
class TokenRecord:
    """A stored token: everything but its value, of which only the digest is kept."""

    id: str
    user_id: str
    name: str
    scope: Scope
    kind: TokenKind
    digest: bytes
    created_at: datetime
    expires_at: datetime | None = None
    # Where the token was last used, as API Gateway saw the request (see services.usage).
    last_used_at: datetime | None = None
    last_used_ip: str | None = None
    last_used_user_agent: str | None = None
    # PATs only: the token this one was rotated to (its expiry is then the end of the grace
    # window), and the token it replaced.
    rotated_to: str | None = None
    rotated_from: str | None = None
    # The successor (or one after it) was deleted or revoked, which ended this token's window.
    successor_revoked: bool = False
    # When it was deleted: its item stays a while as a tombstone that no reader takes for a token.
    deleted_at: datetime | None = None
    # The expiry it was made with (a rotation cuts ``expires_at`` to its window): what the token
    # policy judges, so a token in its window is blocked whenever its successor would be.
    lifetime_expires_at: datetime | None = None
    # Its user's revocation counts when its line began (a re-access link's claim, and what that
    # PAT makes): any revoke-all, deactivation or demotion since refuses it, whatever the clocks.
    revocations_seen: Generations | None = None
    # The latest this token, and any successor it rotates into, may ever expire: the expiry of
    # the token that created it, so that expiry contains a stolen token through any chain of
    # creations and rotations. None when it was made by a token without expiry.
    not_after: datetime | None = None
    # When this token last caused each repeatable security event (event type -> time).
    told: dict[str, datetime] = field(default_factory=dict)
    # Agent run tokens only: the agent and workflow stage, and the PAT that minted the token.
    agent_id: str | None = None
    stage: str | None = None
    parent_id: str | None = None
    # Who made it (the user and token of the request; for a claimed PAT, the invite's maker and
    # the invite), so that "what did this token make?" has an answer.
    created_by_user_id: str | None = None
    created_by_token_id: str | None = None
    created_via_invite_id: str | None = None
    # The earliest issue time (epoch ms) of this token and the tokens of its account it was made
    # through (its creator, its creator's creator…, or the re-access link it came from). Cut-offs
    # compare with this, not with the token's own id: a token made while revoke-all ran, by a
    # token that revoke-all revoked, is revoked too, whatever the two Lambdas' clocks said.
    lineage_issued_ms: int | None = None
    # What it may do to each resource family, when narrower than its scope's preset (a run token
    # narrowed at its mint); None: the preset.
    permissions: Grant | None = None
    # PATs only: what it (and the run tokens it minted) was seen to use, since when.
    used: Used = field(default_factory=Used)
    # The addresses it may be used from (none: any); a run token is also held to its PAT's.
    allowed_ips: AllowedIps = field(default_factory=AllowedIps)

    def is_expired(self, now: datetime) -> bool:
        return is_expired(self.expires_at, now)

    @property
    def grant(self) -> Grant:
        return self.permissions if self.permissions is not None else Grant.of_scope(self.scope)

    @property
    def label(self) -> str:
        """How the API names its grant (grant_label)."""
        return grant_label(self.kind, self.permissions is not None, self.grant, self.scope)

    @property
    def line_issued_ms(self) -> int:
        """The lineage, or the token's own issue time for a token stored before lineages were."""
        return self.lineage_issued_ms if self.lineage_issued_ms is not None else ids.issued_at_ms(self.id)


@dataclass(frozen=True)
class BlockedReason:
    """Why a listed token does not work although it was not revoked: so lists can say so."""

    code: str
    message: str


@dataclass(frozen=True)
class CreationLimit:
    """What a new PAT of one scope may be, for the calling token, now: so clients can offer
    only what will be accepted."""

    latest_expires_at: datetime | None  # None: no limit (within 100 years)
    no_expiry_allowed: bool
    # What leaving the expiry out does: "no_expiry"; "latest", the service fills in
    # ``left_out_expires_at`` (the policy's longest); or "refused" (the calling token expires).
    left_out: str
    left_out_expires_at: datetime | None
    # Why the preset itself may not be given now (the token policy's words), or None.
    refused: str | None = None


@dataclass(frozen=True)
class IssuedToken:
    """A token just created: its record, and its value, which is never shown again."""

    record: TokenRecord
    value: str


def new_token(
    kind: TokenKind,
    *,
    user_id: str,
    name: str,
    scope: Scope,
    now: datetime,
    expires_at: datetime | None = None,
    parent_id: str | None = None,
    agent_id: str | None = None,
    stage: str | None = None,
    rotated_from: str | None = None,
    not_after: datetime | None = None,
    made_by: Maker | None = None,
    via_invite_id: str | None = None,
    permissions: Grant | None = None,
    allowed_ips: AllowedIps | None = None,
) -> IssuedToken:
    """A fresh token of ``kind`` for ``user_id``, not yet stored; callers decide who may have it.
    ``made_by``: who made it, and the lineage and revocation counts it inherits from what it is
    made through in the same account."""
    token_id = ids.new_id(kind.spec.id_prefix, now)
    issued_ms = ids.issued_at_ms(token_id)
    lineage_from_ms = made_by.lineage_issued_ms if made_by else None
    minted = token_format.mint(kind.spec, user_id=user_id, token_id=token_id, parent_id=parent_id)
    record = TokenRecord(
        id=token_id,
        user_id=user_id,
        name=name,
        scope=scope,
        kind=kind,
        digest=minted.digest,
        created_at=now,
        expires_at=expires_at,
        agent_id=agent_id,
        stage=stage,
        parent_id=parent_id,
        rotated_from=rotated_from,
        not_after=not_after,
        created_by_user_id=made_by.user_id if made_by else None,
        created_by_token_id=made_by.token_id if made_by else None,
        created_via_invite_id=via_invite_id,
        lineage_issued_ms=issued_ms if lineage_from_ms is None else min(issued_ms, lineage_from_ms),
        lifetime_expires_at=expires_at,
        revocations_seen=made_by.revocations_seen if made_by else None,
        permissions=permissions,
        allowed_ips=allowed_ips or AllowedIps(),
    )
    return IssuedToken(record=record, value=minted.value)


@dataclass(frozen=True)
class Creator:
    """The token making another, as the authorizer read it a moment ago: what the creating write
    checks is still so."""

    token_id: str
    scope: Scope
    expires_at: datetime | None
    lineage_issued_ms: int


def grant_label(kind: TokenKind, given_permissions: bool, grant: Grant, scope: Scope) -> str:
    """How the API names a token's grant: ``custom`` for a PAT given permissions family by family
    (it manages no tokens, even when they add up to a preset), else as Grant.label."""
    return "custom" if kind is TokenKind.PAT and given_permissions else grant.label(scope)


def escalation(holder: Scope, holder_grant: Grant, wanted: Scope, wanted_grant: Grant,
               verb: str) -> InsufficientScope | None:
    """The refusal (403) when a token of scope ``holder`` asks to ``verb`` a token of scope
    ``wanted`` that can do more than itself (by scope, or by any family of its grant), or None."""
    if not holder.covers(wanted) and wanted is Scope.ADMIN and wanted_grant != Grant.of_scope(Scope.ADMIN):
        return InsufficientScope(  # a grant naming an admin family: say which, not "admin scope"
            f"Only an admin's token can give permission to {wanted_grant.excess_over(holder_grant).in_words()} "
            f"(instance administration); this token has {holder.value} scope.",
            required_scope=",".join(wanted_grant.beyond(holder_grant)),
        )
    if not holder.covers(wanted):
        return InsufficientScope(
            f"A token with {holder.value} scope cannot {verb} a token with {wanted.value} scope; "
            f"use a token with {wanted.value} scope.",
            required_scope=wanted.value,
        )
    if not wanted_grant.within(holder_grant):
        return InsufficientScope(
            f"A token cannot {verb} a token that may do more than itself ({wanted_grant.to_text()}).",
            required_scope=wanted_grant.to_text(),
        )
    return None


def account_refusal(token: TokenRecord, user: User | None) -> str | None:
    """Why the token's account refuses it, whatever the token itself says (the authorizer's reason
    code: ``user_inactive``, a cut-off's ``tokens_revoked`` or ``admin_tokens_revoked``, or
    ``role_lacks_scope``); None when it does not. The authorizer refuses with it, and the expiry
    notices leave such tokens out."""
    if user is None or not user.is_active:
        return "user_inactive"
    if revocation := user.revocation_of(token.line_issued_ms, token.scope, token.revocations_seen):
        return revocation
    if not user.role.highest_scope.covers(token.scope):
        return "role_lacks_scope"
    return None


def require_within_maker(maker_expires_at: datetime | None, expires_at: datetime | None) -> None:
    """A token never makes one that outlives it: expiry contains a stolen token (400 otherwise)."""
    if maker_expires_at is not None and (expires_at is None or expires_at > maker_expires_at):
        raise ExpiryExceedsToken(
            f"Invalid request: this token expires at {to_iso(maker_expires_at)}, so it cannot create a "
            f"token that {'never expires' if expires_at is None else 'expires later'}; set expiresAt "
            f"at or before {to_iso(maker_expires_at)}, or use a longer-lived token."
        )
