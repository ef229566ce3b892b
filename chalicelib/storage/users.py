"""Users in the table: the profile item, the email reservation and the admin count."""
from __future__ import annotations

from chalicelib.accounts.records import Role, User, UserStatus
from chalicelib.storage.errors import EmailTaken, UserChanged, WouldRemoveLastAdmin
from chalicelib.storage.table import (
    ADMIN_COUNT_KEY,
    USER_INDEX_KEY,
    Item,
    Table,
    Write,
    email_key,
    marshal,
    unmarshal,
    user_key,
)
from chalicelib.timeutil import from_iso, to_iso


class UserStore:
    """Reads and writes users."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def create(self, user: User) -> None:
        """Store a new user, reserving its email; EmailTaken when it is taken."""
        self._table.transact(new_user_writes(self._table, user))

    def get(self, user_id: str) -> User | None:
        item = self._table.get(user_key(user_id))
        return user_from_item(item) if item else None

    def email_taken(self, email: str) -> bool:
        """True when a user already holds this (normalized) email."""
        return self._table.get(email_key(email)) is not None

    def change(self, before: User, after: User) -> None:
        """Write ``after``'s role and status if the user is still ``before``.

        UserChanged when someone changed the user meanwhile; WouldRemoveLastAdmin when the
        change would leave no active admin: the admin count and the user are written in one
        transaction, so two admins demoting each other at once cannot both succeed.
        """
        writes = [Write({"Update": {
            "TableName": self._table.name,
            "Key": user_key(before.id),
            "UpdateExpression": "SET #role = :role, #status = :status",
            "ConditionExpression": "#role = :was_role AND #status = :was_status",
            "ExpressionAttributeNames": {"#role": "role", "#status": "status"},
            "ExpressionAttributeValues": marshal({
                ":role": after.role.value,
                ":status": after.status.value,
                ":was_role": before.role.value,
                ":was_status": before.status.value,
            }),
        }}, UserChanged)]
        delta = int(after.is_active_admin) - int(before.is_active_admin)
        if delta:
            writes.append(admin_count_write(self._table, delta))
        self._table.transact(writes)

    def list(self, limit: int, start_after: str | None) -> tuple[list[User], str | None]:
        """One page of all users, newest first, from the sparse index (no Scan)."""
        items, next_cursor = self._table.query_index(USER_INDEX_KEY, limit, start_after, user_key)
        return [user_from_item(item) for item in items], next_cursor


def new_user_writes(table: Table, user: User) -> list[Write]:
    """The writes that create a user: its item, its email reservation, the admin count."""
    writes = [
        Write({"Put": {"TableName": table.name, "Item": user_item(user),
                       "ConditionExpression": "attribute_not_exists(pk)"}}),
        Write({"Put": {"TableName": table.name, "Item": {**email_key(user.email), **marshal({"userId": user.id})},
                       "ConditionExpression": "attribute_not_exists(pk)"}}, EmailTaken),
    ]
    if user.is_active_admin:
        writes.append(admin_count_write(table, +1))
    return writes


def admin_count_write(table: Table, delta: int) -> Write:
    """Move the count of active admins by ``delta``; never below one."""
    update: dict[str, object] = {
        "TableName": table.name,
        "Key": ADMIN_COUNT_KEY,
        "UpdateExpression": "ADD activeAdmins :delta",
        "ExpressionAttributeValues": marshal({":delta": delta}),
    }
    if delta < 0:
        update["ConditionExpression"] = "activeAdmins > :one"
        update["ExpressionAttributeValues"] = marshal({":delta": delta, ":one": 1})
    return Write({"Update": update}, WouldRemoveLastAdmin)


def user_item(user: User) -> Item:
    return {**user_key(user.id), **marshal({
        "gsi1pk": USER_INDEX_KEY,
        "gsi1sk": user.id,
        "id": user.id,
        "email": user.email,
        "role": user.role.value,
        "status": user.status.value,
        "createdAt": to_iso(user.created_at),
    })}


def user_from_item(item: Item) -> User:
    fields = unmarshal(item)
    return User(
        id=fields["id"],
        email=fields["email"],
        role=Role(fields["role"]),
        status=UserStatus(fields["status"]),
        created_at=from_iso(fields["createdAt"]),
    )
