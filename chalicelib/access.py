"""Who is calling (``Caller``) and what a route demands of them (``Requirement``)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.errors import InsufficientScope
from chalicelib.models import Role, Scope, TokenKind
from chalicelib.timeutil import from_iso, to_iso


@dataclass(frozen=True)
class Caller:
    """The authenticated user and the token they called with, as the authorizer saw them."""

    user_id: str
    email: str
    role: Role
    user_created_at: datetime
    token_id: str
    token_name: str
    scope: Scope
    kind: TokenKind
    expires_at: datetime | None
    agent_id: str | None = None
    stage: str | None = None

    def to_context(self) -> dict[str, str]:
        """Flat string values, the only kind API Gateway passes from an authorizer to a route."""
        return {
            "userId": self.user_id,
            "email": self.email,
            "role": self.role.value,
            "userCreatedAt": to_iso(self.user_created_at),
            "tokenId": self.token_id,
            "tokenName": self.token_name,
            "scope": self.scope.value,
            "kind": self.kind.value,
            "expiresAt": to_iso(self.expires_at) if self.expires_at else "",
            "agentId": self.agent_id or "",
            "stage": self.stage or "",
        }

    @classmethod
    def from_context(cls, context: dict[str, str]) -> Caller:
        """The inverse of :meth:`to_context`."""
        return cls(
            user_id=context["userId"],
            email=context["email"],
            role=Role(context["role"]),
            user_created_at=from_iso(context["userCreatedAt"]),
            token_id=context["tokenId"],
            token_name=context["tokenName"],
            scope=Scope(context["scope"]),
            kind=TokenKind(context["kind"]),
            expires_at=from_iso(context["expiresAt"]) if context["expiresAt"] else None,
            agent_id=context["agentId"] or None,
            stage=context["stage"] or None,
        )


@dataclass(frozen=True)
class Requirement:
    """What a route demands of a token: a scope, whether it must be a person's, and whether
    admin tokens are refused (minting agent run tokens takes exactly read_write)."""

    scope: Scope
    humans_only: bool
    refuses_admin_tokens: bool = False

    def check(self, caller: Caller) -> None:
        """Raise InsufficientScope (403) unless the caller's token meets this requirement."""
        if self.humans_only and caller.kind is not TokenKind.PAT:
            raise InsufficientScope(
                "Workflow agent run tokens cannot be used here; "
                "use a human-owned personal access token.",
                required_scope=self.scope.value,
            )
        if self.refuses_admin_tokens and caller.scope is Scope.ADMIN:
            raise InsufficientScope(
                "Admin tokens cannot be used as agent run tokens for workflow stage dispatch; "
                "use a read_write token.",
                required_scope=Scope.READ_WRITE.value,
            )
        if not caller.scope.covers(self.scope):
            raise InsufficientScope(
                f"This endpoint needs a token with {self.scope.value} scope; "
                f"this token has {caller.scope.value} scope.",
                required_scope=self.scope.value,
            )


ANY_TOKEN = Requirement(Scope.READ_WRITE, humans_only=False)
HUMAN_READ_WRITE = Requirement(Scope.READ_WRITE, humans_only=True)
HUMAN_ADMIN = Requirement(Scope.ADMIN, humans_only=True)
RUN_TOKEN_MINTER = Requirement(Scope.READ_WRITE, humans_only=True, refuses_admin_tokens=True)
