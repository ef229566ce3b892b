"""A person's security log, read back (services report events through ``store.events.report``)."""
from __future__ import annotations

from datetime import datetime

from chalicelib.model import ids
from chalicelib.model.events import EVENT_ID_PREFIX, SecurityEvent
from chalicelib.storage import Store


def list_events(
    store: Store, user_id: str, *, limit: int, cursor: str | None, now: datetime
) -> tuple[list[SecurityEvent], str | None]:
    """One page of the person's events of the last 90 days, newest first."""
    return store.events.page(user_id, limit, ids.cursor_start(EVENT_ID_PREFIX, cursor), now)
