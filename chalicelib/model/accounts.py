"""Users and invites as the domain sees them (plain dataclasses, no I/O)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from chalicelib.model import ids
from chalicelib.model.expiry import is_expired
from chalicelib.model.kinds import Scope

# How many revoke-alls or deactivations, and how many demotions, a user has had: counted, never undone.
Generations = tuple[int, int]


def earliest(first: Generations | None, second: Generations | None) -> Generations | None:
    """The older of two recorded revocation counts (None: not recorded)."""
    if first is None or second is None:
        return first or second
    return min(first[0], second[0]), min(first[1], second[1])


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
    # How many cut-offs of each kind were set: a clock-free order for what a clock cannot order
    # (a re-access link claimed while a revoke-all runs, on Lambdas whose clocks disagree).
    revocations: Generations = (0, 0)

    def revocation_of(self, issued_ms: int, scope: Scope, seen: Generations | None = None) -> str | None:
        """Why a cut-off of this user refuses a token of ``scope`` whose line was issued at
        ``issued_ms`` (see TokenRecord.lineage_issued_ms), or None if none does; ``seen``: the
        user's revocation counts when the token's line began, if it recorded them."""
        if seen is not None:
            if self.revocations[0] > seen[0]:
                return "tokens_revoked"
            if scope is Scope.ADMIN and self.revocations[1] > seen[1]:
                return "admin_tokens_revoked"
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
    # The making token's expiry: a link to the maker's own account gives no PAT that outlives it.
    maker_expires_at: datetime | None = None
    # A re-access link: its user's revocation counts when it was sent; any revocation since kills it.
    target_revocations: Generations | None = None

    def is_expired(self, now: datetime) -> bool:
        return is_expired(self.expires_at, now)

    def revoked_with_maker(self, maker: User | None, maker_compromised: bool) -> bool:
        """True when the token that made this invite was revoked for cause since: reported leaked
        (``maker_compromised``), or reached by its user's revoke-all, deactivation or demotion
        (invites are made with admin authority). A plain delete or rotation of that token is not
        a cause: an admin who rotates a token keeps the invites sent with it."""
        lineage = self.maker_lineage
        if lineage is None:
            return False  # made by an operator tool
        return maker_compromised or (maker is not None and maker.revocation_of(lineage, Scope.ADMIN) is not None)

    @property
    def maker_lineage(self) -> int | None:
        """The making token's lineage; for an invite stored before makers were recorded, its own
        issue time (the making token was issued before it, so a cut-off at or after it reached
        that token too); None for one made by an operator tool."""
        if self.maker_lineage_ms is not None:
            return self.maker_lineage_ms
        return ids.issued_at_ms(self.id) if self.created_by.startswith(f"{ids.USER}_") else None

    @property
    def is_self_link(self) -> bool:
        """A re-access link made by a token of the account it opens."""
        return self.user_id is not None and self.user_id == self.created_by


@dataclass(frozen=True)
class IssuedInvite:
    """An invite just created, with its token and link, which are never shown again."""

    invite: Invite
    token: str
    url: str
