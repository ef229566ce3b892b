"""The checks and writes on a user's items that other stores' transactions carry: a token is
created, rotated or claimed only while its user still allows it, in the same transaction."""
from __future__ import annotations

import secrets
from collections.abc import Sequence

from chalicelib.model.accounts import Generations, Role, User, UserStatus
from chalicelib.model.kinds import Scope
from chalicelib.storage.errors import EmailTaken, StoreConflict, WouldRemoveLastAdmin
from chalicelib.storage.items import user_item
from chalicelib.storage.keys import ADMIN_COUNT_KEY, SWEEP_INDEX_KEY, email_key, sweep_key, user_key
from chalicelib.storage.table import Condition, Table, Write, marshal


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


def user_allows(table: Table, user_id: str, lines: Sequence[tuple[int, Scope]],
                on_failure: type[StoreConflict] = StoreConflict) -> Write:
    """A check, in a transaction, that the user still allows tokens of these (lineage, scope)
    (still_allowed); ``on_failure`` is raised when it does not."""
    return Write({"ConditionCheck": {"TableName": table.name, "Key": user_key(user_id),
                                     **still_allowed(lines).params()}}, on_failure)


def new_user_writes(table: Table, user: User) -> list[Write]:
    """The writes that create a user: its item, its email reservation, the admin count."""
    writes = [
        Write.new_item(table.name, user_item(user)),
        Write.new_item(table.name, {**email_key(user.email), **marshal({"userId": user.id})}, EmailTaken),
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
