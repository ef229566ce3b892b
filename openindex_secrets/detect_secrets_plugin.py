"""A detect-secrets plugin for OpenIndex tokens: the exact shape, then the CRC32 checksum, so a
placeholder, a typo or a truncated token is never reported (near-zero false positives).

    detect-secrets scan --plugin "$(python -c 'import openindex_secrets.detect_secrets_plugin as p; print(p.__file__)')"
"""
from __future__ import annotations

from collections.abc import Generator, Iterable
from re import Pattern

from detect_secrets.plugins.base import RegexBasedDetector

from openindex_secrets import FOUND, checksum_ok


class OpenIndexTokenDetector(RegexBasedDetector):
    """Scans for OpenIndex tokens (oi_pat_, oi_run_, oi_inv_) with a valid checksum."""

    secret_type = "OpenIndex Token"

    @property
    def denylist(self) -> Iterable[Pattern[str]]:
        return (FOUND,)

    def analyze_string(self, string: str) -> Generator[str, None, None]:
        yield from (match for match in super().analyze_string(string) if checksum_ok(match))

