"""Who is calling: the authenticated user and the token they called with."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.model import flat, ids
from chalicelib.model.accounts import Generations, Role, User, UserStatus
from chalicelib.model.addresses import AllowedIps
from chalicelib.model.grants import Grant
from chalicelib.model.invites import Maker
from chalicelib.model.kinds import Scope, TokenKind
from chalicelib.model.token_policy import TokenPolicy
from chalicelib.model.tokens import Creator, grant_label


@dataclass(frozen=True)
class Caller:
    """The authenticated user and the token they called with, as the authorizer saw them."""

    user_id: str
    email: str
    role: Role
    user_created_at: datetime
    token_id: str
    token_name: str
    scope: Scope
    kind: TokenKind
    expires_at: datetime | None
    # When the token stops working: its expiry, or for a run token its parent's if earlier.
    stops_at: datetime | None = None
    agent_id: str | None = None
    stage: str | None = None
    tokens_revoked_at_ms: int | None = field(default=None, metadata=flat.named("tokensRevokedAt"))
    admin_tokens_revoked_at_ms: int | None = field(default=None, metadata=flat.named("adminTokensRevokedAt"))
    # The successor of a token in its rotation grace window.
    rotated_to: str | None = None
    # The token policy the authorizer read (TokenPolicy.to_text), so views need not read it again.
    policy: str = ""
    # The token's last recorded use, so the authorizer can tell without a read whether to record
    # this one; kept out of the context (another API has no need of the token's last address).
    last_used_at: datetime | None = field(default=None, metadata=flat.not_in_context())
    last_used_ip: str | None = field(default=None, metadata=flat.not_in_context())
    # The token's lineage and recorded revocation counts (TokenRecord): what it makes inherits them.
    lineage_issued_ms: int | None = field(default=None, metadata=flat.named("lineageIssuedAt"))
    revocations_seen: Generations | None = None
    # The user's revocation counts, as the authorizer read them (User.revocations).
    user_revocations: Generations = (0, 0)
    # The token's grant as text (Grant.to_text); empty for its scope's preset.
    permissions: str = ""
    # The addresses the token may be used from (AllowedIps.to_text; empty: any): what it makes
    # may be used from no more.
    allowed_ips: str = ""
    # What the PAT that learns from this token's use (the token, or a run token's parent) was
    # seen to use (model.used), so the authorizer records a new use without a read.
    used: str = field(default="", metadata=flat.not_in_context())
    parent_id: str | None = field(default=None, metadata=flat.not_in_context())
    # When the token was made (what introspection answers as ``iat``).
    issued_at: datetime | None = field(default=None, metadata=flat.not_in_context())

    @property
    def grant(self) -> Grant:
        """What the token may do to each resource family."""
        return Grant.from_text(self.permissions) if self.permissions else Grant.of_scope(self.scope)

    @property
    def label(self) -> str:
        """How the API names the token's grant (grant_label)."""
        return grant_label(self.kind, bool(self.permissions), self.grant, self.scope)

    @property
    def addresses(self) -> AllowedIps:
        return AllowedIps.from_text(self.allowed_ips)

    @property
    def learning_token_id(self) -> str:
        """The PAT that learns what this token uses: itself, or a run token's parent."""
        return self.parent_id or self.token_id

    def has_used(self, use: str) -> bool:
        return use in self.used.split(",")

    @property
    def line_issued_ms(self) -> int:
        """The token's lineage, or its own issue time if the verdict carried none."""
        return self.lineage_issued_ms if self.lineage_issued_ms is not None else ids.issued_at_ms(self.token_id)

    @property
    def maker(self) -> Maker:
        """The caller as the maker of an invite, a link or a token."""
        return Maker(user_id=self.user_id, token_id=self.token_id, email=self.email,
                     lineage_issued_ms=self.line_issued_ms, expires_at=self.expires_at,
                     revocations_seen=self.revocations_seen, allowed_ips=self.addresses)

    @property
    def creator(self) -> Creator:
        """The caller's token as the authorizer read it, for the checks a creating write makes."""
        return Creator(token_id=self.token_id, scope=self.scope, expires_at=self.expires_at,
                       lineage_issued_ms=self.line_issued_ms)

    @property
    def token_policy(self) -> TokenPolicy:
        """The token policy in force when the authorizer read it."""
        return TokenPolicy.from_text(self.policy)

    @property
    def owner(self) -> User:
        """The caller's account as the authorizer read it (active, or the token was refused)."""
        return User(
            id=self.user_id, email=self.email, role=self.role, status=UserStatus.ACTIVE,
            created_at=self.user_created_at, tokens_revoked_at_ms=self.tokens_revoked_at_ms,
            admin_tokens_revoked_at_ms=self.admin_tokens_revoked_at_ms, revocations=self.user_revocations,
        )
