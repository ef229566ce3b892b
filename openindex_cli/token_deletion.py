"""Deleting one of your own tokens (a personal access token or an agent run token): the
shared body of `tokens delete` and `run-tokens delete`."""
from __future__ import annotations

from datetime import tzinfo
from typing import Any

import click

from openindex_cli.api import ME_KEYS, api_path
from openindex_cli.commands import Context, confirm_at_terminal, every_page
from openindex_cli.errors import EXIT_REFUSED, EXIT_USAGE, CliError
from openindex_cli.output import emit_json, printable
from openindex_cli.wording import when_here


def delete_own_token(context: Context, profile: str | None, as_json: bool, yes: bool, *, argument: str,
                     what: str, item_id: str, problem: str | None, collection: str) -> None:
    """Delete one of the caller's tokens: the id's shape first, then the configuration, then
    (unless --yes) the token found in its list and the question naming it, then the request."""
    if problem is not None:
        raise CliError(f"{argument}: {problem}", EXIT_USAGE)
    settings = context.settings(profile)
    api = context.api(settings)
    api.check()  # a configuration error comes before the question, not after the answer
    named = item_id
    if not yes:
        found = next((item for item in every_page(api, api_path("me", collection)) if item.get("id") == item_id),
                     None)
        if found is None:  # what the server would answer, without a question about nothing
            long_name, group = _COLLECTIONS[collection]
            raise CliError(f"No {long_name} with this id among yours; `oi settings personal {group} list` shows them.",
                           EXIT_REFUSED)
        named = _named(what, found, context.zone)
        question = f"Delete {what} {named}? It stops working at once."
        if what == "token" and api.call("GET", api_path("me"), expect=ME_KEYS)["token"]["id"] == item_id:
            question += (f" It is the token this command uses (from {settings.token_label}): oi has no working token "
                         "there until you store another.")
        confirm_at_terminal(printable(question), verb="delete", done="deleted", yes=yes, piped_answer=True)
    api.call("DELETE", api_path("me", collection, item_id))
    if as_json:
        emit_json({"deleted": item_id})
    else:
        click.echo(printable(f"Deleted {what} {named}."))


# Each collection of the caller's tokens: what its items are called, and the group listing them.
_COLLECTIONS = {"pats": ("personal access token", "tokens"), "agent-run-tokens": ("agent run token", "run-tokens")}


def _named(what: str, item: dict[str, Any], zone: tzinfo | None) -> str:
    """A token as a person knows it: a PAT by its name, a run token by its agent and stage."""
    if what == "token":
        return (f"'{item.get('name')}' ({item['id']}, {item.get('scope')}, created "
                f"{when_here(item.get('createdAt'), zone)}, last used {when_here(item.get('lastUsedAt'), zone)})")
    stage = f", stage {item['stage']}" if item.get("stage") else ""
    return f"{item['id']} (agent {item.get('agentId')}{stage}, expires {when_here(item.get('expiresAt'), zone)})"
