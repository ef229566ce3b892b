"""Leaked credentials reported by anyone (a secret scanner, a stranger who found one): revoked at once.

The route answers the same whatever was found, so it cannot be used to test whether a token is
live. Only strings with a valid checksum cost a read: one key each, 100 keys per round trip,
whatever their kind (a run token's parent is read only once its own digest matched). A match is
decided on the stored digest, compared in constant time, exactly as the authorizer does.

A leaked token takes with it what it made, whether or not it still works (a thief can rotate or
delete a stolen token to hide it; its item is kept a while either way): the PATs and run tokens
it created, directly or through tokens it created, and (through compromise markers) the invites
and links they sent that are still pending. Its predecessors in a rotation chain stop with it.
"""
from __future__ import annotations

import hmac
from collections.abc import Sequence
from datetime import datetime

from chalicelib import audit
from chalicelib.model import ids, token_format
from chalicelib.model.accounts import User
from chalicelib.model.events import EventType, SecurityEvent, new_event
from chalicelib.model.invites import Invite, InviteStatus
from chalicelib.model.kinds import BEARER_KINDS, TokenKind
from chalicelib.model.token_format import ParsedToken
from chalicelib.model.tokens import TokenRecord
from chalicelib.storage import Store

REPORTER = "public"


def revoke_leaked(store: Store, credentials: Sequence[str], *, source: str | None, now: datetime) -> None:
    """Revoke every live PAT, run token and pending invite among ``credentials``, and what the
    tokens made; tell owners."""
    parsed = {token.digest: token for token in map(token_format.parse, dict.fromkeys(credentials)) if token}
    bearer = [token for token in parsed.values() if token.kind.kind in BEARER_KINDS and token.user_id]
    invites = [token for token in parsed.values() if token.kind.kind is TokenKind.INVITE]
    if not bearer and not invites:
        return
    tokens, found_invites = store.reports.find([(token.user_id or "", token.token_id) for token in bearer],
                                               [token.token_id for token in invites])
    matched: dict[str, set[str]] = {}
    for token in bearer:
        record = tokens.get(token.token_id)
        if record is not None and record.user_id == token.user_id and hmac.compare_digest(record.digest, token.digest):
            matched.setdefault(record.user_id, set()).add(record.id)
    for user_id, token_ids in matched.items():
        _revoke_in_account(store, user_id, token_ids, source, now)
    if invites:
        _revoke_invites(store, invites, found_invites, source, now)


def _revoke_in_account(store: Store, user_id: str, leaked_ids: set[str], source: str | None, now: datetime) -> None:
    """Revoke the account's leaked tokens (those still live) and everything live they made.

    The account is read whole (one Query per page); the leaked tokens and what they made are
    deleted and marked compromised, then read again: a token that one of them made while this ran
    (its creating transaction committed before the delete) is found and revoked in turn.
    """
    user, stored = store.tokens.account(user_id)
    if user is None:
        return
    tokens = {token.id: token for token in stored}
    # Live or not: a thief can rotate a stolen token away, or delete it, to hide it, so what a
    # leaked token made is revoked as long as its item is kept (a rotated token's 30 days after
    # its window, a deleted token's tombstone 31 days).
    leaked = [tokens[token_id] for token_id in sorted(leaked_ids) if token_id in tokens]
    if not leaked:
        return
    origin = {token.id: token for token in leaked}  # each token to revoke -> the leaked token it came from
    handled: set[str] = set()
    revoked: list[TokenRecord] = []
    while pending := [token for token in _made_from(origin, tokens) if token.id not in handled]:
        live = [token for token in pending if _live(token, tokens, user, now)]
        store.tokens.revoke_compromised(live, marked=pending, now=now)
        handled.update(token.id for token in pending)
        revoked += live
        _, again = store.tokens.account(user_id)
        tokens.update({token.id: token for token in again if token.id not in tokens})
    for token in revoked:
        if token.rotated_from is not None:  # its predecessors stop with it
            store.tokens.end_windows(user_id, token.rotated_from, token.id, now, successor_revoked=True)
    store.events.put_many([_told(token, origin[token.id], source, now) for token in revoked])


def _made_from(origin: dict[str, TokenRecord], tokens: dict[str, TokenRecord]) -> list[TokenRecord]:
    """The tokens in ``origin`` and those made from them (created by, or minted by), transitively;
    ``origin`` learns, for each one, the leaked token it came from."""
    found = True
    while found:
        found = False
        for token in tokens.values():
            maker = token.created_by_token_id or token.parent_id
            if token.id not in origin and maker in origin:
                origin[token.id] = origin[maker]
                found = True
    return [tokens[token_id] for token_id in origin if token_id in tokens]


def _told(token: TokenRecord, leaked: TokenRecord, source: str | None, now: datetime) -> SecurityEvent:
    """The owner's event for a revoked token, and its audit line."""
    words = token.kind.spec.words
    if token.id == leaked.id:
        audit.record("credential.leak_revoked", audit.SUCCESS, REPORTER, userId=token.user_id, tokenId=token.id,
                     kind=token.kind.value, source=source)
        detail = (f"Your {words} \"{token.name}\" was reported leaked{_where(source)} and was revoked. Create a "
                  "new one where it was used.")
    else:
        audit.record("credential.leak_revoked", audit.SUCCESS, REPORTER, userId=token.user_id, tokenId=token.id,
                     kind=token.kind.value, source=source, leakedTokenId=leaked.id, reason="made_by_leaked_token")
        detail = (f"Your {words} \"{token.name}\" ({token.id}) was revoked: it was made through \"{leaked.name}\" "
                  f"({leaked.id}), which was reported leaked{_where(source)}. If you made it, create a new one.")
    return new_event(token.user_id, EventType.TOKEN_LEAK_REVOKED, detail, now, token_id=token.id,
                     token_name=token.name)


def _revoke_invites(
    store: Store, reported: list[ParsedToken], found: dict[str, Invite], source: str | None, now: datetime
) -> None:
    digests: dict[str, list[bytes]] = {}
    for token in reported:  # a forged twin naming the same id must not hide the real one
        digests.setdefault(token.token_id, []).append(token.digest)
    for invite in found.values():
        matched = any([hmac.compare_digest(invite.digest, digest) for digest in digests.get(invite.id, [])])
        if (invite.status is not InviteStatus.PENDING or invite.is_expired(now) or not matched
                or not store.invites.revoke(invite.id, now)):
            continue
        audit.record("credential.leak_revoked", audit.SUCCESS, REPORTER, inviteId=invite.id, kind="invite",
                     source=source)
        what = "re-access link" if invite.user_id else "invite"
        if ids.normalize(ids.USER, invite.created_by):  # not "bootstrap", whose log nobody reads
            store.events.report(new_event(invite.created_by, EventType.TOKEN_LEAK_REVOKED,
                                    f"The {what} you created for {invite.email} was reported leaked{_where(source)} "
                                    "and was revoked. Send a new one.", now, token_id=invite.id,
                                    token_name=invite.email))
        if invite.user_id and invite.user_id != invite.created_by:
            store.events.report(new_event(invite.user_id, EventType.TOKEN_LEAK_REVOKED,
                                    f"A re-access link to your account was reported leaked{_where(source)} and was "
                                    "revoked before anyone used it.", now, token_id=invite.id))


def _live(record: TokenRecord, tokens: dict[str, TokenRecord], user: User, now: datetime) -> bool:
    """Whether the authorizer would still accept ``record`` (as far as revocation goes); a run
    token needs its parent live too."""
    if (not user.is_active or record.deleted_at is not None or record.is_expired(now)
            or user.revocation_of(record.line_issued_ms, record.scope, record.revocations_seen)):
        return False
    parent = tokens.get(record.parent_id) if record.parent_id else None
    return record.parent_id is None or (parent is not None and _live(parent, tokens, user, now))


def _where(source: str | None) -> str:
    return f" at {source}" if source else ""
