"""Authentication: from an ``Authorization`` header to a Caller, or a refusal.

The gate (``chalicelib.api.authorizer``) calls :func:`authenticate` for every request to any
OpenIndex API, and hands the caller it allows to the route's handler in the authorizer's
context (:func:`allowed_context`, :func:`caller_from_verdict`); ``POST /auth/token-check`` calls
:func:`check`, and ``POST /auth/introspect`` :func:`introspect`.
"""
from __future__ import annotations

import hmac
from datetime import datetime

from chalicelib import audit
from chalicelib.errors import InvalidToken
from chalicelib.model import flat, token_format
from chalicelib.model.accounts import User
from chalicelib.model.caller import Caller
from chalicelib.model.events import EventType, SecurityEvent, repeatable_event, told_recently
from chalicelib.model.kinds import BEARER_KINDS
from chalicelib.model.tokens import TokenRecord, account_refusal
from chalicelib.storage import Store
from chalicelib.timeutil import to_iso

_REVOKED = {
    "tokens_revoked": "This token was revoked: every token of its account issued until then, and what they "
                      "made, was revoked (revoke-all, or the account was deactivated).",
    "admin_tokens_revoked": "This admin token was revoked when its account stopped being an admin.",
}
_VERDICT = "verdict"
_ALLOW = "allow"
ANONYMOUS = "anonymous"


def authenticate(store: Store, authorization: str, now: datetime, address: str | None = None) -> Caller:
    """The caller behind a bearer token, used from ``address`` (the one API Gateway served; None
    when unknown); InvalidToken for every way a token can be bad."""
    parsed = token_format.parse(_bearer_token(authorization))
    if parsed is None or parsed.kind.kind not in BEARER_KINDS or parsed.user_id is None:
        raise InvalidToken("malformed_token")
    wanted = [parsed.token_id] + ([parsed.parent_id] if parsed.parent_id else [])
    user, tokens, policy = store.tokens.load_credential(parsed.user_id, wanted)
    record = tokens.get(parsed.token_id)
    if record is None or record.deleted_at is not None or not hmac.compare_digest(record.digest, parsed.digest):
        raise InvalidToken("unknown_token")
    # From here on the caller holds the real token, so the refusal may say why.
    if record.expires_at is not None and record.is_expired(now):
        if record.rotated_to is not None:
            raise _used_after_rotation(record, record.expires_at, now)
        raise InvalidToken("expired", f"This token expired at {to_iso(record.expires_at)}; create a new one.")
    stops_at = record.expires_at
    grant = record.permissions
    learner = record  # the PAT that learns what this token uses (a run token's parent)
    ranges = record.allowed_ips
    if parsed.parent_id is not None:
        parent = tokens.get(parsed.parent_id)
        if (parent is None or parent.deleted_at is not None or parent.is_expired(now) or record.parent_id != parent.id
                or (user is not None and user.revocation_of(parent.line_issued_ms, parent.scope,
                                                            parent.revocations_seen))):
            raise InvalidToken("parent_revoked", "The personal access token that minted this run token "
                               "was deleted, revoked or has expired.")
        if parent.expires_at is not None and (stops_at is None or parent.expires_at < stops_at):
            stops_at = parent.expires_at  # a run token dies with its parent (a rotation's window, say)
        held = record.grant.meet(parent.grant)  # never more than its PAT may now, preset or not
        if record.permissions is not None or held != record.grant:
            grant = held
        learner = parent
        if ranges.any:  # a run token is held to its PAT's ranges, and says so
            ranges = parent.allowed_ips
    if (refusal := account_refusal(record, user)) or user is None:  # (None is refused: said for the types)
        raise _refused_by_account(refusal or "user_inactive", record, user)
    for checked in [record] + ([tokens[parsed.parent_id]] if parsed.parent_id else []):
        if breach := policy.breach(checked.kind, checked.scope, checked.created_at, checked.lifetime_expires_at):
            raise _blocked_by_policy(checked, record, breach, now)
        if not checked.allowed_ips.allows(address):
            raise _from_another_address(checked, record, address, now)
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
        stops_at=stops_at,
        agent_id=record.agent_id,
        stage=record.stage,
        tokens_revoked_at_ms=user.tokens_revoked_at_ms,
        admin_tokens_revoked_at_ms=user.admin_tokens_revoked_at_ms,
        rotated_to=record.rotated_to,
        policy=policy.to_text(),
        last_used_at=record.last_used_at,
        last_used_ip=record.last_used_ip,
        lineage_issued_ms=record.line_issued_ms,
        revocations_seen=record.revocations_seen,
        user_revocations=user.revocations,
        permissions=grant.to_text() if grant is not None else "",
        allowed_ips=ranges.to_text(),
        used=",".join(sorted(learner.used.uses)),
        parent_id=parsed.parent_id,
        issued_at=record.created_at,
    )


class ToldRefusal(InvalidToken):
    """A refusal the token's owner is told about in their security log: the authorizer stores
    ``event`` (at most once an hour per kind: see :func:`_told_once`)."""

    def __init__(self, reason: str, message: str, event: SecurityEvent) -> None:
        super().__init__(reason, message)
        self.event = event


def _told_once(refusal: InvalidToken, event: SecurityEvent, used: TokenRecord, now: datetime) -> InvalidToken:
    """``refusal``, carrying ``event`` for the owner unless ``used`` caused one of its type within
    the hour (its item, read anyway, says when): repeated refusals then cost no write."""
    if told_recently(used.told, event.type, now):
        return refusal
    return ToldRefusal(refusal.reason, refusal.message, event)


def _refused_by_account(refusal: str, record: TokenRecord, user: User | None) -> InvalidToken:
    """The refusal ``account_refusal`` gave, in words for the token's holder."""
    if refusal == "user_inactive" or user is None:
        return InvalidToken("user_inactive", "The account this token belongs to is deactivated.")
    if refusal == "role_lacks_scope":
        return InvalidToken("role_lacks_scope", f"This token has {record.scope.value} scope, which its "
                            f"account's role ({user.role.value}) no longer allows.")
    return InvalidToken(refusal, _REVOKED[refusal])


def _used_after_rotation(record: TokenRecord, window_end: datetime, now: datetime) -> InvalidToken:
    """A rotated token after its grace window: refused like any dead token, and reported, since
    its holder did not switch (or someone else holds a copy). The successor is never touched:
    revoking it, or the family, would take down the client that did switch."""
    audit.record("token.used_after_rotation", audit.DENIED, record.user_id, tokenId=record.id,
                 successorId=record.rotated_to)
    stopped = ("which was deleted or revoked since, so it stopped with it" if record.successor_revoked
               else "and its grace period ended")
    event = repeatable_event(
        record.user_id, EventType.TOKEN_USED_AFTER_ROTATION,
        f"\"{record.name}\" was used after it was rotated to {record.rotated_to}, {stopped}; it was refused. "
        "Update whatever still uses it.", now, token_id=record.id, token_name=record.name)
    advice = ("which was deleted or revoked since, so this one stopped with it at "
              f"{to_iso(window_end)}. Create a new token" if record.successor_revoked else
              f"and it stopped working at {to_iso(window_end)}. Use the new token")
    return _told_once(InvalidToken("rotated", f"This token was rotated to {record.rotated_to}, {advice}."), event,
                      record, now)


def _blocked_by_policy(breaking: TokenRecord, used: TokenRecord, breach: str, now: datetime) -> InvalidToken:
    """A token the policy in force blocks: refused, and its owner told once an hour."""
    whose = "" if breaking.id == used.id else "the personal access token that minted this run token: "
    event = repeatable_event(
        used.user_id, EventType.TOKEN_BLOCKED_BY_POLICY,
        f"\"{used.name}\" was refused because the instance's token policy blocks it: {whose}{breach}. "
        "Create a token that fits the policy, or ask an admin.", now, token_id=used.id, token_name=used.name)
    refusal = InvalidToken("blocked_by_policy", f"This token is blocked by the instance's token policy: {whose}"
                           f"{breach}. It works again if an admin relaxes the policy; or create a token that fits it.")
    return _told_once(refusal, event, used, now)


def _from_another_address(
    ranging: TokenRecord, used: TokenRecord, address: str | None, now: datetime
) -> InvalidToken:
    """A token used from an address its ranges (or its PAT's) do not allow: refused, saying the
    rule to its holder, and its owner told once an hour."""
    whose = "" if ranging.id == used.id else "the personal access token that minted this run token "
    came_from = f"this request came from {address}" if address else "this request's address is unknown"
    event = repeatable_event(
        used.user_id, EventType.TOKEN_USED_FROM_ANOTHER_ADDRESS,
        f"\"{used.name}\" was refused: it was used from {address or 'an unknown address'}, and {whose}works only "
        f"from {ranging.allowed_ips.in_words()}. If that was not you or your software, delete the token.", now,
        token_id=used.id, token_name=used.name)
    refusal = InvalidToken("address_not_allowed", f"This token is refused from this address: {whose}works only "
                           f"from {ranging.allowed_ips.in_words()}, and {came_from}.")
    return _told_once(refusal, event, used, now)


def check(store: Store, token: str, now: datetime, address: str | None) -> Caller | InvalidToken:
    """Whether ``token`` works from ``address`` (the checking request's), for its holder: the
    caller it authenticates as, or why it is refused (the generic refusal unless it is the real
    token). A check is not a use: nothing is recorded and nobody is told."""
    authorization = f"Bearer {token}"
    try:
        return authenticate(store, authorization, now, address)
    except InvalidToken as refusal:
        audit.record("token.checked", audit.FAILURE, ANONYMOUS, reason=refusal.reason,
                     **claimed_ids(authorization))
        return refusal


def introspect(store: Store, asker: Caller, token: str, now: datetime, client_address: str | None) -> Caller | None:
    """RFC 7662 for ``asker``, a service that does not sit behind API Gateway: the caller ``token``
    authenticates as, judged as the authorizer judges it (from the address the service says its
    client came from: a token limited to some addresses is never live for a service that does not
    say), or None (the answer says no more: the asker is not its holder). Like a check, not a use."""
    authorization = f"Bearer {token}"
    try:
        found = authenticate(store, authorization, now, client_address)
    except InvalidToken as refusal:
        audit.record("token.introspected", audit.FAILURE, asker.user_id, viaTokenId=asker.token_id,
                     reason=refusal.reason, **claimed_ids(authorization))
        return None
    audit.record("token.introspected", audit.SUCCESS, asker.user_id, viaTokenId=asker.token_id,
                 tokenId=found.token_id, ownerId=found.user_id)
    return found


def allowed_context(caller: Caller) -> dict[str, str]:
    """The context an authorizer that allows ``caller`` hands the route's handler."""
    return {_VERDICT: _ALLOW, **flat.encode(caller)}


def caller_from_verdict(context: dict[str, str] | None) -> Caller:
    """The caller the authorizer allowed; a guarded request without that verdict is refused
    (an authorizer that is missing or answered otherwise never lets a route run unguarded)."""
    context = context or {}
    if context.get(_VERDICT) != _ALLOW:
        raise InvalidToken("no_verdict")
    return flat.decode(Caller, context)


def claimed_ids(authorization: str) -> dict[str, str]:
    """The ids a well-formed token names (never the token), so a failure can be traced. They are
    what the caller claims: anyone can compute a checksum, so they are logged as claims."""
    try:
        parsed = token_format.parse(_bearer_token(authorization))
    except InvalidToken:
        return {}
    if parsed is None or parsed.user_id is None:
        return {}
    return {"claimedUserId": parsed.user_id, "claimedTokenId": parsed.token_id}


def _bearer_token(authorization: str) -> str:
    scheme, _, credentials = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise InvalidToken("malformed_header")
    return credentials.strip()
