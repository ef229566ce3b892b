"""Users in the table: the profile item, the email reservation and the admin count."""
from __future__ import annotations

import secrets
from collections.abc import Sequence

from chalicelib.model.accounts import Generations, Role, User, UserStatus
from chalicelib.model.kinds import Scope
from chalicelib.storage.errors import EmailTaken, UserChanged, WouldRemoveLastAdmin
from chalicelib.storage.table import (
    ADMIN_COUNT_KEY,
    SWEEP_INDEX_KEY,
    USER_INDEX_KEY,
    Condition,
    Item,
    Table,
    Write,
    conditional,
    email_key,
    marshal,
    sweep_key,
    unmarshal,
    user_key,
)
from chalicelib.timeutil import from_iso, to_iso

# The user item's attribute for each cut-off (epoch ms), by the User field that holds it.
_CUT_OFFS = {"tokens_revoked_at_ms": "tokensRevokedAt", "admin_tokens_revoked_at_ms": "adminTokensRevokedAt"}
# The count each cut-off moves (User.revocations), by the cut-off's attribute.
_COUNTS = {"tokensRevokedAt": "revocations", "adminTokensRevokedAt": "adminRevocations"}


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

    def find_by_email(self, email: str) -> User | None:
        """The user holding this (normalized) email, or None (two reads: for operator tools)."""
        reservation = self._table.get(email_key(email))
        return self.get(unmarshal(reservation)["userId"]) if reservation else None

    def email_taken(self, email: str) -> bool:
        """True when a user already holds this (normalized) email."""
        return self._table.get(email_key(email)) is not None

    def change(self, before: User, after: User) -> None:
        """Write ``after``'s role, status and raised cut-offs if the user is still ``before``.

        UserChanged when someone changed the user meanwhile (or moved a cut-off past this one);
        WouldRemoveLastAdmin when the change would leave no active admin: the admin count and
        the user are written in one transaction, so two admins demoting each other at once
        cannot both succeed.
        """
        sets = ["#role = :role", "#status = :status"]
        conditions = ["#role = :was_role", "#status = :was_status"]
        values: dict[str, object] = {":role": after.role.value, ":status": after.status.value,
                                     ":was_role": before.role.value, ":was_status": before.status.value}
        raised = [(field, attribute) for field, attribute in _CUT_OFFS.items()
                  if getattr(after, field) != getattr(before, field)]
        for field, attribute in raised:
            sets.append(f"{attribute} = :{attribute}")
            conditions.append(f"(attribute_not_exists({attribute}) OR {attribute} < :{attribute})")
            values[f":{attribute}"] = getattr(after, field)
        counted = [f"{_COUNTS[attribute]} :one" for _, attribute in raised]
        if counted:
            values[":one"] = 1
        writes = [Write({"Update": {
            "TableName": self._table.name,
            "Key": user_key(before.id),
            "UpdateExpression": "SET " + ", ".join(sets) + (" ADD " + ", ".join(counted) if counted else ""),
            "ConditionExpression": " AND ".join(conditions),
            "ExpressionAttributeNames": {"#role": "role", "#status": "status"},
            "ExpressionAttributeValues": marshal(values),
        }}, UserChanged)]
        delta = int(after.is_active_admin) - int(before.is_active_admin)
        if delta:
            writes.append(admin_count_write(self._table, delta))
        if raised:
            writes.append(sweep_marker_write(self._table, after.id))
        self._table.transact(writes)

    def revoke_tokens(self, user_id: str, now_ms: int, told: Write) -> None:
        """Refuse every token of the user issued up to ``now_ms``: three item writes, however many
        tokens there are (the cut-off, a marker for the sweeper that deletes the dead items, and
        ``told``, the user's security event). UserChanged when there is no such user or its
        cut-off is already later."""
        self._table.transact([
            Write({"Update": {
                "TableName": self._table.name,
                "Key": user_key(user_id),
                # max(): a cut-off already later (another revoke-all a moment ago) is kept.
                "UpdateExpression": "SET tokensRevokedAt = :now ADD revocations :one",
                "ConditionExpression": "attribute_exists(pk) AND "
                "(attribute_not_exists(tokensRevokedAt) OR tokensRevokedAt < :now)",
                "ExpressionAttributeValues": marshal({":now": now_ms, ":one": 1}),
            }}, UserChanged),
            sweep_marker_write(self._table, user_id),
            told,
        ])

    def pending_sweeps(self, limit: int) -> list[tuple[str, str]]:
        """(user id, marker) of users whose revoked tokens still wait to be deleted."""
        items, _ = self._table.query_index(SWEEP_INDEX_KEY, limit, None, sweep_key)
        return [(fields["userId"], fields["markedAt"]) for fields in map(unmarshal, items)]

    def finish_sweep(self, user_id: str, marked_at: str) -> None:
        """Remove the user's sweep marker unless a newer cut-off marked the user again meanwhile."""
        conditional(lambda: self._table.client.delete_item(
            TableName=self._table.name, Key=sweep_key(user_id),
            ConditionExpression="markedAt = :seen", ExpressionAttributeValues=marshal({":seen": marked_at}),
        ))

    def page(self, limit: int, start_after: str | None) -> tuple[list[User], str | None]:
        """One page of all users, newest first, from the sparse index (no Scan)."""
        items, next_cursor = self._table.query_index(USER_INDEX_KEY, limit, start_after, user_key)
        return [user_from_item(item) for item in items], next_cursor


def cut_offs_spare(lines: Sequence[tuple[int, Scope]], tag: str = "") -> Condition:
    """On a user item: no cut-off refuses a token of each (lineage, scope) (User.revocation_of):
    revoke-all and deactivation reach any scope, a demotion admin scope."""
    condition = Condition()
    for number, (issued_ms, scope) in enumerate(lines):
        issued = f":issued{tag}{number}"
        condition.values[issued] = issued_ms
        condition.clauses.append(f"(attribute_not_exists(tokensRevokedAt) OR tokensRevokedAt < {issued})")
        if scope is Scope.ADMIN:
            condition.clauses.append(
                f"(attribute_not_exists(adminTokensRevokedAt) OR adminTokensRevokedAt < {issued})")
    return condition


def revocations_unchanged(seen: Generations, tag: str = "") -> Condition:
    """On a user item: no revoke-all, deactivation or demotion since its counts were ``seen``
    (a count never set is 0)."""
    condition = Condition()
    for attribute, count in zip(("revocations", "adminRevocations"), seen, strict=True):
        if count == 0:
            condition.clauses.append(f"attribute_not_exists({attribute})")
        else:
            condition.values[f":{attribute}{tag}"] = count
            condition.clauses.append(f"{attribute} = :{attribute}{tag}")
    return condition


def still_allowed(lines: Sequence[tuple[int, Scope]]) -> Condition:
    """On a user item: active, an admin if any scope is admin, and no cut-off refuses the tokens."""
    condition = Condition(["#status = :active"], {"#status": "status"}, {":active": UserStatus.ACTIVE.value})
    if any(scope is Scope.ADMIN for _, scope in lines):
        condition &= Condition(["#role = :admin"], {"#role": "role"}, {":admin": Role.ADMIN.value})
    return condition & cut_offs_spare(lines)


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


def sweep_marker_write(table: Table, user_id: str) -> Write:
    """Mark the user for the sweeper (a new marker replaces an older one)."""
    return Write({"Put": {"TableName": table.name, "Item": {**sweep_key(user_id), **marshal({
        "gsi1pk": SWEEP_INDEX_KEY, "gsi1sk": user_id, "userId": user_id, "markedAt": new_marker(),
    })}}})


def new_marker() -> str:
    """A value that tells one marking from the next."""
    return secrets.token_hex(8)


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
        "tokensRevokedAt": user.tokens_revoked_at_ms,
        "adminTokensRevokedAt": user.admin_tokens_revoked_at_ms,
        "revocations": user.revocations[0] or None,
        "adminRevocations": user.revocations[1] or None,
    })}


def user_from_item(item: Item) -> User:
    fields = unmarshal(item)
    return User(
        id=fields["id"],
        email=fields["email"],
        role=Role(fields["role"]),
        status=UserStatus(fields["status"]),
        created_at=from_iso(fields["createdAt"]),
        tokens_revoked_at_ms=fields.get("tokensRevokedAt"),
        admin_tokens_revoked_at_ms=fields.get("adminTokensRevokedAt"),
        revocations=(fields.get("revocations", 0), fields.get("adminRevocations", 0)),
    )
