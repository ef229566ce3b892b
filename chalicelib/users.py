"""Users: accounts, their role and status, and the first admin of a new instance."""
from __future__ import annotations

import dataclasses
from datetime import datetime

from chalicelib import audit, ids
from chalicelib.errors import Conflict, NotFound
from chalicelib.models import Role, Scope, User, UserStatus
from chalicelib.store import ConditionFailed, Store
from chalicelib.tokens import IssuedToken, issue_pat

ACCOUNT_EXISTS = "account_exists"


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


def create_user(store: Store, email: str, role: Role, now: datetime) -> User:
    """Store a new active user; Conflict when the email already has an account."""
    user = new_user(email, role, now)
    try:
        store.create_user(user)
    except ConditionFailed as failure:
        raise account_exists() from failure
    return user


def account_exists() -> Conflict:
    return Conflict("An account with this email already exists.", code=ACCOUNT_EXISTS)


def bootstrap_admin(store: Store, email: str, now: datetime) -> tuple[User, IssuedToken]:
    """The first admin of an instance and an admin PAT, written straight into the table."""
    user = create_user(store, email, Role.ADMIN, now)
    token = issue_pat(store, user.id, "bootstrap", Scope.ADMIN, None, now)
    audit.record("user.created", audit.SUCCESS, "bootstrap", userId=user.id, role=user.role.value,
                 tokenId=token.record.id)
    return user, token


def get_user(store: Store, user_id: str) -> User:
    """The user with this id; NotFound for unknown or malformed ids."""
    canonical = ids.normalize(ids.USER, user_id)
    user = store.get_user(canonical) if canonical else None
    if user is None:
        raise NotFound("No user with this id.")
    return user


def list_users(store: Store, limit: int, cursor: str | None) -> tuple[list[User], str | None]:
    """One page of users, newest first."""
    start_after = ids.cursor_start(ids.USER, cursor)
    return store.list_users(limit, start_after)


def update_user(
    store: Store, user_id: str, status: UserStatus | None, role: Role | None, actor_id: str
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
        store.change_user(before, after)
    except ConditionFailed as failure:
        audit.record("user.updated", audit.FAILURE, actor_id, reason=failure.part, **change)
        if failure.part == "admins" and not failure.concurrent:
            raise Conflict(
                "This is the last active admin; make another user admin first.", code="last_admin"
            ) from failure
        raise Conflict("The user changed while this request ran; retry it.") from failure
    audit.record("user.updated", audit.SUCCESS, actor_id, **change)
    return after
