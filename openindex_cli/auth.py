"""`oi auth check`: is the token in force valid, and whose is it (GET /me)."""
from __future__ import annotations

import click

from openindex_cli.api import ME_KEYS, api_path
from openindex_cli.commands import Context, HelpGroup, request_options
from openindex_cli.grant_words import grant_in_words
from openindex_cli.output import emit_json, table
from openindex_cli.wording import when


@click.group(cls=HelpGroup)
def auth() -> None:
    """Check credentials."""


@auth.command("check", short_help="Check the token in force against the API.")
@request_options
def auth_check(context: Context, profile: str | None, as_json: bool) -> None:
    """Check the token against the API (GET /me): exit 0 when valid, 4 when refused (401). It
    says whose token it is, its kind, scope, grant (what it may read and write) and expiry.

    \b
    Examples:
      oi auth check
      oi auth check --profile work --json
    """
    settings = context.settings(profile)
    me = context.api(settings).call("GET", api_path("me"), expect=ME_KEYS)
    if as_json:
        emit_json({"valid": True, "tokenSource": settings.token_source, **me})
        return
    token = me["token"]
    rows = [
        ("user:", f"{me['email']} ({me['id']}, {me['role']})"),
        ("token:", f"{token['name']} ({token['id']}) from {settings.token_source}"),
        ("kind:", token["kind"] + (f", agent {token['agentId']}" if token.get("agentId") else "")),
        ("scope:", token["scope"]),
        ("grant:", grant_in_words(token.get("permissions") or {})),
        ("expires:", when(token["expiresAt"])),
    ]
    click.echo(f"Token is valid for {settings.app_url}")
    click.echo(table(("", ""), rows))
