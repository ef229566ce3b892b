"""Security events in the table, kept in their user's partition for 90 days."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.model.events import EVENT_ID_PREFIX, REPEAT_WINDOW, RETENTION, EventType, SecurityEvent
from chalicelib.storage.errors import StoreConflict
from chalicelib.storage.table import (
    Item,
    Table,
    Write,
    dynamodb_errors,
    marshal,
    token_key,
    unmarshal,
    user_pk,
)
from chalicelib.timeutil import from_iso, to_epoch, to_iso

EVENT = "EVENT#"


class EventStore:
    """Writes a person's security events and reads them back, newest first."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def put(self, event: SecurityEvent) -> None:
        """Store a new event."""
        self._table.put_new(event_item(event))

    def put_many(self, events: list[SecurityEvent]) -> None:
        """Store new events, 25 per round trip."""
        self._table.write_batch([{"PutRequest": {"Item": event_item(event)}} for event in events])

    def put_once(self, event: SecurityEvent) -> None:
        """Store a repeatable event unless its token told one of its type within the window;
        the token item keeps the time, so the authorizer (which reads that item anyway) can
        tell without a write attempt. Nothing is stored when it was told already or the token is gone."""
        told = f"told_{event.type.value}"
        try:
            self._table.transact([
                Write({"Update": {
                    "TableName": self._table.name, "Key": token_key(event.user_id, event.token_id or ""),
                    "UpdateExpression": "SET #told = :now",
                    "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(deletedAt) AND "
                                           "(attribute_not_exists(#told) OR #told <= :since)",
                    "ExpressionAttributeNames": {"#told": told},
                    "ExpressionAttributeValues": marshal({":now": to_iso(event.at),
                                                          ":since": to_iso(event.at - REPEAT_WINDOW)}),
                }}),
                self.write(event),
            ])
        except StoreConflict:
            pass  # told within the window, or the token is gone

    def write(self, event: SecurityEvent) -> Write:
        """The event as one write of a transaction with the change it reports."""
        return Write({"Put": {"TableName": self._table.name, "Item": event_item(event)}})

    def page(
        self, user_id: str, limit: int, start_after: str | None, now: datetime
    ) -> tuple[list[SecurityEvent], str | None]:
        """One page of the user's events of the last 90 days, newest first, and the next cursor."""
        params: dict[str, Any] = {
            "TableName": self._table.name,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
            "FilterExpression": "#at > :oldest",
            "ExpressionAttributeNames": {"#at": "at"},
            "ExpressionAttributeValues": marshal({
                ":pk": user_pk(user_id), ":first": f"{EVENT}{EVENT_ID_PREFIX}_",
                ":last": f"{EVENT}{EVENT_ID_PREFIX}_~", ":oldest": to_iso(now - RETENTION),
            }),
            "ScanIndexForward": False,
            "ConsistentRead": True,
            "Limit": limit,
        }
        if start_after is not None:
            params["ExclusiveStartKey"] = event_key(user_id, start_after)
        with dynamodb_errors():
            response = self._table.client.query(**params)
        last_key = response.get("LastEvaluatedKey")
        events = [event_from_item(item) for item in response.get("Items", [])]
        return events, last_key["sk"]["S"].removeprefix(EVENT) if last_key else None


def event_key(user_id: str, event_id: str) -> Item:
    return marshal({"pk": user_pk(user_id), "sk": f"{EVENT}{event_id}"})


def event_item(event: SecurityEvent) -> Item:
    return {**event_key(event.user_id, event.id), **marshal({
        "id": event.id,
        "userId": event.user_id,
        "type": event.type.value,
        "at": to_iso(event.at),
        "tokenId": event.token_id,
        "tokenName": event.token_name,
        "detail": event.detail,
        "ttl": to_epoch(event.at + RETENTION),
    })}


def event_from_item(item: Item) -> SecurityEvent:
    fields = unmarshal(item)
    return SecurityEvent(
        id=fields["id"],
        user_id=fields["userId"],
        type=EventType(fields["type"]),
        at=from_iso(fields["at"]),
        token_id=fields.get("tokenId"),
        token_name=fields.get("tokenName"),
        detail=fields["detail"],
    )
