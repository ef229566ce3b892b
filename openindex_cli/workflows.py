"""`oi workflows run-tokens create`: mint an agent run token for one workflow run, from the
profile's person's token, for the profile's agent by default. Its value is printed once."""
from __future__ import annotations

from typing import Any

import click

from openindex_cli import durations
from openindex_cli.api import api_path
from openindex_cli.commands import Context, HelpGroup, name_option, request_options
from openindex_cli.errors import EXIT_USAGE, CliError
from openindex_cli.grant_words import grant_in_words
from openindex_cli.output import emit_json, printable
from openindex_cli.tokens_grant import permissions_option
from openindex_cli.wording import parse_time, when_here

RUN_TOKEN_KEYS = ("id", "agentId", "token", "expiresAt")
SHORTEST_SECONDS = 60  # the API's range for expiresInSeconds
LONGEST_SECONDS = 86400


@click.group(cls=HelpGroup, short_help="Workflow runs: agent run tokens.")
def workflows() -> None:
    """Workflows: tokens for agent runs."""


@workflows.group("run-tokens", cls=HelpGroup, short_help="Agent run tokens: mint one for a run.")
def run_tokens() -> None:
    """Agent run tokens: short-lived read_write tokens for one workflow agent run, minted from a
    person's read_write token (list and delete them with `oi settings personal run-tokens`)."""


@run_tokens.command("create", short_help="Mint a run token for an agent; its value is printed once.")
@request_options
@click.option("--agent-id", metavar="ID", help="the agent the run is for (default: the profile's agent id)")
@click.option("--stage", metavar="STAGE", help="the workflow stage the run is for")
@click.option("--expires-in", metavar="DURATION",
              help=f"how long it works: {durations.GRACE_FORMATS}, 1 minute to 1 day (default: 1 hour, or the "
                   "token policy's longest if shorter)")
@click.option("--permission", "permissions", multiple=True, metavar="FAMILY=LEVEL",
              help="only what the run needs (repeatable): work_items=read, workflows=write, … "
                   "(default: all your token's read_write families)")
def run_tokens_create(context: Context, profile: str | None, as_json: bool, agent_id: str | None,
                      stage: str | None, expires_in: str | None, permissions: tuple[str, ...]) -> None:
    """Mint an agent run token for one workflow run: read_write (or only what --permission
    gives), for one agent (and stage), and short-lived. Its value goes to standard output, once;
    the other lines go to standard error. It needs a person's read_write token: an admin-scope
    token or a run token is refused. Deleting the token that minted it revokes it too.

    \b
    Examples:
      oi workflows run-tokens create                        # for the profile's agent id
      oi workflows run-tokens create --agent-id agent-alpha --stage build --expires-in 30m
      oi workflows run-tokens create --stage triage --permission work_items=read
    """
    settings = context.settings(profile)
    agent = agent_id if agent_id is not None else settings.agent_id
    if agent is None:
        raise CliError("--agent-id: give the agent the run is for, or store one in the profile with "
                       f"`oi profile set{settings.profile_option} --agent-id ID`", EXIT_USAGE)
    body: dict[str, Any] = {"agentId": name_option("--agent-id", agent, "an agent id")}
    if stage is not None:
        body["stage"] = name_option("--stage", stage, "a stage")
    if expires_in is not None:
        body["expiresInSeconds"] = _lifetime(expires_in)
    if permissions:
        body["permissions"] = permissions_option(permissions)
    minted = context.api(settings).call("POST", api_path("workflows", "agent-run-tokens"), body=body,
                                        expect=RUN_TOKEN_KEYS)
    if as_json:
        emit_json(minted)
        return
    stage_said = f", stage {minted['stage']}" if minted.get("stage") else ""
    # Counted from when the server made it, not from now: a run of this command takes a moment.
    expires, made = parse_time(str(minted["expiresAt"])), parse_time(str(minted.get("createdAt")))
    left = f" ({durations.in_words(expires - (made or context.now()))})" if expires else ""
    narrowed = f", narrowed to {grant_in_words(minted['permissions'])}" if minted.get("scope") == "custom" else ""
    click.echo(printable(f"Created run token {minted['id']} for agent {minted['agentId']}{stage_said}{narrowed}, "
                         f"expires {when_here(minted['expiresAt'], context.zone)}{left}."), err=True)
    click.echo(minted["token"])
    click.echo("Copy it now: it cannot be shown again.", err=True)


def _lifetime(text: str) -> int:
    """--expires-in as seconds in the API's range; bad input is a usage error, in words."""
    try:
        return durations.seconds(text, SHORTEST_SECONDS, LONGEST_SECONDS)
    except durations.DurationError as error:
        raise CliError(f"--expires-in: {error}", EXIT_USAGE) from None
