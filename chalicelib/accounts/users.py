"""Users: accounts, their role and status, and the first admin of a new instance."""
from __future__ import annotations

import dataclasses
from datetime import datetime

from chalicelib import audit
from chalicelib.access import ids
from chalicelib.access.kinds import Scope
from chalicelib.accounts.records import Role, User, UserStatus
from chalicelib.credentials.pats import issue_pat
from chalicelib.credentials.records import IssuedToken
from chalicelib.errors import AccountExists, Conflict, LastAdmin, NotFound
from chalicelib.storage import Store
from chalicelib.storage.errors import EmailTaken, StoreConflict, WouldRemoveLastAdmin


def normalize_email(email: str) -> str:
    """Emails are compared case-insensitively, so one address is one account."""
    return email.strip().lower()


def new_user(email: str, role: Role, now: datetime) -> User:
    """A fresh active user, not yet stored."""
    return User(
        id=ids.new_id(ids.USER, now),
        email=normalize_email(email),
        role=role,
        status=UserStatus.ACTIVE,
        created_at=now,
    )


def create_user(store: Store, *, email: str, role: Role, now: datetime) -> User:
    """Store a new active user; AccountExists when the email already has an account."""
    user = new_user(email, role, now)
    try:
        store.users.create(user)
    except EmailTaken as taken:
        raise AccountExists() from taken
    return user


def bootstrap_admin(store: Store, *, email: str, now: datetime) -> tuple[User, IssuedToken]:
    """The first admin of an instance and an admin PAT, written straight into the table."""
    user = create_user(store, email=email, role=Role.ADMIN, now=now)
    token = issue_pat(store, user_id=user.id, name="bootstrap", scope=Scope.ADMIN, expires_at=None, now=now)
    audit.record("user.created", audit.SUCCESS, "bootstrap", userId=user.id, role=user.role.value,
                 tokenId=token.record.id)
    return user, token


def get_user(store: Store, user_id: str) -> User:
    """The user with this id; NotFound for unknown or malformed ids."""
    canonical = ids.normalize(ids.USER, user_id)
    user = store.users.get(canonical) if canonical else None
    if user is None:
        raise NotFound("No user with this id.")
    return user


def list_users(store: Store, *, limit: int, cursor: str | None) -> tuple[list[User], str | None]:
    """One page of users, newest first."""
    return store.users.list(limit, ids.cursor_start(ids.USER, cursor))


def update_user(
    store: Store, user_id: str, *, status: UserStatus | None, role: Role | None, actor_id: str
) -> User:
    """Change a user's status and/or role; never leaves the instance without an active admin.

    Deactivation and demotion take effect on the user's next request: the authorizer reads the
    user with every token, so no token is rewritten.
    """
    before = get_user(store, user_id)
    after = dataclasses.replace(before, status=status or before.status, role=role or before.role)
    if after == before:
        return before
    change = {"userId": before.id, "status": after.status.value, "role": after.role.value,
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
