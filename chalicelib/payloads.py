"""The JSON shapes the API answers with (camelCase, ISO-8601 UTC times)."""
from __future__ import annotations

from typing import Any

from chalicelib.access import Caller
from chalicelib.invites import IssuedInvite
from chalicelib.models import Invite, TokenKind, TokenRecord, User
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
    """The caller and the token they called with (and, for a run token, its agent and stage)."""
    token: dict[str, Any] = {
        "id": caller.token_id,
        "name": caller.token_name,
        "scope": caller.scope.value,
        "kind": caller.kind.value,
        "expiresAt": to_iso(caller.expires_at) if caller.expires_at else None,
    }
    if caller.kind is TokenKind.AGENT_RUN:
        token.update(agentId=caller.agent_id, stage=caller.stage)
    return {
        "id": caller.user_id,
        "email": caller.email,
        "role": caller.role.value,
        "createdAt": to_iso(caller.user_created_at),
        "token": token,
    }


def error(code: str, message: str) -> dict[str, Any]:
    """The body of every error response."""
    return {"error": {"code": code, "message": message}}


def user(account: User) -> dict[str, Any]:
    """A user as admins and the user see it."""
    return {
        "id": account.id,
        "email": account.email,
        "role": account.role.value,
        "status": account.status.value,
        "createdAt": to_iso(account.created_at),
    }


def listed_invite(invite: Invite) -> dict[str, Any]:
    """A pending invite as listed: never its token."""
    return {
        "id": invite.id,
        "email": invite.email,
        "role": invite.role.value,
        "expiresAt": to_iso(invite.expires_at),
        "createdAt": to_iso(invite.created_at),
    }


def created_invite(issued: IssuedInvite) -> dict[str, Any]:
    """An invite just created, with its token and link: the only response that carries them."""
    return {**listed_invite(issued.invite), "token": issued.token, "inviteUrl": issued.url}


def claimed_invite(account: User, first_token: IssuedToken) -> dict[str, Any]:
    """The account an invite activated and its first PAT."""
    return {"user": user(account), "pat": created_pat(first_token)}


def created_run_token(issued: IssuedToken) -> dict[str, Any]:
    """An agent run token just minted, with its value: the only response that carries it."""
    token = issued.record
    return {
        "id": token.id,
        "agentId": token.agent_id,
        "stage": token.stage,
        "token": issued.value,
        "scope": token.scope.value,
        "kind": token.kind.value,
        "expiresAt": to_iso(token.expires_at) if token.expires_at else None,
        "createdAt": to_iso(token.created_at),
    }
