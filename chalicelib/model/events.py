"""Security events: what happened to one of a person's tokens, in words meant for that person."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from chalicelib.model import ids

EVENT_ID_PREFIX = "evt"
RETENTION = timedelta(days=90)
# Events a caller can provoke by repeating a request are kept to one per token per this long.
REPEAT_WINDOW = timedelta(hours=1)


class EventType(StrEnum):
    TOKEN_LEAK_REVOKED = "token_leak_revoked"
    TOKEN_USED_AFTER_ROTATION = "token_used_after_rotation"
    ROTATION_REPLAYED = "rotation_replayed"
    TOKEN_REVOKED_BY_ADMIN = "token_revoked_by_admin"
    TOKENS_REVOKED_ALL = "tokens_revoked_all"
    TOKEN_BLOCKED_BY_POLICY = "token_blocked_by_policy"
    ACCESS_LINK_CREATED = "access_link_created"
    TOKEN_NARROWED = "token_narrowed"
    TOKEN_USED_FROM_ANOTHER_ADDRESS = "token_used_from_another_address"
    TOKEN_EXPIRING = "token_expiring"


@dataclass(frozen=True)
class SecurityEvent:
    """One event in a person's security log."""

    id: str
    user_id: str
    type: EventType
    at: datetime
    detail: str
    token_id: str | None = None
    token_name: str | None = None
    # Stored at most once per token per REPEAT_WINDOW (the token's item keeps when).
    repeatable: bool = False


def new_event(
    user_id: str, event_type: EventType, detail: str, now: datetime, *,
    token_id: str | None = None, token_name: str | None = None,
) -> SecurityEvent:
    """A new event, ordered by ``now``."""
    return SecurityEvent(id=ids.new_id(EVENT_ID_PREFIX, now), user_id=user_id, type=event_type, at=now,
                         detail=detail, token_id=token_id, token_name=token_name)


def repeatable_event(
    user_id: str, event_type: EventType, detail: str, now: datetime, *, token_id: str, token_name: str | None,
) -> SecurityEvent:
    """An event a caller can provoke by repeating a request: stored at most once per token per
    REPEAT_WINDOW, which the token's own item records (see EventStore.report)."""
    return SecurityEvent(id=ids.new_id(EVENT_ID_PREFIX, now), user_id=user_id, type=event_type, at=now,
                         detail=detail, token_id=token_id, token_name=token_name, repeatable=True)


def told_recently(told: dict[str, datetime], event_type: EventType, now: datetime) -> bool:
    """Whether the owner was told of ``event_type`` for a token within the last REPEAT_WINDOW
    (``told``: the token's record of when it last caused each repeatable event)."""
    last = told.get(event_type.value)
    return last is not None and last > now - REPEAT_WINDOW
