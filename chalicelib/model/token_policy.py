"""The instance's token policy: its rules, applied when a token is made and when it is used.

Pure rules, no storage: the authorizer imports this. A token that breaks the policy in force
(made before it) is blocked, not revoked: relaxing the policy lets it work again.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.errors import PolicyViolation
from chalicelib.model.kinds import Scope, TokenKind

DAY = timedelta(days=1)
# When expiry is required but no lifetime is capped, a token made without an expiry gets this
# (GitLab's default for the same setting); an expiry asked for is not capped by it.
REQUIRED_EXPIRY_DEFAULT = timedelta(days=365)
DEFAULT_RUN_TOKEN_MAX_SECONDS = 86400


@dataclass(frozen=True)
class TokenPolicy:
    """Limits on token lifetimes. The defaults limit nothing beyond the built-in rules."""

    max_lifetime_days: int | None = None
    require_expiry: bool = False
    admin_max_lifetime_days: int | None = None
    run_token_max_seconds: int = DEFAULT_RUN_TOKEN_MAX_SECONDS

    def longest(self, kind: TokenKind, scope: Scope) -> tuple[timedelta | None, str]:
        """The longest lifetime a new token may have, and the rule that sets it (None: no cap)."""
        if kind is TokenKind.AGENT_RUN:
            seconds = self.run_token_max_seconds
            return timedelta(seconds=seconds), f"agent run tokens live at most {seconds} seconds"
        caps = [(days, f"tokens live at most {_days(days)}") for days in [self.max_lifetime_days] if days]
        if scope is Scope.ADMIN and self.admin_max_lifetime_days:
            days = self.admin_max_lifetime_days
            caps.append((days, f"admin tokens live at most {_days(days)}"))
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
            return f"{rule}, and this one lives {_span(expires_at - created_at)}"
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
                              f"expire at or before {latest.strftime('%Y-%m-%dT%H:%M:%SZ')}.")

    def to_text(self) -> str:
        """A compact form for the authorizer's context, which carries only strings."""
        return "|".join(["" if value is None else str(int(value)) for value in (
            self.max_lifetime_days, self.require_expiry, self.admin_max_lifetime_days, self.run_token_max_seconds)])

    @classmethod
    def from_text(cls, text: str) -> TokenPolicy:
        """The inverse of :meth:`to_text` (empty: the defaults)."""
        if not text:
            return cls()
        max_days, require, admin_days, run_seconds = text.split("|")
        return cls(
            max_lifetime_days=int(max_days) if max_days else None,
            require_expiry=require == "1",
            admin_max_lifetime_days=int(admin_days) if admin_days else None,
            run_token_max_seconds=int(run_seconds),
        )


DEFAULT_POLICY = TokenPolicy()


def _days(days: int) -> str:
    return "1 day" if days == 1 else f"{days} days"


def _span(lifetime: timedelta) -> str:
    days = lifetime / DAY
    return f"{days:.0f} days" if days >= 1 else f"{int(lifetime.total_seconds())} s"
