"""`oi settings personal run-tokens`: list and delete the agent run tokens minted from your
personal access tokens (minting one is `oi workflows run-tokens create`)."""
from __future__ import annotations

import click

from openindex_cli import shapes
from openindex_cli.api import api_path
from openindex_cli.commands import Context, HelpGroup, limit_option, listed, request_options, say_if_more
from openindex_cli.grant_words import grant_in_words
from openindex_cli.output import emit_json, printable, table
from openindex_cli.token_deletion import delete_own_token
from openindex_cli.wording import when


@click.group("run-tokens", cls=HelpGroup, short_help="Agent run tokens minted from your tokens.")
def run_tokens() -> None:
    """Workflow agent run tokens minted from your personal access tokens (list and delete them)."""


@run_tokens.command("list", short_help="List your live run tokens, never their values.")
@request_options
@limit_option("run tokens")
def run_tokens_list(context: Context, profile: str | None, as_json: bool, limit: int | None) -> None:
    """List your live agent run tokens (never their values), newest first.

    Live means unexpired and not revoked, minted by a personal access token that is still live
    (PARENT: deleting that token revokes its run tokens too).

    \b
    Examples:
      oi settings personal run-tokens list
      oi settings personal run-tokens list --limit 10 --profile work --json
    """
    items, more = listed(context.api(context.settings(profile)), api_path("me", "agent-run-tokens"), limit)
    if as_json:
        emit_json({"items": items, "more": more})
        return
    rows = [(t["id"], t["agentId"], t["stage"] or "-", t["parentId"], when(t["expiresAt"]), when(t["createdAt"]))
            for t in items]
    click.echo(table(("ID", "AGENT", "STAGE", "PARENT", "EXPIRES", "CREATED"), rows))
    for narrowed in [t for t in items if t.get("scope") == "custom"]:  # narrowed at its mint
        click.echo(printable(f"{narrowed['id']} may {grant_in_words(narrowed.get('permissions') or {})}"))
    say_if_more(more, len(items), "run tokens")


@run_tokens.command("delete", short_help="Delete a run token: it stops working at once.")
@request_options
@click.argument("run_id")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
def run_tokens_delete(context: Context, profile: str | None, as_json: bool, run_id: str, yes: bool) -> None:
    """Delete an agent run token by its id (as `run-tokens list` shows it): it stops working at
    once, so the agent run holding it is refused from its next request.

    \b
    Examples:
      oi settings personal run-tokens delete run_01jdx7k2m4c8b3n5q6r7s8t9v0
      oi settings personal run-tokens delete run_01jdx7k2m4c8b3n5q6r7s8t9v0 --yes
    """
    delete_own_token(context, profile, as_json, yes, argument="RUN_ID", what="run token", item_id=run_id,
                     problem=shapes.run_id_problem(run_id), collection="agent-run-tokens")
