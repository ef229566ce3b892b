"""A token's grant as `oi` takes it: --scope, or --permission FAMILY=LEVEL family by family."""
from __future__ import annotations

from typing import Any

from openindex_cli.errors import EXIT_USAGE, CliError
from openindex_cli.output import printable


def grant_option(scope: str | None, permissions: tuple[str, ...]) -> dict[str, Any]:
    """``scope``, or the ``permissions`` map that ``--permission family=level`` options give."""
    if (scope is None) == (not permissions):
        raise CliError("give --scope or --permission (one of them)", EXIT_USAGE)
    if scope is not None:
        return {"scope": scope}
    return {"permissions": permissions_option(permissions)}


def permissions_option(permissions: tuple[str, ...]) -> dict[str, str]:
    """The ``permissions`` map that ``--permission family=level`` options give."""
    given: dict[str, str] = {}
    for option in permissions:
        family, _, level = option.partition("=")
        if not family or level not in ("none", "read", "write"):
            raise CliError(f"--permission {printable(option)}: write FAMILY=none|read|write", EXIT_USAGE)
        given[family] = level
    return given
