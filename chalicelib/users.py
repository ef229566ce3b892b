"""Users: creating accounts, and the first admin of a new instance."""
from __future__ import annotations

from datetime import datetime

from chalicelib import ids
from chalicelib.models import Role, Scope, User, UserStatus
from chalicelib.store import Store
from chalicelib.tokens import IssuedToken, issue_pat


def normalize_email(email: str) -> str:
    """Emails are compared case-insensitively, so one address is one account."""
    return email.strip().lower()


def create_user(store: Store, email: str, role: Role, now: datetime) -> User:
    """Store a new active user; Conflict when the email already has an account."""
    user = User(
        id=ids.new_id(ids.USER, now),
        email=normalize_email(email),
        role=role,
        status=UserStatus.ACTIVE,
        created_at=now,
    )
    store.create_user(user)
    return user


def bootstrap_admin(store: Store, email: str, now: datetime) -> tuple[User, IssuedToken]:
    """The first admin of an instance and an admin PAT, written straight into the table."""
    user = create_user(store, email, Role.ADMIN, now)
    token = issue_pat(store, user.id, "bootstrap", Scope.ADMIN, None, now)
    return user, token
