"""What a token may do to each family of OpenIndex resources: its grant.

A grant gives each family of the route map ``none``, ``read`` or ``write`` (write includes read).
Today every grant is a preset's: a ``read`` token reads every read_write family, a
``read_write`` token writes them, an ``admin`` token writes every family. The gate checks the
grant, not the scope, so a grant for single families needs no other change there.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from chalicelib.errors import InsufficientScope
from chalicelib.model.caller import Caller
from chalicelib.model.kinds import Scope
from chalicelib.model.route_map import FAMILIES, Access, Need


class Permission(StrEnum):
    """A grant's word for one family: nothing, reading, or reading and writing."""

    NONE = "none"
    READ = "read"
    WRITE = "write"

    def allows(self, access: Access) -> bool:
        return self is Permission.WRITE or (self is Permission.READ and access is Access.READ)


@dataclass(frozen=True)
class Grant:
    """A permission for every family of the route map (``none`` where it names none)."""

    permissions: tuple[tuple[str, Permission], ...]

    @classmethod
    def of(cls, permissions: Mapping[str, Permission]) -> Grant:
        unknown = set(permissions) - {family.name for family in FAMILIES}
        if unknown:
            raise ValueError(f"no such resource family: {', '.join(sorted(unknown))}")
        return cls(tuple((family.name, permissions.get(family.name, Permission.NONE)) for family in FAMILIES))

    @classmethod
    def of_scope(cls, scope: Scope) -> Grant:
        """The preset of ``scope``: read (``read``) or write on every family the scope reaches."""
        permission = Permission.READ if scope is Scope.READ else Permission.WRITE
        reached = Scope.READ_WRITE if scope is Scope.READ else scope
        return cls.of({family.name: permission for family in FAMILIES if reached.covers(family.requirement.scope)})

    def permission(self, family: str) -> Permission:
        return dict(self.permissions)[family]

    def allows(self, family: str, access: Access) -> bool:
        return self.permission(family).allows(access)

    def as_dict(self) -> dict[str, str]:
        """Every family and its permission, as the API answers it."""
        return {family: permission.value for family, permission in self.permissions}


def needed(family: str, access: Access) -> str:
    """How a 403 names what a route needs: ``work_items:write``."""
    return f"{family}:{access.value}"


def grant_of(caller: Caller) -> Grant:
    """The grant of the caller's token (today, its scope's preset)."""
    return Grant.of_scope(caller.scope)


def check(caller: Caller, need: Need) -> None:
    """Raise InsufficientScope unless the caller's token meets what a route needs: a family's
    route by the token's grant (and, for an admin family, a person's token), any other by its
    requirement."""
    assert need.requirement is not None  # a public route needs no check
    if need.family is None or need.access is None:
        need.requirement.check(caller)
        return
    wanted = needed(need.family, need.access)
    if need.requirement.people_only and not caller.kind.spec.held_by_person:
        raise InsufficientScope("Workflow agent run tokens cannot be used here; use a human-owned personal "
                                "access token.", required_scope=wanted)
    if not grant_of(caller).allows(need.family, need.access):
        words = need.family.replace("_", " ")
        raise InsufficientScope(f"This route needs permission to {need.access.value} {words} ({wanted}); "
                                "this token's grant does not include it.", required_scope=wanted)
