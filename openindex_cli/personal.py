"""`oi settings personal`: your own tokens, run tokens and security log (needs a human-owned
personal access token).

Each command group is a module of its own; this one only puts them under `oi settings personal`.
"""
from __future__ import annotations

import click

from openindex_cli.commands import HelpGroup
from openindex_cli.run_tokens import run_tokens
from openindex_cli.security_events import security_events
from openindex_cli.tokens import tokens


@click.group(cls=HelpGroup)
def settings() -> None:
    """Your own settings (needs a human-owned personal access token)."""


@settings.group()
def personal() -> None:
    """Personal settings."""


personal.add_command(tokens)
personal.add_command(run_tokens)
personal.add_command(security_events)
