"""How `oi` prints: masked tokens, plain tables, and JSON for scripts."""
from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import click

_TOKEN_PREFIX = re.compile(r"oi_[a-z]+_")


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
    """Left-aligned columns separated by two spaces."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
             for line in [headers, *rows]]
    return "\n".join(lines)


def when(value: str | None, missing: str = "never") -> str:
    """An API timestamp for people: ``2027-01-01 00:00 UTC``."""
    if not value:
        return missing
    return value.replace("T", " ")[:16] + " UTC"
