"""The JSON shapes the API answers with (camelCase, ISO-8601 UTC times)."""
from __future__ import annotations

from typing import Any

from chalicelib.access import Caller
from chalicelib.models import TokenRecord
from chalicelib.timeutil import to_iso
from chalicelib.tokens import IssuedToken


def listed_pat(token: TokenRecord) -> dict[str, Any]:
    """A PAT as listed: never its value or digest."""
    return {
        "id": token.id,
        "name": token.name,
        "scope": token.scope.value,
        "expiresAt": to_iso(token.expires_at) if token.expires_at else None,
        "createdAt": to_iso(token.created_at),
        "lastUsedAt": to_iso(token.last_used_at) if token.last_used_at else None,
    }


def created_pat(issued: IssuedToken) -> dict[str, Any]:
    """A PAT just created, with its value: the only response that ever carries it."""
    token = issued.record
    return {
        "id": token.id,
        "name": token.name,
        "scope": token.scope.value,
        "token": issued.value,
        "expiresAt": to_iso(token.expires_at) if token.expires_at else None,
        "createdAt": to_iso(token.created_at),
    }


def page(items: list[dict[str, Any]], next_cursor: str | None) -> dict[str, Any]:
    """A page of a list."""
    return {"items": items, "nextCursor": next_cursor}


def me(caller: Caller) -> dict[str, Any]:
    """The caller and the token they called with."""
    return {
        "id": caller.user_id,
        "email": caller.email,
        "role": caller.role.value,
        "createdAt": to_iso(caller.user_created_at),
        "token": {
            "id": caller.token_id,
            "name": caller.token_name,
            "scope": caller.scope.value,
            "kind": caller.kind.value,
            "expiresAt": to_iso(caller.expires_at) if caller.expires_at else None,
        },
    }


def error(code: str, message: str) -> dict[str, Any]:
    """The body of every error response."""
    return {"error": {"code": code, "message": message}}
