"""What a PAT was seen to use, learned from the requests the gate allowed it (and its run tokens):
the family and access of each family route, and the scope of each route only an unnarrowed
token may call (managing tokens, minting run tokens, this service's settings). So a token that
holds more than it needs can be narrowed to what it did, and a narrowing can say beforehand which
of those uses it would have refused."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from chalicelib.model.families import Access
from chalicelib.model.grants import Grant, Permission, needed
from chalicelib.model.kinds import Scope

# A use of a route only an unnarrowed token of this scope (or above) may call: ``preset:read_write``.
_PRESET = "preset:"


def family_use(family: str, access: Access) -> str:
    """A use of a family's route, as recorded: ``work_items:read``."""
    return needed(family, access)


def preset_use(scope: Scope) -> str:
    """A use of a route only an unnarrowed token of ``scope`` may call."""
    return f"{_PRESET}{scope.value}"


@dataclass(frozen=True)
class Used:
    """The uses recorded for a token, and since when they are recorded (None: none yet)."""

    uses: frozenset[str] = frozenset()
    since: datetime | None = None

    @classmethod
    def of(cls, uses: Iterable[str], since: datetime | None) -> Used:
        return cls(frozenset(uses), since)

    @property
    def permissions(self) -> Grant:
        """The family routes it used, as a grant: write where it wrote, read where it only read."""
        levels: dict[str, Permission] = {}
        for use in self.uses:
            family, _, access = use.partition(":")
            if family + ":" == _PRESET:
                continue
            level = Permission(access)
            if level.rank > levels.get(family, Permission.NONE).rank:
                levels[family] = level
        return Grant.of(levels)

    @property
    def scope(self) -> Scope | None:
        """The highest scope among the routes it called that only an unnarrowed token may call."""
        scopes = {Scope(use.removeprefix(_PRESET)) for use in self.uses if use.startswith(_PRESET)}
        return next((scope for scope in reversed(Scope) if scope in scopes), None)

    def refused_by(self, grant: Grant) -> list[str]:
        """The uses a token with ``grant`` would have been refused, in the grant's words."""
        refused = self.permissions.beyond(grant)
        preset = grant.preset()
        if (wanted := self.scope) is not None and (preset is None or not preset.covers(wanted)):
            refused.append(preset_use(wanted))
        return refused

    def least_grant(self) -> Grant | None:
        """The smallest grant that allows every recorded use (None: nothing recorded): the
        families it used, or, if it called routes only an unnarrowed token may call, the
        narrowest preset that holds them and those families."""
        families = self.permissions
        if self.scope is None:
            return None if families == Grant.of({}) else families
        presets = [scope for scope in (Scope.READ_WRITE, Scope.ADMIN) if scope.covers(self.scope)]
        return next((Grant.of_scope(scope) for scope in presets if families.within(Grant.of_scope(scope))),
                    Grant.of_scope(Scope.ADMIN))
