"""What an OpenIndex token looks like, for the tools that look for leaked ones.

``oi_<tag>_<body><checksum>``: a tag (``pat``, ``run``, ``inv``), a base62 body of a fixed width
per kind, and the CRC32 of everything before it in 6 base62 characters. This is the published
shape (as GitHub publishes its tokens'), with no dependency beyond the standard library, so a
scanner plugin, a hook or `oi credentials scan` can use it; the service's own codec is
chalicelib/model/token_format.py, which a test holds to this one.
"""
from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

# Characters after ``oi_<tag>_`` (the body and its 6-character checksum), by tag.
WIDTHS = {"pat": 76, "run": 98, "inv": 55}
KINDS = {"pat": "personal access token", "run": "agent run token", "inv": "invite"}
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_CHECKSUM_WIDTH = 6

# Every kind's exact shape: what a scanner's rule matches (no checksum check: a regex cannot).
SHAPE = "oi_(?:" + "|".join(f"{tag}_[0-9A-Za-z]{{{width}}}" for tag, width in WIDTHS.items()) + ")"
# What may stand before a token: the start, a character no token holds, or an escape that ends
# in a letter or digits (JSON's \n, a URL-encoded =, as in a link a mail service wrapped).
BEFORE = r"(?:^|[^0-9A-Za-z_]|\\[nrt]|%[0-9A-Fa-f]{2})"
AFTER = r"(?:[^0-9A-Za-z]|$)"
# The rule as RE2 writes it (gitleaks, trufflehog, GitHub secret scanning: no lookaround), the
# token in group 1.
RE2_RULE = f"{BEFORE}({SHAPE}){AFTER}"
# In Python, checked by its checksum: anything may stand before it, and it ends where the
# letters and digits do.
FOUND = re.compile(rf"({SHAPE})(?![0-9A-Za-z])", re.ASCII)


@dataclass(frozen=True)
class Found:
    """A token found in text: its kind, where (1-based line and column), and its value (which a
    caller never prints)."""

    kind: str
    line: int
    column: int
    value: str


def checksum_ok(token: str) -> bool:
    """Whether ``token`` has a token's exact shape and its checksum matches: a typo, a truncated
    token or a placeholder does not."""
    if FOUND.fullmatch(token) is None:
        return False
    head, checksum = token[:-_CHECKSUM_WIDTH], token[-_CHECKSUM_WIDTH:]
    return checksum == _base62(zlib.crc32(head.encode()), _CHECKSUM_WIDTH)


def find(text: str) -> Iterator[Found]:
    """The tokens in ``text`` whose checksum matches, in order."""
    for number, line in enumerate(text.splitlines(), start=1):
        for match in FOUND.finditer(line):
            if checksum_ok(match.group(1)):
                yield Found(KINDS[match.group(1)[3:6]], number, match.start(1) + 1, match.group(1))


def _base62(number: int, width: int) -> str:
    digits = []
    while number:
        number, remainder = divmod(number, 62)
        digits.append(_ALPHABET[remainder])
    return "".join(reversed(digits)).rjust(width, _ALPHABET[0])
