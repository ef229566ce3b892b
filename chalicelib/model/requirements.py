"""What a route demands of the token that calls it."""
from __future__ import annotations

from dataclasses import dataclass

from chalicelib.errors import InsufficientScope
from chalicelib.model.caller import Caller
from chalicelib.model.kinds import Scope


@dataclass(frozen=True)
class Requirement:
    """What a route demands of a token: a scope, whether a person must hold it, and whether
    admin tokens are refused (minting agent run tokens takes exactly read_write)."""

    scope: Scope
    people_only: bool
    refuses_admin_tokens: bool = False

    def check(self, caller: Caller) -> None:
        """Raise InsufficientScope (403) unless the caller's token meets this requirement."""
        if self.people_only and not caller.kind.spec.held_by_person:
            raise InsufficientScope(
                "Workflow agent run tokens cannot be used here; "
                "use a human-owned personal access token.",
                required_scope=self.scope.value,
            )
        if self.people_only and caller.permissions:
            raise InsufficientScope(
                "A token narrowed to some resource families cannot manage tokens or use this service's settings; "
                "use a read_write or admin personal access token.",
                required_scope=self.scope.value,
            )
        if self.refuses_admin_tokens and caller.scope is Scope.ADMIN:
            raise InsufficientScope(
                "Agent run tokens are minted from a read_write personal access token, not an admin one: "
                "use a read_write token.",
                required_scope=Scope.READ_WRITE.value,
            )
        if not caller.scope.covers(self.scope):
            raise InsufficientScope(
                f"This endpoint needs a token with {self.scope.value} scope; "
                f"this token has {caller.scope.value} scope.",
                required_scope=self.scope.value,
            )


ANY_TOKEN = Requirement(Scope.READ, people_only=False)
HUMAN_READ_WRITE = Requirement(Scope.READ_WRITE, people_only=True)
HUMAN_ADMIN = Requirement(Scope.ADMIN, people_only=True)
RUN_TOKEN_MINTER = Requirement(Scope.READ_WRITE, people_only=True, refuses_admin_tokens=True)
