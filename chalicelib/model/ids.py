"""Public ids: a type prefix and a lowercase ULID, e.g. ``pat_01jdx7k2...``.

ULIDs sort by creation time, so a user's tokens come back newest first from one Query. New ids
come from python-ulid; the authorizer only converts ids between their 16 bytes (inside a token)
and their text, which is plain Crockford base32, done here: importing python-ulid costs about
30 ms of cold start (it reads its own package metadata), on a path that needs none of it.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.errors import InvalidRequest

USER = "usr"  # token kinds' prefixes are in chalicelib.model.kinds

ID_BYTES = 16


ID_CHARS = 26
_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"
_VALUES = {char: value for value, char in enumerate(_CROCKFORD)}


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TIME_BYTES = 6  # a ULID starts with its milliseconds since the epoch


def new_id(prefix: str, now: datetime) -> str:
    """A fresh id of the given type, ordered by ``now`` (to the millisecond)."""
    from ulid import ULID

    return from_bytes(prefix, ULID.from_timestamp(epoch_ms(now)).bytes)


def epoch_ms(moment: datetime) -> int:
    """Whole milliseconds since the epoch, exactly (no float rounding)."""
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def issued_at_ms(public_id: str) -> int:
    """When the thing an id names was created, in epoch milliseconds (read from the id itself)."""
    return int.from_bytes(to_bytes(public_id)[:_TIME_BYTES], "big")


def first_id_after(prefix: str, moment_ms: int) -> str:
    """The lowest possible id of this type created after ``moment_ms``: every id created at or
    before it sorts below, which lets a key condition leave revoked tokens unread."""
    return from_bytes(prefix, (moment_ms + 1).to_bytes(_TIME_BYTES, "big") + bytes(ID_BYTES - _TIME_BYTES))


def to_bytes(public_id: str) -> bytes:
    """The 16 bytes behind a well-formed id (its prefix is not included)."""
    raw = _decode(public_id.partition("_")[2])
    if raw is None:
        raise ValueError("not an id")
    return raw


def from_bytes(prefix: str, raw: bytes) -> str:
    """The public id for 16 ULID bytes."""
    number = int.from_bytes(raw, "big")
    return f"{prefix}_" + "".join(_CROCKFORD[(number >> shift) & 31] for shift in range(125, -1, -5))


def normalize(prefix: str, text: str) -> str | None:
    """The canonical form of ``text`` if it is a well-formed id of this type, else None."""
    head, sep, body = text.partition("_")
    raw = _decode(body) if head == prefix and sep else None
    return from_bytes(prefix, raw) if raw is not None else None


def cursor_start(prefix: str, cursor: str | None) -> str | None:
    """The id a page starts after, from the ``cursor`` a previous page returned (400 if forged)."""
    if cursor is None:
        return None
    start_after = normalize(prefix, cursor)
    if start_after is None:
        raise InvalidRequest("Invalid request: cursor is not one this API returned.")
    return start_after


def _decode(text: str) -> bytes | None:
    """16 bytes from 26 Crockford base32 characters (either case), or None."""
    if len(text) != ID_CHARS:
        return None
    number = 0
    for char in text.lower():
        value = _VALUES.get(char)
        if value is None:
            return None
        number = number << 5 | value
    return number.to_bytes(ID_BYTES, "big") if number < 2 ** (8 * ID_BYTES) else None
