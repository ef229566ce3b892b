"""What a token may do to each family of OpenIndex resources: its grant.

A grant gives each family of the route map ``none``, ``read`` or ``write`` (write includes read).
Today every grant is a preset's: a ``read`` token reads every read_write family, a
``read_write`` token writes them, an ``admin`` token writes every family. The gate checks the
grant, not the scope, so a grant for single families needs no other change there.
"""
from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from chalicelib.model.families import FAMILIES, Access
from chalicelib.model.kinds import Scope


class Permission(StrEnum):
    """A grant's word for one family: nothing, reading, or reading and writing."""

    NONE = "none"
    READ = "read"
    WRITE = "write"

    def allows(self, access: Access) -> bool:
        return self is Permission.WRITE or (self is Permission.READ and access is Access.READ)

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Permission.NONE: 0, Permission.READ: 1, Permission.WRITE: 2}
_NOTHING = "-"


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
        return cls.of({family.name: permission for family in FAMILIES if scope is Scope.ADMIN or not family.admin})

    def permission(self, family: str) -> Permission:
        return dict(self.permissions)[family]

    def allows(self, family: str, access: Access) -> bool:
        return self.permission(family).allows(access)

    def as_dict(self) -> dict[str, str]:
        """Every family and its permission, as the API answers it."""
        return {family: permission.value for family, permission in self.permissions}

    def within(self, other: Grant) -> bool:
        """Whether this grant gives nothing ``other`` does not: what a token may make of its own."""
        return all(mine.rank <= theirs.rank for (_, mine), (_, theirs) in zip(self.permissions, other.permissions,
                                                                             strict=True))

    def meet(self, other: Grant) -> Grant:
        """What both grants give (a run token's, held to its PAT's as it is now)."""
        return Grant(tuple((family, min(mine, theirs, key=lambda permission: permission.rank))
                           for (family, mine), (_, theirs) in zip(self.permissions, other.permissions, strict=True)))

    def beyond(self, other: Grant) -> list[str]:
        """What this grant gives that ``other`` does not, as a 403 names it (``workflows:write``)."""
        return [needed(family, Access(mine.value)) for (family, mine), (_, theirs)
                in zip(self.permissions, other.permissions, strict=True) if mine.rank > theirs.rank]

    def excess_over(self, other: Grant) -> Grant:
        """What this grant gives beyond ``other``, family by family (none elsewhere)."""
        return Grant(tuple((family, mine if mine.rank > theirs.rank else Permission.NONE)
                           for (family, mine), (_, theirs) in zip(self.permissions, other.permissions, strict=True)))

    def in_words(self) -> str:
        """``write work items; read queues, workflows``: the grant as a person reads it."""
        said = [f"{level.value} " + ", ".join(family.replace("_", " ") for family, given in self.permissions
                                            if given is level)
                for level in (Permission.WRITE, Permission.READ) if level in dict(self.permissions).values()]
        return "; ".join(said) or "nothing"

    def preset(self) -> Scope | None:
        """The preset this grant is, if it is one."""
        return next((scope for scope in Scope if self == Grant.of_scope(scope)), None)

    def least_scope(self) -> Scope:
        """The narrowest scope whose preset holds this grant: admin as soon as it names an admin
        family (only an admin's token may), else read_write (the role, policy and revocation
        rules go by it)."""
        admin = {family.name for family in FAMILIES if family.admin}
        return Scope.ADMIN if any(family in admin and permission is not Permission.NONE
                                  for family, permission in self.permissions) else Scope.READ_WRITE

    def label(self, scope: Scope) -> str:
        """How the API names it: the preset it equals (``read``, ``read_write``, ``admin``; the
        token's own first), or ``custom``."""
        for preset in (scope, *Scope):
            if self == Grant.of_scope(preset):
                return str(preset.value)
        return "custom"

    def to_text(self) -> str:
        """``work_items:read,workflows:write``: the families it names, as stored and carried;
        ``-`` for a grant of nothing (never the empty text, which a caller reads as its preset)."""
        return ",".join(f"{family}:{permission.value}" for family, permission in self.permissions
                        if permission is not Permission.NONE) or _NOTHING

    @classmethod
    def from_text(cls, text: str) -> Grant:
        return _from_text(text)


@functools.lru_cache(maxsize=1024)
def _from_text(text: str) -> Grant:
    """Grant.from_text, parsed once per text (the authorizer reads a grant on every request)."""
    pairs = (item.split(":", 1) for item in text.split(",") if item and item != _NOTHING)
    return Grant.of({family: Permission(permission) for family, permission in pairs})


def needed(family: str, access: Access) -> str:
    """How a 403 names what a route needs: ``work_items:write``."""
    return f"{family}:{access.value}"
