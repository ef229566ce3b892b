"""Expiry as stored: the list filter and the delete condition read ``expiresAt`` and agree, to the
second, with the ``ttl`` expression they replaced, for every item ever written."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from chalicelib.model.kinds import Scope, TokenKind
from chalicelib.model.tokens import new_token
from chalicelib.storage import Store
from chalicelib.storage.items import token_item
from chalicelib.storage.keys import user_pk
from chalicelib.storage.table import marshal
from chalicelib.timeutil import to_epoch, to_iso

from .conftest import TABLE, Accounts, FrozenClock


def test_the_expires_at_filter_matches_the_old_ttl_filter_for_every_kind_of_item(
    store: Store, store_client: Any, accounts: Accounts, clock: FrozenClock
) -> None:
    """The list filter and the delete condition moved from ``ttl`` to ``expiresAt``: for every
    item this code has ever written (every version wrote both or neither), they agree, to the
    second, with the old expression."""
    owner = accounts.create()
    base = clock.now()
    offsets = [None, -86400, -1, 0, 1, 86400]
    records = []
    for kind in (TokenKind.PAT, TokenKind.AGENT_RUN):
        for offset in offsets:
            base += timedelta(milliseconds=1)
            expires = None if offset is None else clock.now() + timedelta(seconds=offset, milliseconds=300)
            extra = {"parent_id": owner.token_id, "agent_id": "a"} if kind is TokenKind.AGENT_RUN else {}
            records.append(new_token(kind, user_id=owner.user.id, name="n", scope=Scope.READ_WRITE,
                                     expires_at=expires, now=base, **extra).record)
    for record in records:
        store_client.put_item(TableName=TABLE, Item=token_item(record))

    def live(expression: str, names: dict[str, str], now_value: Any) -> set[str]:
        items = store_client.query(
            TableName=TABLE, KeyConditionExpression="pk = :pk AND begins_with(sk, :tokens)",
            FilterExpression=expression,
            ExpressionAttributeValues=marshal({":pk": user_pk(owner.user.id), ":tokens": "TOKEN#", ":now": now_value}),
            **({"ExpressionAttributeNames": names} if names else {}), ConsistentRead=True)["Items"]
        return {item["id"]["S"] for item in items}

    for delta in (-2.0, -0.5, 0.0, 0.2, 0.3, 0.31, 0.9, 1.0, 1.3, 1.5, 2.0):
        now = clock.now() + timedelta(seconds=delta)
        old = live("attribute_not_exists(#ttl) OR #ttl > :now", {"#ttl": "ttl"}, to_epoch(now))
        new = live("attribute_not_exists(expiresAt) OR expiresAt > :now", {}, to_iso(now))
        assert old == new, delta
        by_clock = {record.id for record in records if not record.is_expired(now)} | {owner.token_id}
        assert new <= by_clock, delta  # never lists what the authorizer refuses
