"""Security events in the table, kept in their user's partition for 90 days."""
from __future__ import annotations

import logging
from datetime import datetime

from botocore.exceptions import ClientError

from chalicelib.model.events import EVENT_ID_PREFIX, REPEAT_WINDOW, RETENTION, SecurityEvent
from chalicelib.model.kinds import Scope
from chalicelib.storage.errors import ConcurrentChange, StoreConflict, Unavailable
from chalicelib.storage.items import event_from_item, event_item, told_attribute
from chalicelib.storage.keys import EVENT, event_key, token_key, user_pk
from chalicelib.storage.table import Table, Write, marshal
from chalicelib.storage.user_checks import user_allows
from chalicelib.timeutil import to_iso

log = logging.getLogger(__name__)


class EventStore:
    """Writes a person's security events and reads them back, newest first."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def report(self, event: SecurityEvent) -> None:
        """Store an event that reports something already done (a refusal, a revocation): best
        effort, since failing to tell must not undo or refuse what happened. A repeatable event
        already stored in its window is not stored again."""
        try:
            if event.repeatable:
                self._put_once(event)
            else:
                self._table.write(Write.new_item(self._table.name, event_item(event)))
        except (Unavailable, ClientError) as error:  # an outage, or a policy that forbids the write
            log.warning("could not record security event %s for %s: %s", event.type, event.user_id, error)

    def put_many(self, events: list[SecurityEvent]) -> None:
        """Store new events, 25 per round trip."""
        self._table.write_batch([{"PutRequest": {"Item": event_item(event)}} for event in events])

    def _put_once(self, event: SecurityEvent) -> None:
        """Store a repeatable event unless its token told one of its type within the window;
        the token item keeps the time, so the authorizer (which reads that item anyway) can
        tell without a write attempt. Nothing is stored when it was told already or the token is gone."""
        try:
            self._told_with(event, "#told <= :since", {":since": to_iso(event.at - REPEAT_WINDOW)})
        except StoreConflict:
            pass  # told within the window, or the token is gone

    def tell_expiring(self, event: SecurityEvent, *, since: datetime, expires_at: datetime,
                      line: tuple[int, Scope]) -> bool:
        """Store an expiry notice unless its token was told one since ``since`` (the day it fell
        due), is gone or rotated away, or no longer expires at ``expires_at``, or its user no longer
        allows a token of ``line`` (its lineage and scope: deactivated, revoke-all, demotion since
        the run read it); whether it was stored.
        ConcurrentChange when another write held the token: the notice is then to be given again."""
        try:
            self._told_with(event, "#told < :since", {":since": to_iso(since), ":expires": to_iso(expires_at)},
                            also=" AND attribute_not_exists(rotatedTo) AND expiresAt = :expires",
                            checks=[user_allows(self._table, event.user_id, [line])])
        except ConcurrentChange:
            raise
        except StoreConflict:
            return False
        return True

    def _told_with(self, event: SecurityEvent, told_before: str, values: dict[str, str], also: str = "",
                   checks: list[Write] | None = None) -> None:
        """The event, and its token's record of when it last caused one of its type, in one
        transaction, while the token stands (and ``also`` holds) and ``told_before`` holds or it
        never caused one."""
        self._table.transact([
            Write({"Update": {
                "TableName": self._table.name, "Key": token_key(event.user_id, event.token_id or ""),
                "UpdateExpression": "SET #told = :now",
                "ConditionExpression": f"attribute_exists(pk) AND attribute_not_exists(deletedAt){also} AND "
                                       f"(attribute_not_exists(#told) OR {told_before})",
                "ExpressionAttributeNames": {"#told": told_attribute(event.type)},
                "ExpressionAttributeValues": marshal({":now": to_iso(event.at), **values}),
            }}),
            self.write(event),
            *(checks or []),
        ])

    def write(self, event: SecurityEvent) -> Write:
        """The event as one write of a transaction with the change it reports."""
        return Write({"Put": {"TableName": self._table.name, "Item": event_item(event)}})

    def page(
        self, user_id: str, limit: int, start_after: str | None, now: datetime
    ) -> tuple[list[SecurityEvent], str | None]:
        """One page of the user's events of the last 90 days, newest first, and the next cursor."""
        items, last_key = self._table.query({
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
            "FilterExpression": "#at > :oldest",
            "ExpressionAttributeNames": {"#at": "at"},
            "ExpressionAttributeValues": marshal({
                ":pk": user_pk(user_id), ":first": f"{EVENT}{EVENT_ID_PREFIX}_",
                ":last": f"{EVENT}{EVENT_ID_PREFIX}_~", ":oldest": to_iso(now - RETENTION),
            }),
            "ScanIndexForward": False,
        }, limit=limit, start_key=event_key(user_id, start_after) if start_after is not None else None)
        return [event_from_item(item) for item in items], last_key["sk"]["S"].removeprefix(EVENT) if last_key else None
