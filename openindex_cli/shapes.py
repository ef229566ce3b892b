"""What tokens and ids look like, checked before anything is sent.

The CLI is installed on its own, so it cannot use the service's codec: these are shape checks
only (a prefix and base62), enough to refuse placeholders and typos with a clear message instead
of a request that the server, or the HTTP library, would fail on. Messages never echo the value.
"""
from __future__ import annotations

import re
import unicodedata

_AUTH_TOKEN = re.compile(r"oi_(pat|run)_[0-9A-Za-z]+", re.ASCII)
_AUTH_PREFIX = re.compile(r"oi_(pat|run)_", re.ASCII)
_INVITE_TOKEN = re.compile(r"oi_inv_[0-9A-Za-z]+", re.ASCII)
# A lowercase ULID: 26 Crockford base32 characters (no i, l, o, u), the first at most 7 (128 bits).
_ULID = r"[0-7][0-9a-hjkmnp-tv-z]{25}"
_PAT_ID = re.compile(rf"pat_{_ULID}", re.ASCII)
_RUN_ID = re.compile(rf"run_{_ULID}", re.ASCII)
TOKEN_KINDS = "oi_pat_... or oi_run_..."


def token_problem(value: str) -> str | None:
    """Why ``value`` cannot be a PAT or run token, or None when it has their shape."""
    if _AUTH_TOKEN.fullmatch(value):
        return None
    if _INVITE_TOKEN.fullmatch(value):
        return "it is an invite (oi_inv_...); claim it with `oi invites claim -` to get a token"
    unprintable = _unprintable(value)
    if unprintable is not None:
        return unprintable
    prefix = _AUTH_PREFIX.match(value)
    if prefix is None:
        return "it does not start with oi_pat_ or oi_run_"
    body = value[prefix.end():]
    if not body:
        return "it ends after its prefix"
    odd = next(char for char in body if not char.isalnum())
    return f"it holds {odd!r} after its prefix, where tokens have only letters and digits"


def is_invite(value: str) -> bool:
    """True when ``value`` has an invite token's shape (oi_inv_ and base62)."""
    return _INVITE_TOKEN.fullmatch(value) is not None


def pat_id_problem(value: str) -> str | None:
    """Why ``value`` is not a PAT id (``pat_`` and a lowercase ULID), or None when it is one.

    Ids become URL path parts: anything else is refused before it can name another resource.
    """
    if _PAT_ID.fullmatch(value):
        return None
    if value.startswith("oi_"):
        return "that is a token, not its id (ids look like pat_01jdx7k2..., as `tokens list` shows them)"
    if _RUN_ID.fullmatch(value):
        return ("that is an agent run token's id: delete it with `oi settings personal run-tokens delete` "
                "(personal access token ids are pat_...)")
    return "not a token id: ids are pat_ and 26 lowercase letters and digits, as `tokens list` shows them"


def run_id_problem(value: str) -> str | None:
    """Why ``value`` is not an agent run token id (``run_`` and a lowercase ULID), or None.

    Checked for the same reason as PAT ids: the id becomes a URL path part.
    """
    if _RUN_ID.fullmatch(value):
        return None
    if value.startswith("oi_"):
        return ("that is a token, not its id (run token ids look like run_01jdx7k2..., as `run-tokens list` "
                "shows them)")
    if _PAT_ID.fullmatch(value):
        return ("that is a personal access token's id: delete it with `oi settings personal tokens delete` "
                "(run token ids are run_...)")
    return ("not a run token id: ids are run_ and 26 lowercase letters and digits, as `run-tokens list` "
            "shows them")


def _unprintable(value: str) -> str | None:
    """The first whitespace, control or non-ASCII character, described (the value is not shown)."""
    for char in value:
        if char.isspace() or unicodedata.category(char).startswith("C"):
            return "it holds whitespace or a control character"
        if not char.isascii():
            name = unicodedata.name(char, "a non-ASCII character").lower()
            return f"it holds U+{ord(char):04X} ({name}), which no token has: a placeholder from the documentation?"
    return None


def not_a_token(subject: str, problem: str) -> str:
    """The one-line refusal of ``subject`` (say, "the token from OPENINDEX_TOKEN") and why."""
    return f"{subject} is not an OpenIndex token ({TOKEN_KINDS}): {problem}"
