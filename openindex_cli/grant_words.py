"""A token's grant, and what it was seen to use, in a person's words (the API's are for programs:
``work_items:write``, ``preset:read_write``)."""
from __future__ import annotations

from typing import Any

# The routes only an unnarrowed token of a scope may call, as the API names their use.
_PRESET_USES = {"preset:read_write": "managing tokens or minting run tokens",
                "preset:admin": "this service's admin routes (users, invites, settings)"}


def grant_in_words(permissions: dict[str, str]) -> str:
    """``write: work items, queues; read: workflows``: what a token may do, family by family."""
    said = [f"{level}: " + ", ".join(family.replace("_", " ") for family, given in permissions.items()
                                     if given == level)
            for level in ("write", "read") if level in permissions.values()]
    return "; ".join(said) or "nothing"


def used_in_words(token: dict[str, Any]) -> str:
    """What a listed token was seen to use: its families, and the routes only an unnarrowed token
    may call."""
    families = grant_in_words(token.get("usedPermissions") or {})
    preset = _PRESET_USES.get(f"preset:{token.get('usedScope')}")
    if preset is None:
        return families
    return preset if families == "nothing" else f"{families}; and {preset}"


def uses_in_words(uses: list[str]) -> str:
    """``write work items, managing tokens or minting run tokens``: uses as the API lists them."""
    said = []
    for use in uses:
        family, _, access = use.partition(":")
        said.append(_PRESET_USES.get(use) or f"{access} {family.replace('_', ' ')}")
    return ", ".join(said)
