"""Invites and re-access links (single-use ways to a first or a new PAT), and who makes what."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from chalicelib.model import ids
from chalicelib.model.accounts import Generations, Role, User
from chalicelib.model.addresses import AllowedIps
from chalicelib.model.expiry import is_expired
from chalicelib.model.kinds import Scope


class InviteStatus(StrEnum):
    """An invite is claimed or revoked at most once, and only while pending."""

    PENDING = "pending"
    CLAIMED = "claimed"
    REVOKED = "revoked"


@dataclass(frozen=True)
class Maker:
    """Who made an invite, a link or a token: a person's request, with the token it came with,
    or an operator tool (``user_id`` is then its name, and there is no token)."""

    user_id: str
    token_id: str | None = None
    email: str | None = None
    # The making token's lineage (TokenRecord.lineage_issued_ms), expiry and its user's revocation
    # counts when its line began, as the authorizer read them: what it makes inherits them.
    lineage_issued_ms: int | None = None
    expires_at: datetime | None = None
    revocations_seen: Generations | None = None
    # The addresses the making token may be used from (not stored): a link it makes for its own
    # account would give a token usable from anywhere.
    allowed_ips: AllowedIps = field(default_factory=AllowedIps)


def operator(name: str) -> Maker:
    """An operator tool (``bootstrap``, a bench) making something straight in the table."""
    return Maker(user_id=name)


@dataclass(frozen=True)
class Invite:
    """An invitation for an email to join with a role, or (with ``user_id``) a re-access link
    that gives an existing user a new PAT; only its token's digest is stored."""

    id: str
    email: str
    role: Role
    status: InviteStatus
    digest: bytes
    created_by: str
    created_at: datetime
    expires_at: datetime
    user_id: str | None = None
    # The token that made it, that token's lineage, and its user's email: a compromise of that
    # token (a cut-off reaching its lineage, or a leak report) revokes the invite while pending.
    created_by_token_id: str | None = None
    created_by_email: str | None = None
    maker_lineage_ms: int | None = None
    # The making token's expiry: a link to the maker's own account gives no PAT that outlives it.
    maker_expires_at: datetime | None = None
    # A re-access link: its user's revocation counts when it was sent; any revocation since kills it.
    target_revocations: Generations | None = None

    def is_expired(self, now: datetime) -> bool:
        return is_expired(self.expires_at, now)

    def revoked_with_maker(self, maker: User | None, maker_compromised: bool) -> bool:
        """True when the token that made this invite was revoked for cause since: reported leaked
        (``maker_compromised``), or reached by its user's revoke-all, deactivation or demotion
        (invites are made with admin authority). A plain delete or rotation of that token is not
        a cause: an admin who rotates a token keeps the invites sent with it."""
        lineage = self.maker_lineage
        if lineage is None:
            return False  # made by an operator tool
        return maker_compromised or (maker is not None and maker.revocation_of(lineage, Scope.ADMIN) is not None)

    @property
    def maker_lineage(self) -> int | None:
        """The making token's lineage; for an invite stored before makers were recorded, its own
        issue time (the making token was issued before it, so a cut-off at or after it reached
        that token too); None for one made by an operator tool."""
        if self.maker_lineage_ms is not None:
            return self.maker_lineage_ms
        return ids.issued_at_ms(self.id) if self.created_by.startswith(f"{ids.USER}_") else None

    @property
    def is_self_link(self) -> bool:
        """A re-access link made by a token of the account it opens."""
        return self.user_id is not None and self.user_id == self.created_by


@dataclass(frozen=True)
class IssuedInvite:
    """An invite just created, with its token and link, which are never shown again."""

    invite: Invite
    token: str
    url: str


def invite_url(app_url: str, token: str) -> str:
    """The link to send: the token rides in the fragment, which browsers never send to servers."""
    return f"{app_url.rstrip('/')}/invite#token={token}"
