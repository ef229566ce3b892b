"""The instance's token policy: one item, read by the authorizer in its one batched read."""
from __future__ import annotations

from datetime import datetime

from chalicelib.model.token_policy import DEFAULT_POLICY, TokenPolicy
from chalicelib.storage.table import Item, Table, dynamodb_errors, marshal, unmarshal
from chalicelib.timeutil import to_iso

POLICY_KEY = marshal({"pk": "META", "sk": "TOKEN_POLICY"})


class PolicyStore:
    """Reads and replaces the token policy."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def get(self) -> TokenPolicy:
        """The policy in force (the defaults until an admin sets one)."""
        item = self._table.get(POLICY_KEY)
        return policy_from_item(item) if item else DEFAULT_POLICY

    def put(self, policy: TokenPolicy, *, updated_by: str, now: datetime) -> None:
        """Replace the policy."""
        with dynamodb_errors():
            self._table.client.put_item(TableName=self._table.name, Item={**POLICY_KEY, **marshal({
                "maxLifetimeDays": policy.max_lifetime_days,
                "requireExpiry": policy.require_expiry,
                "adminMaxLifetimeDays": policy.admin_max_lifetime_days,
                "runTokenMaxSeconds": policy.run_token_max_seconds,
                "updatedBy": updated_by,
                "updatedAt": to_iso(now),
            })})


def is_policy_item(item: Item) -> bool:
    return bool(item["pk"]["S"] == "META" and item["sk"]["S"] == "TOKEN_POLICY")


def policy_from_item(item: Item) -> TokenPolicy:
    fields = unmarshal(item)
    return TokenPolicy(
        max_lifetime_days=fields.get("maxLifetimeDays"),
        require_expiry=bool(fields.get("requireExpiry", False)),
        admin_max_lifetime_days=fields.get("adminMaxLifetimeDays"),
        run_token_max_seconds=fields.get("runTokenMaxSeconds", DEFAULT_POLICY.run_token_max_seconds),
    )
