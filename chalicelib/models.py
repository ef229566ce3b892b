"""Domain records and the vocabularies they use (plain dataclasses, no I/O)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Scope(StrEnum):
    """What a token may do; ``admin`` includes everything ``read_write`` may."""

    READ_WRITE = "read_write"
    ADMIN = "admin"

    def covers(self, other: Scope) -> bool:
        """True when a token of this scope may do what ``other`` allows."""
        return self is Scope.ADMIN or other is Scope.READ_WRITE


class Role(StrEnum):
    """A user's role; only admins may hold admin-scoped tokens."""

    MEMBER = "member"
    ADMIN = "admin"


class UserStatus(StrEnum):
    """Deactivated users' tokens are refused without rewriting each token."""

    ACTIVE = "active"
    DEACTIVATED = "deactivated"


class TokenKind(StrEnum):
    """Who holds a token: a person (``pat``) or a workflow agent run (``agent_run``)."""

    PAT = "pat"
    AGENT_RUN = "agent_run"


@dataclass(frozen=True)
class User:
    """An account that may hold tokens."""

    id: str
    email: str
    role: Role
    status: UserStatus
    created_at: datetime

    @property
    def is_active(self) -> bool:
        return self.status is UserStatus.ACTIVE

    @property
    def is_active_admin(self) -> bool:
        """Counted among the admins that must never drop to zero."""
        return self.is_active and self.role is Role.ADMIN


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
    last_used_at: datetime | None = None
    # Agent run tokens only: the agent and workflow stage, and the PAT that minted the token.
    agent_id: str | None = None
    stage: str | None = None
    parent_id: str | None = None

    def is_expired(self, now: datetime) -> bool:
        """Expiry is decided here, never left to DynamoDB's TTL (which lags by up to two days)."""
        return self.expires_at is not None and now >= self.expires_at


class InviteStatus(StrEnum):
    """An invite is claimed or revoked at most once, and only while pending."""

    PENDING = "pending"
    CLAIMED = "claimed"
    REVOKED = "revoked"


@dataclass(frozen=True)
class Invite:
    """An invitation for an email to join with a role; only its token's digest is stored."""

    id: str
    email: str
    role: Role
    status: InviteStatus
    digest: bytes
    created_by: str
    created_at: datetime
    expires_at: datetime

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at
