"""A failed condition says what it found: the typed error carries the item as it was (asked for
with ReturnValuesOnConditionCheckFailure), alone or in a transaction, so nobody reads again."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.model.events import EventType, new_event
from chalicelib.storage import Store
from chalicelib.storage.errors import RotationLost, UserChanged
from chalicelib.storage.items import token_from_item
from chalicelib.storage.keys import token_key
from chalicelib.storage.table import Write

from .conftest import Accounts

UNKNOWN_USER = "usr_01HZZZZZZZZZZZZZZZZZZZZZZZ"


def test_a_failed_condition_carries_the_item_alone_and_in_a_transaction(store: Store, accounts: Accounts) -> None:
    member = accounts.create()
    table = store.tokens._table
    lost = Write({"Update": {"TableName": table.name, "Key": token_key(member.user.id, member.token_id),
                             "UpdateExpression": "SET x = :x", "ConditionExpression": "attribute_not_exists(pk)",
                             "ExpressionAttributeValues": {":x": {"S": "x"}}}}, RotationLost, decode=token_from_item)
    with pytest.raises(RotationLost) as alone:
        table.write(lost)
    assert alone.value.found is not None and alone.value.found.id == member.token_id
    with pytest.raises(RotationLost) as in_transaction:
        table.transact([lost])
    assert in_transaction.value.found is not None and in_transaction.value.found.id == member.token_id


def test_a_condition_on_an_item_that_does_not_exist_finds_nothing(store: Store) -> None:
    told = new_event(UNKNOWN_USER, EventType.TOKENS_REVOKED_ALL, "d", datetime(2026, 12, 1, tzinfo=UTC))
    with pytest.raises(UserChanged) as gone:
        store.users.revoke_tokens(UNKNOWN_USER, 1, store.events.write(told))
    assert gone.value.found is None
