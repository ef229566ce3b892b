"""Users in the table: the profile item, the email reservation and the admin count."""
from __future__ import annotations

from chalicelib.model.accounts import User
from chalicelib.storage.errors import StoreConflict, UserChanged
from chalicelib.storage.items import user_from_item
from chalicelib.storage.keys import (
    SWEEP_INDEX_KEY,
    USER_INDEX_KEY,
    email_key,
    index_key,
    index_page,
    sweep_key,
    user_key,
)
from chalicelib.storage.table import Table, Write, marshal, unmarshal
from chalicelib.storage.user_checks import admin_count_write, new_user_writes, sweep_marker_write

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
        ``told``, the user's security event). UserChanged when there is no such user (``found``
        None) or its cut-off is already later (``found``: the user)."""
        self._table.transact([
            Write({"Update": {
                "TableName": self._table.name,
                "Key": user_key(user_id),
                # max(): a cut-off already later (another revoke-all a moment ago) is kept.
                "UpdateExpression": "SET tokensRevokedAt = :now ADD revocations :one",
                "ConditionExpression": "attribute_exists(pk) AND "
                "(attribute_not_exists(tokensRevokedAt) OR tokensRevokedAt < :now)",
                "ExpressionAttributeValues": marshal({":now": now_ms, ":one": 1}),
            }}, UserChanged, decode=user_from_item),
            sweep_marker_write(self._table, user_id),
            told,
        ])

    def pending_sweeps(self, limit: int) -> list[tuple[str, str]]:
        """(user id, marker) of users whose revoked tokens still wait to be deleted."""
        items, _ = self._table.query(index_page(SWEEP_INDEX_KEY), limit=limit)
        return [(fields["userId"], fields["markedAt"]) for fields in map(unmarshal, items)]

    def finish_sweep(self, user_id: str, marked_at: str) -> None:
        """Remove the user's sweep marker unless a newer cut-off marked the user again meanwhile."""
        try:
            self._table.write(Write({"Delete": {
                "TableName": self._table.name, "Key": sweep_key(user_id),
                "ConditionExpression": "markedAt = :seen", "ExpressionAttributeValues": marshal({":seen": marked_at}),
            }}))
        except StoreConflict:
            pass  # marked again meanwhile: the next run sweeps it

    def page(self, limit: int, start_after: str | None) -> tuple[list[User], str | None]:
        """One page of all users, newest first, from the sparse index (no Scan)."""
        start = index_key(USER_INDEX_KEY, start_after, user_key(start_after)) if start_after else None
        items, last_key = self._table.query(index_page(USER_INDEX_KEY), limit=limit, start_key=start)
        return [user_from_item(item) for item in items], last_key["gsi1sk"]["S"] if last_key else None
