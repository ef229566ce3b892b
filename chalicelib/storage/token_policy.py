"""The instance's token policy: one item, read by the authorizer in its one batched read."""
from __future__ import annotations

from datetime import datetime

from chalicelib.model.token_policy import DEFAULT_POLICY, TokenPolicy
from chalicelib.storage.items import policy_from_item, policy_item
from chalicelib.storage.keys import POLICY_KEY
from chalicelib.storage.table import Table, Write


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
        self._table.write(Write({"Put": {"TableName": self._table.name,
                                         "Item": policy_item(policy, updated_by=updated_by, now=now)}}))
