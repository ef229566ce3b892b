"""Authentication: from an ``Authorization`` header to a Caller, or a refusal.

The authorizer never raises: ``chalice local`` and the test client drop the connection when an
authorizer raises, so it always allows the request through API Gateway and carries its
verdict in the context; the access middleware in ``app.py`` then answers 401/403/503 the same
way locally, in tests and when deployed.
"""
from __future__ import annotations

import hmac
import logging
from datetime import datetime, timedelta

from chalicelib import audit, token_codec
from chalicelib.access import Caller
from chalicelib.errors import InvalidToken, ServiceError, StorageUnavailable
from chalicelib.models import Role, Scope
from chalicelib.store import Store
from chalicelib.timeutil import to_iso

log = logging.getLogger(__name__)

# lastUsedAt is refreshed at most this often, so steady traffic causes no writes.
LAST_USED_GRANULARITY = timedelta(minutes=5)

_VERDICT = "verdict"
_MESSAGE = "message"
_ALLOW = "allow"
_ANONYMOUS = "anonymous"


def authenticate(store: Store, authorization: str, now: datetime) -> Caller:
    """The caller behind a bearer token; InvalidToken for every way a token can be bad."""
    token = _bearer_token(authorization)
    parsed = token_codec.parse(token)
    if parsed is None or parsed.type not in (token_codec.PAT, token_codec.RUN):
        raise InvalidToken("malformed_token")
    user_id, token_id, *minted_by = parsed.ids
    user, tokens = store.load_credential(user_id, [token_id, *minted_by])
    record = tokens.get(token_id)
    if record is None:
        raise InvalidToken("unknown_token")
    if not hmac.compare_digest(record.digest, parsed.digest):
        raise InvalidToken("unknown_token")
    # From here on the caller holds the real token, so the refusal may say why.
    if record.expires_at is not None and record.is_expired(now):
        raise InvalidToken("expired", f"This token expired at {to_iso(record.expires_at)}; create a new one.")
    if minted_by:
        parent = tokens.get(minted_by[0])
        if parent is None or parent.is_expired(now) or record.parent_id != parent.id:
            raise InvalidToken("parent_revoked", "The personal access token that minted this run token "
                               "was deleted or has expired.")
    if user is None or not user.is_active:
        raise InvalidToken("user_inactive", "The account this token belongs to is deactivated.")
    if record.scope is Scope.ADMIN and user.role is not Role.ADMIN:
        raise InvalidToken("role_lacks_scope", "This admin token's account is no longer an admin.")
    if record.last_used_at is None or record.last_used_at < now - LAST_USED_GRANULARITY:
        store.touch_token(user_id, token_id, now, stale_before=now - LAST_USED_GRANULARITY)
    return Caller(
        user_id=user.id,
        email=user.email,
        role=user.role,
        user_created_at=user.created_at,
        token_id=record.id,
        token_name=record.name,
        scope=record.scope,
        kind=record.kind,
        expires_at=record.expires_at,
        agent_id=record.agent_id,
        stage=record.stage,
    )


def verdict(store: Store, authorization: str, now: datetime) -> tuple[str, dict[str, str]]:
    """The authorizer's answer: a principal id and a context that says allow or why not."""
    try:
        caller = authenticate(store, authorization, now)
    except InvalidToken as refusal:
        audit.record("auth.failed", audit.FAILURE, _ANONYMOUS, reason=refusal.reason, **_locator(authorization))
        explained = {_MESSAGE: refusal.message} if refusal.message != InvalidToken.MESSAGE else {}
        return _ANONYMOUS, {_VERDICT: refusal.code, **explained}
    except StorageUnavailable:
        log.warning("authentication unavailable: DynamoDB did not answer")
        return _ANONYMOUS, {_VERDICT: StorageUnavailable.code}
    except Exception:  # noqa: BLE001 - an authorizer must answer; the route refuses with 500
        log.exception("authentication failed unexpectedly")
        return _ANONYMOUS, {_VERDICT: ServiceError.code}
    return caller.user_id, {_VERDICT: _ALLOW, **caller.to_context()}


def caller_from_verdict(context: dict[str, str] | None) -> Caller:
    """The caller the authorizer allowed, or the error it decided on (never allows by default)."""
    outcome = (context or {}).get(_VERDICT)
    if outcome == _ALLOW:
        return Caller.from_context(context or {})
    if outcome == StorageUnavailable.code:
        raise StorageUnavailable()
    if outcome == ServiceError.code:
        raise ServiceError("An internal error occurred.")
    raise InvalidToken(outcome or "no_verdict", (context or {}).get(_MESSAGE))


def _locator(authorization: str) -> dict[str, str]:
    """The ids a well-formed token names (never the token), so a failure can be traced. They are
    what the caller claims: anyone can compute a checksum, so they are logged as claims."""
    try:
        parsed = token_codec.parse(_bearer_token(authorization))
    except InvalidToken:
        return {}
    if parsed is None:
        return {}
    return {"claimedUserId": parsed.ids[0], "claimedTokenId": parsed.ids[1]} if len(parsed.ids) > 1 else {}


def _bearer_token(authorization: str) -> str:
    scheme, _, credentials = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise InvalidToken("malformed_header")
    return credentials.strip()
