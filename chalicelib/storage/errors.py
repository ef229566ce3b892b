"""What a conditional write can find: typed, and named in the domain's words (they reach the audit log)."""
from __future__ import annotations


class StoreConflict(Exception):
    """A conditional write found its item in another state; nothing was written."""

    reason = "conflict"


class EmailTaken(StoreConflict):
    reason = "email_taken"


class WouldRemoveLastAdmin(StoreConflict):
    reason = "last_admin"


class UserChanged(StoreConflict):
    """The user is no longer in the state the change was computed from."""

    reason = "user_changed"


class InviteNotPending(StoreConflict):
    """The invite was claimed, revoked or expired meanwhile."""

    reason = "invite_not_pending"


class ConcurrentChange(StoreConflict):
    """Another transaction held the item, so its state is unknown: re-read before deciding."""

    reason = "concurrent_change"


class CreatorRevoked(StoreConflict):
    """The token creating another was revoked (or its user changed) while the request ran."""

    reason = "creator_revoked"


class RotationLost(StoreConflict):
    """The token being rotated was rotated, deleted or expired meanwhile."""

    reason = "rotation_lost"
