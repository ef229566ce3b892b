"""`oi settings personal tokens narrow`: a token given less to do, or a sooner expiry, keeping
its value, so whatever holds it keeps working with only what it needs."""
from __future__ import annotations

from typing import Any

import click

from openindex_cli import expiry, shapes
from openindex_cli.api import api_path
from openindex_cli.auth import grant_in_words
from openindex_cli.commands import Context, expires_at_option, request_options
from openindex_cli.errors import EXIT_USAGE, CliError
from openindex_cli.output import emit_json, printable
from openindex_cli.tokens_grant import grant_option
from openindex_cli.wording import when_here


@click.command("narrow", short_help="Give a token less to do, or a sooner expiry; its value stays.")
@request_options
@click.argument("token_id", metavar="ID")
@click.option("--scope", type=click.Choice(["read", "read_write", "admin"]),
              help="narrow to a preset: read (read-only) or read_write")
@click.option("--permission", "permissions", multiple=True, metavar="FAMILY=LEVEL",
              help="instead of --scope, family by family (repeatable); families left out get none")
@click.option("--expires-at", metavar="WHEN", help=f"a sooner expiry: {expiry.FORMATS}")
def tokens_narrow(context: Context, profile: str | None, as_json: bool, token_id: str, scope: str | None,
                  permissions: tuple[str, ...], expires_at: str | None) -> None:
    """Narrow a token (ID as `tokens list` shows it): what it may do, its expiry, or both. Its
    value does not change, so nothing that holds it needs a new one; it only ever loses
    permissions and never expires later. Its agent run tokens are narrowed with it.

    \b
    Examples:
      oi settings personal tokens narrow pat_01jdx7k2m4c8b3n5q6r7s8t9v0 --permission work_items=read
      oi settings personal tokens narrow pat_01jdx7k2m4c8b3n5q6r7s8t9v0 --scope read
      oi settings personal tokens narrow pat_01jdx7k2m4c8b3n5q6r7s8t9v0 --expires-at 7d
    """
    if (problem := shapes.pat_id_problem(token_id)) is not None:
        raise CliError(f"ID: {problem}", EXIT_USAGE)
    if scope is None and not permissions and expires_at is None:
        raise CliError("say what to narrow: --scope, --permission or --expires-at", EXIT_USAGE)
    body: dict[str, Any] = grant_option(scope, permissions) if scope is not None or permissions else {}
    if expires_at is not None:
        body["expiresAt"] = expires_at_option(expires_at, context)
    narrowed = context.api(context.settings(profile)).call(
        "PATCH", api_path("me", "pats", token_id), body=body, expect=("id", "name", "scope", "permissions"))
    if as_json:
        emit_json(narrowed)
        return
    click.echo(printable(f"Narrowed '{narrowed['name']}' ({narrowed['id']}): {narrowed['scope']} "
                         f"({grant_in_words(narrowed['permissions'])}), expires "
                         f"{when_here(narrowed.get('expiresAt'), context.zone)}. Its value is unchanged."))
