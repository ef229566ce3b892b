"""What the API answers: the JSON shapes (camelCase, RFC 3339 UTC times), errors on the wire,
and the headers every response carries."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from chalice.app import Response

from chalicelib.errors import InsufficientScope, InvalidToken, RouteNotFound, ServiceError
from chalicelib.model.accounts import User
from chalicelib.model.caller import Caller
from chalicelib.model.events import SecurityEvent
from chalicelib.model.grants import Grant
from chalicelib.model.invites import Invite, IssuedInvite
from chalicelib.model.kinds import Scope, TokenKind
from chalicelib.model.token_policy import Impact, TokenPolicy
from chalicelib.model.tokens import BlockedReason, CreationLimit, IssuedToken, TokenRecord
from chalicelib.timeutil import to_epoch, to_iso

# On every response, the app's and API Gateway's own: nothing is cached (bodies may carry a
# token), and browsers never guess a type other than the declared one.
SECURITY_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}

REQUIRED_SCOPE = "requiredScope"

# Chalice answers some requests itself (unknown method, wrong media type, a bug in a view)
# with {"Code", "Message"}; these are restyled to the API's own error shape, with a fixed
# message: Chalice's repeats what the client sent ("Unsupported media type: <the header>").
_CHALICE_ERRORS = {
    400: ("invalid_request", "Invalid request."),
    404: (RouteNotFound.code, RouteNotFound.default_message),
    405: ("method_not_allowed", "This path does not take this method."),
    415: ("unsupported_media_type", "Send the body as JSON, with Content-Type: application/json "
                                    "(POST /auth/introspect also takes a form)."),
    500: ("internal_error", "An internal error occurred."),
}


def listed_pat(token: TokenRecord, blocked: BlockedReason | None = None) -> dict[str, Any]:
    """A PAT as listed, and why it does not work if it is blocked: never its value or digest."""
    return {
        "id": token.id,
        "name": token.name,
        "scope": token.label,
        "permissions": token.grant.as_dict(),
        "expiresAt": _time(token.expires_at),
        "createdAt": to_iso(token.created_at),
        "lastUsedAt": _time(token.last_used_at),
        "lastUsedIp": token.last_used_ip,
        "lastUsedUserAgent": token.last_used_user_agent,
        "rotatedTo": token.rotated_to,
        "rotatedFrom": token.rotated_from,
        "createdBy": _token_maker(token),
        "blocked": {"code": blocked.code, "message": blocked.message} if blocked else None,
        "allowedIps": token.allowed_ips.as_list(),
        **_learned(token),
    }


def _learned(token: TokenRecord) -> dict[str, Any]:
    """What a PAT was seen to use, and the narrowing to exactly that (a ``PATCH`` body: what it
    used that it may still do), or null when that takes nothing away or nothing was seen. Never
    one that takes admin away: no token below admin can make an admin token again, so a person's
    only admin token would be lost for good (narrowing it by hand still can)."""
    used = token.used
    least = used.least_grant()
    target = least.meet(token.grant) if least is not None else None
    keeps_admin = token.scope is not Scope.ADMIN or (target is not None and target.least_scope() is Scope.ADMIN)
    offered = target is not None and target != token.grant and target != Grant.of({}) and keeps_admin
    preset = target.preset() if target is not None and token.permissions is None else None
    return {
        "usedPermissions": used.permissions.as_dict(),
        "usedScope": used.scope.value if used.scope else None,
        "usedSince": _time(used.since),
        "narrowToUsed": None if not offered or target is None else
        {"scope": preset.value} if preset else {"permissions": target.as_dict()},
    }


def _token_maker(token: TokenRecord) -> dict[str, Any] | None:
    """Who made a token: a user and their token (or, for a claimed PAT, the invite's maker and
    the invite); None for a token stored before makers were recorded."""
    if token.created_by_user_id is None:
        return None
    return {"userId": token.created_by_user_id, "tokenId": token.created_by_token_id,
            "inviteId": token.created_via_invite_id}


def created_pat(issued: IssuedToken) -> dict[str, Any]:
    """A PAT just created (or a rotation's successor, with ``rotatedFrom``), with its value:
    the only response that ever carries it."""
    token = issued.record
    return {
        "id": token.id,
        "name": token.name,
        "scope": token.label,
        "permissions": token.grant.as_dict(),
        "token": issued.value,
        "expiresAt": _time(token.expires_at),
        "createdAt": to_iso(token.created_at),
        "allowedIps": token.allowed_ips.as_list(),
        **({"rotatedFrom": token.rotated_from} if token.rotated_from else {}),
    }


def created_run_token(issued: IssuedToken) -> dict[str, Any]:
    """An agent run token just minted, with its value: the only response that carries it."""
    token = issued.record
    return {
        "id": token.id,
        "agentId": token.agent_id,
        "stage": token.stage,
        "token": issued.value,
        "scope": token.label,
        "permissions": token.grant.as_dict(),
        "kind": token.kind.value,
        "expiresAt": _time(token.expires_at),
        "createdAt": to_iso(token.created_at),
    }


def listed_run_token(token: TokenRecord) -> dict[str, Any]:
    """A live agent run token as listed: never its value."""
    return {
        "id": token.id,
        "agentId": token.agent_id,
        "stage": token.stage,
        "parentId": token.parent_id,
        "scope": token.label,
        "permissions": token.grant.as_dict(),
        "expiresAt": _time(token.expires_at),
        "createdAt": to_iso(token.created_at),
    }


def page(items: list[dict[str, Any]], next_cursor: str | None) -> dict[str, Any]:
    """A page of a list."""
    return {"items": items, "nextCursor": next_cursor}


def me(caller: Caller, limits: dict[Scope, CreationLimit]) -> dict[str, Any]:
    """The caller and the token they called with (and, for a run token, its agent and stage),
    and what a new PAT of each scope it may create may be."""
    token: dict[str, Any] = {
        "id": caller.token_id,
        "name": caller.token_name,
        "scope": caller.label,
        "permissions": caller.grant.as_dict(),
        "kind": caller.kind.value,
        "expiresAt": _time(caller.expires_at),
        "allowedIps": caller.addresses.as_list(),
    }
    if caller.kind is TokenKind.AGENT_RUN:
        token.update(agentId=caller.agent_id, stage=caller.stage)
    return {
        "id": caller.user_id,
        "email": caller.email,
        "role": caller.role.value,
        "createdAt": to_iso(caller.user_created_at),
        "token": token,
        "tokenLimits": {scope.value: {
            "latestExpiresAt": _time(limit.latest_expires_at), "noExpiryAllowed": limit.no_expiry_allowed,
            "leftOut": limit.left_out, "leftOutExpiresAt": _time(limit.left_out_expires_at),
            "refused": limit.refused,
        } for scope, limit in limits.items()},
    }


def token_policy(policy: TokenPolicy) -> dict[str, Any]:
    """The instance's token policy."""
    return policy.to_fields()


def policy_impact(found: Impact) -> dict[str, Any]:
    """What a proposed policy would block: counts, and a sample of the tokens."""
    return {
        "blocksCaller": {"message": found.blocks_caller} if found.blocks_caller else None,
        "tokensBlocked": found.tokens_blocked,
        "usersAffected": found.users_affected,
        "readWritePresetTokens": found.read_write_preset_tokens,
        "sample": [{
            "userId": blocked.owner.id,
            "email": blocked.owner.email,
            "tokenId": blocked.token.id,
            "name": blocked.token.name,
            "scope": blocked.token.scope.value,
            "expiresAt": _time(blocked.token.expires_at),
            "reason": blocked.reason,
        } for blocked in found.sample],
    }


def security_event(event: SecurityEvent) -> dict[str, Any]:
    """An entry of a person's security log."""
    return {
        "id": event.id,
        "type": event.type.value,
        "tokenId": event.token_id,
        "tokenName": event.token_name,
        "at": to_iso(event.at),
        "detail": event.detail,
    }


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
    """A pending invite or re-access link (``userId`` set) as listed, with who made it: never its
    token. ``revoked`` when the token that made it was revoked for cause since."""
    return {
        "id": invite.id,
        "email": invite.email,
        "role": invite.role.value,
        "userId": invite.user_id,
        "status": invite.status.value,
        "createdBy": {"userId": invite.created_by, "tokenId": invite.created_by_token_id,
                      "email": invite.created_by_email},
        "expiresAt": to_iso(invite.expires_at),
        "createdAt": to_iso(invite.created_at),
    }


def created_access_link(issued: IssuedInvite) -> dict[str, Any]:
    """A re-access link just created, with its token and link: the only response that carries them."""
    return {
        "id": issued.invite.id,
        "userId": issued.invite.user_id,
        "token": issued.token,
        "inviteUrl": issued.url,
        "expiresAt": to_iso(issued.invite.expires_at),
        "createdAt": to_iso(issued.invite.created_at),
    }


def created_invite(issued: IssuedInvite) -> dict[str, Any]:
    """An invite just created, with its token and link: the only response that carries them."""
    return {**listed_invite(issued.invite), "token": issued.token, "inviteUrl": issued.url}


def claimed_invite(account: User, first_token: IssuedToken) -> dict[str, Any]:
    """The account an invite activated and its first PAT."""
    return {"user": user(account), "pat": created_pat(first_token)}


def introspection(found: Caller | None) -> dict[str, Any]:
    """RFC 7662's answer: a live token's owner, kind, grant and times (seconds since the epoch;
    no ``exp`` for a token that never expires), or only that it is not live."""
    if found is None:
        return {"active": False}
    return {"active": True, "sub": found.user_id, "jti": found.token_id,
            "token_type": "run" if found.kind is TokenKind.AGENT_RUN else "pat",
            "scope": found.label, "permissions": found.grant.as_dict(),
            **({"exp": to_epoch(found.stops_at)} if found.stops_at else {}),
            **({"iat": to_epoch(found.issued_at)} if found.issued_at else {})}


def token_check(found: Caller | InvalidToken) -> dict[str, Any]:
    """Whether a token works, said to whoever sent it: why not only to the token's holder (the
    generic refusal otherwise, as a 401 says it)."""
    if isinstance(found, Caller):
        return {"active": True, "tokenId": found.token_id, "kind": found.kind.value,
                "scope": found.label,
                "permissions": found.grant.as_dict(), "expiresAt": _time(found.stops_at), "reason": None,
                "message": None}
    return {"active": False, "tokenId": None, "kind": None, "scope": None, "permissions": None, "expiresAt": None,
            "reason": found.reason if found.tells_why else None, "message": found.message}


def error(code: str, message: str, **more: str) -> dict[str, Any]:
    """The body of every error response (a 403's also names the scope the route needs)."""
    return {"error": {"code": code, "message": message, **more}}


def error_response(failure: ServiceError) -> Response:
    """The response for a domain error: its status, JSON body and headers."""
    headers: dict[str, str | list[str]] = {**failure.headers()}
    more = {REQUIRED_SCOPE: failure.required_scope} if isinstance(failure, InsufficientScope) else {}
    return Response(body=error(failure.code, failure.message, **more), status_code=failure.status, headers=headers)


# On every response to a request made with an expiring token (GitHub sends its own
# `github-authentication-token-expiration`): clients warn before the token stops working.
TOKEN_EXPIRES_HEADER = "OpenIndex-Token-Expires"
TOKEN_ROTATED_TO_HEADER = "OpenIndex-Token-Rotated-To"


def signal_rotation(response: Response, rotated_to: str | None) -> None:
    """Tell the client that the token it used was rotated, and to which successor, while its
    grace window lasts: a client can store the successor instead of rotating again."""
    if rotated_to is not None:
        response.headers.setdefault(TOKEN_ROTATED_TO_HEADER, rotated_to)


def signal_expiry(response: Response, expires_at: datetime | None) -> None:
    """Tell the client when the token it used expires (nothing for a token that does not); a
    view that changed that expiry (a rotation of the calling token) has already said so."""
    if expires_at is not None:
        response.headers.setdefault(TOKEN_EXPIRES_HEADER, to_iso(expires_at))


def in_house_style(response: Response) -> Response:
    """Chalice's own error bodies rewritten as ``{"error": {"code", "message"}}``, and the
    security headers added."""
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and "Code" in body:
        code, message = _CHALICE_ERRORS.get(response.status_code, ("error", "The request failed."))
        response.body = error(code, message)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _time(moment: datetime | None) -> str | None:
    return to_iso(moment) if moment else None
