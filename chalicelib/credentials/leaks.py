"""Leaked credentials reported by anyone (a secret scanner, a stranger who found one): revoked at once.

The route answers the same whatever was found, so it cannot be used to test whether a token is
live. Only strings with a valid checksum cost a read (100 keys per round trip); a match is
decided on the stored digest, compared in constant time, exactly as the authorizer does.
"""
from __future__ import annotations

import hmac
from collections.abc import Sequence
from datetime import datetime

from chalicelib import audit
from chalicelib.access import ids, token_format
from chalicelib.access.kinds import BEARER_KINDS, TokenKind
from chalicelib.access.token_format import ParsedToken
from chalicelib.accounts.records import InviteStatus, User
from chalicelib.credentials.records import TokenRecord
from chalicelib.security_events.log import report
from chalicelib.security_events.records import EventType, SecurityEvent, new_event
from chalicelib.storage import Store

REPORTER = "public"
_WORDS = {TokenKind.PAT: "personal access token", TokenKind.AGENT_RUN: "agent run token"}


def revoke_leaked(store: Store, credentials: Sequence[str], *, source: str | None, now: datetime) -> None:
    """Revoke every live PAT, run token and pending invite among ``credentials``; tell owners."""
    parsed = {token.digest: token for token in map(token_format.parse, dict.fromkeys(credentials)) if token}
    bearer = [token for token in parsed.values() if token.kind.kind in BEARER_KINDS and token.user_id]
    invites = [token for token in parsed.values() if token.kind.kind is TokenKind.INVITE]
    if bearer:
        _revoke_tokens(store, bearer, source, now)
    if invites:
        _revoke_invites(store, invites, source, now)


def _revoke_tokens(store: Store, reported: list[ParsedToken], source: str | None, now: datetime) -> None:
    wanted = [(token.user_id or "", token.token_id) for token in reported]
    wanted += [(token.user_id or "", token.parent_id) for token in reported if token.parent_id]
    users, records = store.tokens.find(wanted)
    doomed: list[TokenRecord] = []
    for token in reported:
        record = records.get(token.token_id)
        user = users.get(token.user_id or "")
        if (record is None or user is None or not hmac.compare_digest(record.digest, token.digest)
                or not _live(record, user, now)
                or (token.parent_id is not None and not _live(records.get(token.parent_id), user, now))):
            continue  # nothing to revoke: the authorizer refuses it already
        doomed.append(record)
    store.tokens.delete_many(doomed)
    told: list[SecurityEvent] = []
    for record in doomed:
        audit.record("credential.leak_revoked", audit.SUCCESS, REPORTER, userId=record.user_id, tokenId=record.id,
                     kind=record.kind.value, source=source)
        told.append(new_event(record.user_id, EventType.TOKEN_LEAK_REVOKED,
                              f"Your {_WORDS[record.kind]} \"{record.name}\" was reported leaked"
                              f"{_where(source)} and was revoked. Create a new one where it was used.",
                              now, token_id=record.id, token_name=record.name))
    store.events.put_many(told)


def _revoke_invites(store: Store, reported: list[ParsedToken], source: str | None, now: datetime) -> None:
    digests: dict[str, list[bytes]] = {}
    for token in reported:  # a forged twin naming the same id must not hide the real one
        digests.setdefault(token.token_id, []).append(token.digest)
    for invite in store.invites.get_many(list(digests)):
        matched = any([hmac.compare_digest(invite.digest, digest) for digest in digests[invite.id]])
        if (invite.status is not InviteStatus.PENDING or invite.is_expired(now) or not matched
                or not store.invites.revoke(invite.id, now)):
            continue
        audit.record("credential.leak_revoked", audit.SUCCESS, REPORTER, inviteId=invite.id, kind="invite",
                     source=source)
        what = "re-access link" if invite.user_id else "invite"
        if ids.normalize(ids.USER, invite.created_by):  # not "bootstrap", whose log nobody reads
            report(store, new_event(invite.created_by, EventType.TOKEN_LEAK_REVOKED,
                                    f"The {what} you created for {invite.email} was reported leaked{_where(source)} "
                                    "and was revoked. Send a new one.", now, token_id=invite.id,
                                    token_name=invite.email))
        if invite.user_id and invite.user_id != invite.created_by:
            report(store, new_event(invite.user_id, EventType.TOKEN_LEAK_REVOKED,
                                    f"A re-access link to your account was reported leaked{_where(source)} and was "
                                    "revoked before anyone used it.", now, token_id=invite.id))


def _live(record: TokenRecord | None, user: User, now: datetime) -> bool:
    return (record is not None and user.is_active and not record.is_expired(now)
            and user.revocation_of(record.id, record.scope) is None)


def _where(source: str | None) -> str:
    return f" at {source}" if source else ""
