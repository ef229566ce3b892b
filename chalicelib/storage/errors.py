"""What storage can fail with: typed, and named in the domain's words (they reach the audit log).
None of them is an HTTP error: the HTTP layer decides what each one answers."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.model.accounts import User
    from chalicelib.model.invites import Invite
    from chalicelib.model.tokens import TokenRecord


class Unavailable(Exception):
    """DynamoDB throttled, timed out or failed: nothing was done, and a retry may succeed."""


class StoreConflict(Exception):
    """A conditional write found its item in another state; nothing was written. ``found`` is
    that item as it was, decoded, when the write asked for it (no second read needed)."""

    reason = "conflict"

    def __init__(self, found: object = None) -> None:
        super().__init__(self.reason)
        self.found = found


class EmailTaken(StoreConflict):
    reason = "email_taken"


class WouldRemoveLastAdmin(StoreConflict):
    reason = "last_admin"


class UserChanged(StoreConflict):
    """The user is no longer in the state the change was computed from."""

    reason = "user_changed"
    found: User | None


class InviteNotPending(StoreConflict):
    """The invite was claimed, revoked or expired meanwhile."""

    reason = "invite_not_pending"
    found: Invite | None


class ConcurrentChange(StoreConflict):
    """Another transaction held the item, so its state is unknown: re-read before deciding."""

    reason = "concurrent_change"


class CreatorRevoked(StoreConflict):
    """The token creating another was revoked (or its user changed) while the request ran."""

    reason = "creator_revoked"


class RotationLost(StoreConflict):
    """The token being rotated was rotated, deleted or expired meanwhile."""

    reason = "rotation_lost"
    found: TokenRecord | None


class NarrowingLost(StoreConflict):
    """The token being narrowed was changed, rotated, deleted or expired meanwhile."""

    reason = "narrowing_lost"
    found: TokenRecord | None
