"""The instance's token policy: its rules, applied when a token is made and when it is used.

Pure rules, no storage: the authorizer imports this. A token that breaks the policy in force
(made before it) is blocked, not revoked: relaxing the policy lets it work again.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chalicelib.errors import PolicyViolation
from chalicelib.model.accounts import User
from chalicelib.model.expiry import span_in_words
from chalicelib.model.grants import Grant
from chalicelib.model.kinds import Scope, TokenKind
from chalicelib.model.tokens import TokenRecord
from chalicelib.timeutil import to_iso

DAY = timedelta(days=1)
# When expiry is required but no lifetime is capped, a token made without an expiry gets this
# (GitLab's default for the same setting); an expiry asked for is not capped by it.
REQUIRED_EXPIRY_DEFAULT = timedelta(days=365)
DEFAULT_RUN_TOKEN_MAX_SECONDS = 86400


# The API's (and the table's) name of each field of TokenPolicy, in order.
FIELDS = {
    "maxLifetimeDays": "max_lifetime_days",
    "requireExpiry": "require_expiry",
    "adminMaxLifetimeDays": "admin_max_lifetime_days",
    "runTokenMaxSeconds": "run_token_max_seconds",
    "refuseReadWritePreset": "refuse_read_write_preset",
}


@dataclass(frozen=True)
class TokenPolicy:
    """Limits on token lifetimes, and on what a new token may hold. The defaults limit nothing
    beyond the built-in rules."""

    max_lifetime_days: int | None = None
    require_expiry: bool = False
    admin_max_lifetime_days: int | None = None
    run_token_max_seconds: int = DEFAULT_RUN_TOKEN_MAX_SECONDS
    # New PATs made with a token may not take the broad read_write preset: they take read, admin,
    # or permissions family by family. Only new ones: a token made before keeps working, and
    # invites' first tokens, re-access links and rotations still give theirs (a person needs one
    # token that manages tokens).
    refuse_read_write_preset: bool = False

    def longest(self, kind: TokenKind, scope: Scope) -> tuple[timedelta | None, str]:
        """The longest lifetime a new token may have, and the rule that sets it (None: no cap)."""
        if kind is TokenKind.AGENT_RUN:
            seconds = self.run_token_max_seconds
            return timedelta(seconds=seconds), f"agent run tokens live at most {seconds} seconds"
        caps = [(days, f"tokens live at most {span_in_words(days * DAY)}") for days in [self.max_lifetime_days] if days]
        if scope is Scope.ADMIN and self.admin_max_lifetime_days:
            days = self.admin_max_lifetime_days
            caps.append((days, f"admin tokens live at most {span_in_words(days * DAY)}"))
        if not caps:
            return None, ""
        days, rule = min(caps)
        return days * DAY, rule

    def breach(self, kind: TokenKind, scope: Scope, created_at: datetime, expires_at: datetime | None) -> str | None:
        """Which rule a token made at ``created_at`` breaks (words for its holder), or None."""
        longest, rule = self.longest(kind, scope)
        if expires_at is None:
            if kind is TokenKind.PAT and self.require_expiry:
                return "tokens must expire, and this one does not"
            return f"{rule}, and this one does not expire" if longest is not None else None
        if longest is not None and expires_at - created_at > longest:
            return f"{rule}, and this one lives {span_in_words(expires_at - created_at)}"
        return None

    def preset_refusal(self, scope: Scope, permissions: Grant | None) -> str | None:
        """Why a new PAT of ``scope`` (its preset's grant when ``permissions`` is None) may not be
        made (words for its maker), or None."""
        if self.refuse_read_write_preset and scope is Scope.READ_WRITE and permissions is None:
            return ("the instance's token policy allows no new tokens with the broad read_write preset: choose read, "
                    "or permissions family by family (only what the token needs)")
        return None

    def pat_expiry(self, scope: Scope, requested: datetime | None, now: datetime, *, asked: bool = True
                   ) -> datetime | None:
        """The expiry a new PAT gets: ``requested`` when allowed; the longest allowed when none
        was given and the policy needs one. An asked-for expiry beyond the limit is
        PolicyViolation; one the service chose (``asked`` False: a rotation keeping its old
        lifetime, an invite's first token) is cut to the limit instead."""
        longest, rule = self.longest(TokenKind.PAT, scope)
        if requested is None:
            if longest is not None:
                return now + longest
            return now + REQUIRED_EXPIRY_DEFAULT if self.require_expiry else None
        return self._within(requested, now + longest, rule, asked) if longest is not None else requested

    def run_token_expiry(self, requested: datetime, now: datetime, *, asked: bool) -> datetime:
        """The expiry a new run token gets, as :meth:`pat_expiry` decides it."""
        longest, rule = self.longest(TokenKind.AGENT_RUN, Scope.READ_WRITE)
        return self._within(requested, now + (longest or DAY), rule, asked)

    @staticmethod
    def _within(requested: datetime, latest: datetime, rule: str, asked: bool) -> datetime:
        if requested <= latest:
            return requested
        if not asked:
            return latest
        raise PolicyViolation(f"Invalid request: the instance's token policy says {rule}, so the token must "
                              f"expire at or before {to_iso(latest)}.")

    def to_fields(self) -> dict[str, int | bool | None]:
        """The policy by the names the API and the table give its fields: their one translation."""
        return {name: getattr(self, attribute) for name, attribute in FIELDS.items()}

    @classmethod
    def from_fields(cls, fields: Mapping[str, Any]) -> TokenPolicy:
        """The inverse of :meth:`to_fields`; a field left out keeps its default."""
        return cls(**{attribute: fields[name] for name, attribute in FIELDS.items() if name in fields})

    def to_text(self) -> str:
        """A compact form for the authorizer's context and the audit trail, which carry strings:
        the fields in order, ``|`` between them (``30|0||86400``)."""
        return "|".join("" if value is None else str(int(value)) for value in self.to_fields().values())

    @classmethod
    def from_text(cls, text: str) -> TokenPolicy:
        """The inverse of :meth:`to_text` (empty: the defaults)."""
        if not text:
            return cls()
        defaults = cls().to_fields()
        return cls.from_fields({name: None if not value else value == "1" if isinstance(defaults[name], bool)
                                else int(value) for name, value in zip(FIELDS, text.split("|"), strict=True)})


DEFAULT_POLICY = TokenPolicy()


@dataclass(frozen=True)
class Blocked:
    """A live token a policy would block, and why."""

    owner: User
    token: TokenRecord
    reason: str


@dataclass
class Impact:
    """What a policy would block among the live PATs of active users."""

    tokens_blocked: int = 0
    users_affected: int = 0
    sample: list[Blocked] = field(default_factory=list)
    # Live read_write preset PATs made with a token (by POST /me/pats or a rotation; not an
    # invite's or a re-access link's) that the policy would not make again: they keep working.
    read_write_preset_tokens: int = 0
    # Why saving it with the previewing token would be refused (409 policy_blocks_caller), if it would.
    blocks_caller: str | None = None

