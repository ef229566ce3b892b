"""A person's security log: reporting events and reading them back."""
from __future__ import annotations

import logging
from datetime import datetime

from chalicelib.errors import ServiceUnavailable
from chalicelib.model import ids
from chalicelib.model.events import EVENT_ID_PREFIX, SecurityEvent
from chalicelib.storage import Store

log = logging.getLogger(__name__)


def report(store: Store, event: SecurityEvent) -> None:
    """Store an event that reports something already done (a refusal, a revocation): best
    effort, since failing to tell must not undo or refuse what happened. A repeatable event
    already stored in its window is not stored again."""
    try:
        if event.repeatable:
            store.events.put_once(event)
        else:
            store.events.put(event)
    except ServiceUnavailable:
        log.warning("could not record security event %s for %s", event.type, event.user_id)


def list_events(
    store: Store, user_id: str, *, limit: int, cursor: str | None, now: datetime
) -> tuple[list[SecurityEvent], str | None]:
    """One page of the person's events of the last 90 days, newest first."""
    return store.events.page(user_id, limit, ids.cursor_start(EVENT_ID_PREFIX, cursor), now)
