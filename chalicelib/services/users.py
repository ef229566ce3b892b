"""Users: accounts, their role and status, and the first admin of a new instance."""
from __future__ import annotations

import dataclasses
from datetime import datetime

from chalicelib import audit
from chalicelib.errors import AccountExists, Conflict, LastAdmin, NotFound
from chalicelib.model import ids
from chalicelib.model.accounts import Role, User, UserStatus, new_user
from chalicelib.model.kinds import Scope, TokenKind
from chalicelib.model.tokens import IssuedToken, new_token
from chalicelib.storage import Store
from chalicelib.storage.errors import EmailTaken, StoreConflict, WouldRemoveLastAdmin


def create_user(store: Store, *, email: str, role: Role, now: datetime) -> User:
    """Store a new active user; AccountExists when the email already has an account."""
    user = new_user(email, role, now)
    try:
        store.users.create(user)
    except EmailTaken as taken:
        raise AccountExists() from taken
    return user


def bootstrap_admin(store: Store, *, email: str, now: datetime) -> tuple[User, IssuedToken]:
    """The first admin of an instance and an admin PAT, written straight into the table. The PAT
    does not expire unless the token policy in force needs it to (then: the longest allowed),
    so the recovery path never prints a token that is refused at once."""
    user = create_user(store, email=email, role=Role.ADMIN, now=now)
    token = _operators_admin_pat(store, user, "bootstrap", now)
    audit.record("user.created", audit.SUCCESS, "bootstrap", userId=user.id, role=user.role.value,
                 tokenId=token.record.id)
    return user, token


def recover_admin(store: Store, *, preferred_user_id: str | None, now: datetime) -> tuple[User, IssuedToken]:
    """A fresh admin PAT for an active admin (``preferred_user_id`` when it is one, else the
    newest), written straight into the table: operator tools hold the table, the root of trust,
    so an instance whose printed admin token was rotated, revoked or demoted is never locked
    out. NotFound when there is no active admin (the last one can never be removed)."""
    preferred = store.users.get(preferred_user_id) if preferred_user_id else None
    admin = preferred if preferred is not None and preferred.is_active_admin else _any_active_admin(store)
    token = _operators_admin_pat(store, admin, "make run", now)
    audit.record("token.created", audit.SUCCESS, "operator", userId=admin.id, tokenId=token.record.id,
                 scope=Scope.ADMIN.value, reason="admin_recovery")
    return admin, token


def _operators_admin_pat(store: Store, admin: User, name: str, now: datetime) -> IssuedToken:
    """An admin PAT stored straight into the table (no token makes it: the operator holds the
    table), expiring only if the token policy in force needs it to (then: the longest allowed)."""
    expires_at = store.policy.get().pat_expiry(Scope.ADMIN, None, now, asked=False)
    token = new_token(TokenKind.PAT, user_id=admin.id, name=name, scope=Scope.ADMIN, expires_at=expires_at, now=now)
    store.tokens.put(token.record)
    return token


def _any_active_admin(store: Store) -> User:
    cursor: str | None = None
    while True:
        page, cursor = store.users.page(100, cursor)
        for user in page:
            if user.is_active_admin:
                return user
        if cursor is None:
            raise NotFound("No active admin.")


def get_user(store: Store, user_id: str) -> User:
    """The user with this id; NotFound for unknown or malformed ids."""
    canonical = ids.normalize(ids.USER, user_id)
    user = store.users.get(canonical) if canonical else None
    if user is None:
        raise NotFound("No user with this id.")
    return user


def list_users(store: Store, *, limit: int, cursor: str | None) -> tuple[list[User], str | None]:
    """One page of users, newest first."""
    return store.users.page(limit, ids.cursor_start(ids.USER, cursor))


def update_user(
    store: Store, user_id: str, *, status: UserStatus | None, role: Role | None, actor_id: str, now: datetime,
    via_token_id: str | None = None,
) -> User:
    """Change a user's status and/or role; never leaves the instance without an active admin.

    Deactivation and demotion take effect on the user's next request: the authorizer reads the
    user with every token, so no token is rewritten. They are final for the tokens that exist:
    deactivation moves the cut-off of every token to now, demotion the cut-off of admin-scope
    tokens, so reactivating or promoting again revives none of them.
    """
    before = get_user(store, user_id)
    after = dataclasses.replace(before, status=status or before.status, role=role or before.role)
    if after == before:
        return before
    if before.is_active and not after.is_active:
        after = dataclasses.replace(after, tokens_revoked_at_ms=ids.epoch_ms(now))
    if before.role is Role.ADMIN and after.role is not Role.ADMIN:
        after = dataclasses.replace(after, admin_tokens_revoked_at_ms=ids.epoch_ms(now))
    change = {"viaTokenId": via_token_id, "userId": before.id, "status": after.status.value, "role": after.role.value,
              "previousStatus": before.status.value, "previousRole": before.role.value}
    try:
        store.users.change(before, after)
    except StoreConflict as conflict:
        audit.record("user.updated", audit.FAILURE, actor_id, reason=conflict.reason, **change)
        if isinstance(conflict, WouldRemoveLastAdmin):
            raise LastAdmin() from conflict
        raise Conflict() from conflict
    audit.record("user.updated", audit.SUCCESS, actor_id, **change)
    return after
