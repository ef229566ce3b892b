"""Users: accounts, their role and status, and the cut-offs that revoke their tokens for good."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from chalicelib.model import ids
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


def normalize_email(email: str) -> str:
    """Emails are compared case-insensitively, so one address is one account."""
    return email.strip().lower()


def new_user(email: str, role: Role, now: datetime) -> User:
    """A fresh active user, not yet stored."""
    return User(id=ids.new_id(ids.USER, now), email=normalize_email(email), role=role, status=UserStatus.ACTIVE,
                created_at=now)
