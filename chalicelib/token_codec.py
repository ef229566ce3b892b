"""The shape of every secret token: ``oi_<type>_<body><checksum>``.

``body`` is base62 of 160 random bits from ``secrets`` followed by the ids that locate the
token's item (so one batched read finds both the token and its user); ``checksum`` is the
CRC32 of everything before it, in 6 base62 characters, as GitHub does, so a mistyped or
made-up token is refused without a DynamoDB read. Only a SHA-256 digest of the whole token is
stored, and digests are compared in constant time.
"""
from __future__ import annotations

import hashlib
import re
import secrets
import zlib
from dataclasses import dataclass

from chalicelib import ids

SECRET_BYTES = 20
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_CHECKSUM_WIDTH = 6
_SHAPE = re.compile(r"oi_([a-z]+)_([0-9A-Za-z]+)")


@dataclass(frozen=True)
class TokenType:
    """One kind of secret token: its tag in the prefix and the ids its body carries."""

    tag: str
    id_prefixes: tuple[str, ...]

    @property
    def prefix(self) -> str:
        return f"oi_{self.tag}_"

    @property
    def body_bytes(self) -> int:
        return ids.ID_BYTES * len(self.id_prefixes) + SECRET_BYTES

    @property
    def body_width(self) -> int:
        return len(_b62encode(2 ** (8 * self.body_bytes) - 1))


PAT = TokenType("pat", (ids.USER, ids.PAT))
# A run token also names the PAT that minted it, so deleting that PAT revokes it in the same read.
RUN = TokenType("run", (ids.USER, ids.RUN, ids.PAT))
INVITE = TokenType("inv", (ids.INVITE,))
_TYPES = {token_type.tag: token_type for token_type in (PAT, RUN, INVITE)}


@dataclass(frozen=True)
class MintedToken:
    """A new token: the value shown once to its owner, and the digest that is stored."""

    value: str
    digest: bytes


@dataclass(frozen=True)
class ParsedToken:
    """A well-formed token with a valid checksum (not yet known to exist)."""

    type: TokenType
    ids: tuple[str, ...]
    digest: bytes


def mint(token_type: TokenType, id_values: tuple[str, ...]) -> MintedToken:
    """A new random token of ``token_type`` locating the item named by ``id_values``."""
    # The secret leads, so tokens of one user share no visible prefix.
    raw = secrets.token_bytes(SECRET_BYTES) + b"".join(ids.to_bytes(value) for value in id_values)
    head = token_type.prefix + _b62encode(int.from_bytes(raw, "big"), token_type.body_width)
    value = head + _checksum(head)
    return MintedToken(value=value, digest=digest(value))


def parse(value: str) -> ParsedToken | None:
    """The token's type and ids if ``value`` has a token's exact shape and checksum, else None."""
    match = _SHAPE.fullmatch(value)
    token_type = _TYPES.get(match.group(1)) if match else None
    if match is None or token_type is None:
        return None
    text = match.group(2)
    if len(text) != token_type.body_width + _CHECKSUM_WIDTH:
        return None
    head = token_type.prefix + text[: token_type.body_width]
    if text[token_type.body_width :] != _checksum(head):
        return None
    number = _b62decode(text[: token_type.body_width])
    if number >= 2 ** (8 * token_type.body_bytes):
        return None
    raw = number.to_bytes(token_type.body_bytes, "big")[SECRET_BYTES:]
    found = tuple(
        ids.from_bytes(prefix, raw[i * ids.ID_BYTES : (i + 1) * ids.ID_BYTES])
        for i, prefix in enumerate(token_type.id_prefixes)
    )
    return ParsedToken(type=token_type, ids=found, digest=digest(value))


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
