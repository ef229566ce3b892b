"""The registry of token kinds and the scopes a token may carry.

A kind is spelled once, here: its tag in the token (``oi_<tag>_``), the prefix of its ids, whether
a person holds it, and which ids its token carries. Adding a kind is one entry plus its rules.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from chalicelib.model import ids


class Scope(StrEnum):
    """A token's preset: ``read`` reads the read_write families, ``read_write`` also writes them,
    ``admin`` is everything ``read_write`` may do plus instance administration."""

    READ = "read"
    READ_WRITE = "read_write"
    ADMIN = "admin"

    def covers(self, other: Scope) -> bool:
        """True when a token of this scope may do what ``other`` allows."""
        return _RANK[self] >= _RANK[other]


_RANK = {Scope.READ: 0, Scope.READ_WRITE: 1, Scope.ADMIN: 2}


class TokenKind(StrEnum):
    """Who holds a secret, as stored and as the API names it."""

    PAT = "pat"
    AGENT_RUN = "agent_run"
    INVITE = "invite"

    @property
    def spec(self) -> KindSpec:
        return KINDS[self]


# The ids a token can carry, by the name ParsedToken gives them.
USER_ID = "user_id"
TOKEN_ID = "token_id"
PARENT_ID = "parent_id"


@dataclass(frozen=True)
class KindSpec:
    """One kind of secret token."""

    kind: TokenKind
    tag: str
    id_prefix: str
    held_by_person: bool
    # What people call it, in messages and security events.
    words: str
    # (field, id prefix) of each id the token carries, in order: they locate its item, so one
    # batched read finds the token, its parent and its user.
    carries: tuple[tuple[str, str], ...]

    @property
    def token_prefix(self) -> str:
        return f"oi_{self.tag}_"

    @property
    def not_found(self) -> str:
        """The 404 message for an id of this kind that names nothing the caller may reach."""
        return f"No {self.words} with this id."


KINDS: dict[TokenKind, KindSpec] = {
    TokenKind.PAT: KindSpec(
        TokenKind.PAT, tag="pat", id_prefix="pat", held_by_person=True, words="personal access token",
        carries=((USER_ID, ids.USER), (TOKEN_ID, "pat")),
    ),
    # A run token also names the PAT that minted it, so deleting that PAT revokes it in the same read.
    TokenKind.AGENT_RUN: KindSpec(
        TokenKind.AGENT_RUN, tag="run", id_prefix="run", held_by_person=False, words="agent run token",
        carries=((USER_ID, ids.USER), (TOKEN_ID, "run"), (PARENT_ID, "pat")),
    ),
    TokenKind.INVITE: KindSpec(
        TokenKind.INVITE, tag="inv", id_prefix="inv", held_by_person=False, words="invite",
        carries=((TOKEN_ID, "inv"),),
    ),
}
BY_TAG = {spec.tag: spec for spec in KINDS.values()}
# The kinds that authenticate API requests (an invite only claims an account).
BEARER_KINDS = frozenset({TokenKind.PAT, TokenKind.AGENT_RUN})
