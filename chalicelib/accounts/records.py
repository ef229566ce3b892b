"""Users and invites as the domain sees them (plain dataclasses, no I/O)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

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

    def revocation_of(self, issued_ms: int, scope: Scope) -> str | None:
        """Why a cut-off of this user refuses a token of ``scope`` whose line was issued at
        ``issued_ms`` (see TokenRecord.lineage_issued_ms), or None if none does."""
        issued = issued_ms
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
class Maker:
    """Who made an invite, a link or a token: a person's request, with the token it came with,
    or an operator tool (``user_id`` is then its name, and there is no token)."""

    user_id: str
    token_id: str | None = None
    email: str | None = None
    # The making token's lineage (TokenRecord.lineage_issued_ms) and expiry, as the authorizer read them.
    lineage_issued_ms: int | None = None
    expires_at: datetime | None = None


def operator(name: str) -> Maker:
    """An operator tool (``bootstrap``, a bench) making something straight in the table."""
    return Maker(user_id=name)


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
    # The token that made it, that token's lineage, and its user's email: a compromise of that
    # token (a cut-off reaching its lineage, or a leak report) revokes the invite while pending.
    created_by_token_id: str | None = None
    created_by_email: str | None = None
    maker_lineage_ms: int | None = None

    def is_expired(self, now: datetime) -> bool:
        return is_expired(self.expires_at, now)

    def revoked_with_maker(self, maker: User | None, maker_compromised: bool) -> bool:
        """True when the token that made this invite was revoked for cause since: reported leaked
        (``maker_compromised``), or reached by its user's revoke-all, deactivation or demotion
        (invites are made with admin authority). A plain delete or rotation of that token is not
        a cause: an admin who rotates a token keeps the invites sent with it."""
        if self.created_by_token_id is None or self.maker_lineage_ms is None:
            return False  # made by an operator tool
        return maker_compromised or (maker is not None and maker.revocation_of(self.maker_lineage_ms, Scope.ADMIN)
                                     is not None)


@dataclass(frozen=True)
class IssuedInvite:
    """An invite just created, with its token and link, which are never shown again."""

    invite: Invite
    token: str
    url: str
