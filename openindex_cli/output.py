"""How `oi` prints: masked tokens, plain tables, and JSON for scripts."""
from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

import click

_TOKEN_PREFIX = re.compile(r"oi_[a-z]+_")
_UNPRINTABLE = frozenset({"Cc", "Cf", "Zl", "Zp"})  # control, format, line and paragraph separators


def mask(token: str | None) -> str:
    """``oi_pat_…wxyz``: the type and the last four characters, never the secret."""
    if not token:
        return "(not set)"
    prefix = _TOKEN_PREFIX.match(token)
    tail = token[-4:] if len(token) >= 12 else ""
    return f"{prefix.group(0) if prefix else ''}…{tail}"


def emit_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=True))


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns separated by two spaces; every cell made printable first, since cells
    hold what the server sent (a user agent is whatever some client wrote)."""
    cells = [[printable(str(cell)) for cell in line] for line in [headers, *rows]]
    widths = [max(len(cell) for cell in column) for column in zip(*cells, strict=True)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
             for line in cells]
    return "\n".join(lines)


def printable(text: str) -> str:
    """``text`` with each control, format or line-breaking character shown as ``?``: a terminal
    would act on them (escape sequences, carriage returns, direction overrides)."""
    return "".join("?" if unicodedata.category(char) in _UNPRINTABLE else char for char in text)


def shorten(text: str, width: int) -> str:
    """At most ``width`` characters, the cut marked with an ellipsis."""
    return text if len(text) <= width else text[: width - 1] + "…"
