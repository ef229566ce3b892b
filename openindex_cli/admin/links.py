"""Showing an invite or re-access link just made: the one time its token is seen."""
from __future__ import annotations

from datetime import tzinfo
from typing import Any

import click

from openindex_cli.output import emit_json, printable
from openindex_cli.wording import when_here

LINK_KEYS = ("id", "token", "inviteUrl", "expiresAt")


def show_link(created: dict[str, Any], as_json: bool, what: str, zone: tzinfo | None) -> None:
    """The link alone on standard output (a script takes it from there), everything else on
    standard error, like `tokens create`: the server shows its token this once."""
    if as_json:
        emit_json(created)
        return
    click.echo(printable(f"Created {what}: {created['id']}, expires {when_here(created['expiresAt'], zone)}."),
               err=True)
    click.echo(printable(str(created["inviteUrl"])))
    click.echo("Send it now: it cannot be shown again. It opens the invite page; with the command line, "
               "`oi invites claim` takes the whole link.", err=True)
