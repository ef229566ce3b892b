"""Public ids: a type prefix and a lowercase ULID, e.g. ``pat_01jdx7k2...``.

ULIDs sort by creation time, so a user's tokens come back newest first from one Query.
"""
from __future__ import annotations

from datetime import datetime

from ulid import ULID

from chalicelib.errors import InvalidRequest

USER = "usr"
PAT = "pat"
RUN = "run"
INVITE = "inv"

ID_BYTES = 16


def new_id(prefix: str, now: datetime) -> str:
    """A fresh id of the given type, ordered by ``now``."""
    return f"{prefix}_{str(ULID.from_datetime(now)).lower()}"


def to_bytes(public_id: str) -> bytes:
    """The 16 bytes behind an id (its prefix is not included)."""
    return ULID.from_str(public_id.partition("_")[2].upper()).bytes


def from_bytes(prefix: str, raw: bytes) -> str:
    """The public id for 16 ULID bytes."""
    return f"{prefix}_{str(ULID.from_bytes(raw)).lower()}"


def normalize(prefix: str, text: str) -> str | None:
    """The canonical form of ``text`` if it is a well-formed id of this type, else None."""
    head, sep, body = text.partition("_")
    if head != prefix or not sep:
        return None
    try:
        return from_bytes(prefix, ULID.from_str(body.upper()).bytes)
    except ValueError:
        return None


def cursor_start(prefix: str, cursor: str | None) -> str | None:
    """The id a page starts after, from the ``cursor`` a previous page returned (400 if forged)."""
    if cursor is None:
        return None
    start_after = normalize(prefix, cursor)
    if start_after is None:
        raise InvalidRequest("Invalid request: cursor is not one this API returned.")
    return start_after
