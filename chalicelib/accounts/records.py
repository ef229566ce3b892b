"""Users and invites as the domain sees them (plain dataclasses, no I/O)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from chalicelib.access import ids
from chalicelib.access.kinds import Scope
from chalicelib.expiry import is_expired


class Role(StrEnum):
    """A user's role; only admins may hold admin-scoped tokens."""

    MEMBER = "member"
    ADMIN = "admin"

    @property
    def highest_scope(self) -> Scope:
        """The widest scope a token of a user with this role may carry (the one role→scope rule)."""
        return Scope.ADMIN if self is Role.ADMIN else Scope.READ_WRITE


class UserStatus(StrEnum):
    """Deactivated users' tokens are refused without rewriting each token."""

    ACTIVE = "active"
    DEACTIVATED = "deactivated"


@dataclass(frozen=True)
class User:
    """An account that may hold tokens."""

    id: str
    email: str
    role: Role
    status: UserStatus
    created_at: datetime
    # Tokens issued at or before these instants (epoch ms) are refused for good: revoke-all and
    # deactivation set the first (every token), demotion the second (admin-scope tokens). A
    # cut-off only ever moves forward, so no later change can bring a revoked token back.
    tokens_revoked_at_ms: int | None = None
    admin_tokens_revoked_at_ms: int | None = None

    def revocation_of(self, token_id: str, scope: Scope) -> str | None:
        """Why a cut-off of this user refuses the token ``token_id``, or None if none does."""
        issued = ids.issued_at_ms(token_id)
        if self.tokens_revoked_at_ms is not None and issued <= self.tokens_revoked_at_ms:
            return "tokens_revoked"
        if (scope is Scope.ADMIN and self.admin_tokens_revoked_at_ms is not None
                and issued <= self.admin_tokens_revoked_at_ms):
            return "admin_tokens_revoked"
        return None

    @property
    def is_active(self) -> bool:
        return self.status is UserStatus.ACTIVE

    @property
    def is_active_admin(self) -> bool:
        """Counted among the admins that must never drop to zero."""
        return self.is_active and self.role is Role.ADMIN


class InviteStatus(StrEnum):
    """An invite is claimed or revoked at most once, and only while pending."""

    PENDING = "pending"
    CLAIMED = "claimed"
    REVOKED = "revoked"


@dataclass(frozen=True)
class Invite:
    """An invitation for an email to join with a role, or (with ``user_id``) a re-access link
    that gives an existing user a new PAT; only its token's digest is stored."""

    id: str
    email: str
    role: Role
    status: InviteStatus
    digest: bytes
    created_by: str
    created_at: datetime
    expires_at: datetime
    user_id: str | None = None
    # When the PAT it gives must expire: never later than the token that created the invite.
    first_token_expires_at: datetime | None = None

    def is_expired(self, now: datetime) -> bool:
        return is_expired(self.expires_at, now)


@dataclass(frozen=True)
class IssuedInvite:
    """An invite just created, with its token and link, which are never shown again."""

    invite: Invite
    token: str
    url: str
