"""The shape of every secret token: ``oi_<tag>_<body><checksum>``.

``body`` is base62 of 160 random bits from ``secrets`` followed by the ids that locate the
token's item (so one batched read finds both the token and its user); ``checksum`` is the
CRC32 of everything before it, in 6 base62 characters, as GitHub does, so a typo or a random
string is refused without a DynamoDB read. The checksum is no secret: a forged token with a
valid checksum costs one read and is refused there. Only a SHA-256 digest of the whole token is
stored, and digests are compared in constant time.
"""
from __future__ import annotations

import functools
import hashlib
import re
import secrets
import zlib
from dataclasses import dataclass

from chalicelib.model import ids
from chalicelib.model.kinds import BY_TAG, PARENT_ID, TOKEN_ID, USER_ID, KindSpec

SECRET_BYTES = 20
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_CHECKSUM_WIDTH = 6
_SHAPE = re.compile(r"oi_([a-z]+)_([0-9A-Za-z]+)")


@dataclass(frozen=True)
class MintedToken:
    """A new token: the value shown once to its owner, and the digest that is stored."""

    value: str
    digest: bytes


@dataclass(frozen=True)
class ParsedToken:
    """A well-formed token with a valid checksum (not yet known to exist)."""

    kind: KindSpec
    token_id: str
    digest: bytes
    user_id: str | None = None
    parent_id: str | None = None


def body_bytes(kind: KindSpec) -> int:
    return ids.ID_BYTES * len(kind.carries) + SECRET_BYTES


@functools.cache  # a constant per kind, asked on every request
def body_width(kind: KindSpec) -> int:
    return len(_b62encode(2 ** (8 * body_bytes(kind)) - 1))


def mint(kind: KindSpec, *, token_id: str, user_id: str | None = None, parent_id: str | None = None) -> MintedToken:
    """A new random token of ``kind`` carrying the ids its kind declares."""
    given = {field: value for field, value in ((USER_ID, user_id), (TOKEN_ID, token_id), (PARENT_ID, parent_id))
             if value is not None}
    if set(given) != {field for field, _ in kind.carries}:
        raise ValueError(f"a {kind.kind} token carries exactly {[field for field, _ in kind.carries]}")
    # The secret leads, so tokens of one user share no visible prefix.
    raw = secrets.token_bytes(SECRET_BYTES) + b"".join(ids.to_bytes(given[field]) for field, _ in kind.carries)
    head = kind.token_prefix + _b62encode(int.from_bytes(raw, "big"), body_width(kind))
    value = head + _checksum(head)
    return MintedToken(value=value, digest=digest(value))


def parse(value: str) -> ParsedToken | None:
    """The token's kind and ids if ``value`` has a token's exact shape and checksum, else None."""
    match = _SHAPE.fullmatch(value)
    kind = BY_TAG.get(match.group(1)) if match else None
    if match is None or kind is None:
        return None
    width = body_width(kind)
    text = match.group(2)
    if len(text) != width + _CHECKSUM_WIDTH:
        return None
    head = kind.token_prefix + text[:width]
    if text[width:] != _checksum(head):
        return None
    number = _b62decode(text[:width])
    if number >= 2 ** (8 * body_bytes(kind)):
        return None
    raw = number.to_bytes(body_bytes(kind), "big")[SECRET_BYTES:]
    found = {
        field: ids.from_bytes(prefix, raw[i * ids.ID_BYTES : (i + 1) * ids.ID_BYTES])
        for i, (field, prefix) in enumerate(kind.carries)
    }
    return ParsedToken(
        kind=kind,
        token_id=found[TOKEN_ID],
        user_id=found.get(USER_ID),
        parent_id=found.get(PARENT_ID),
        digest=digest(value),
    )


def digest(value: str) -> bytes:
    """SHA-256 of a token: what the table stores instead of the token."""
    return hashlib.sha256(value.encode()).digest()


def _checksum(head: str) -> str:
    return _b62encode(zlib.crc32(head.encode()), _CHECKSUM_WIDTH)


def _b62encode(number: int, width: int = 1) -> str:
    digits = []
    while number:
        number, remainder = divmod(number, 62)
        digits.append(_ALPHABET[remainder])
    return "".join(reversed(digits)).rjust(width, _ALPHABET[0])


def _b62decode(text: str) -> int:
    number = 0
    for char in text:
        number = number * 62 + _ALPHABET.index(char)
    return number
