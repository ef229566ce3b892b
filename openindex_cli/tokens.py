"""`oi settings personal tokens`: list, create, delete and revoke-all your personal access
tokens (rotate is token_rotation.py, added here)."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import click

from openindex_cli import durations, expiry, shapes
from openindex_cli.api import ME_KEYS, RUN_TOKEN_REFUSED, api_path
from openindex_cli.commands import (
    Context,
    HelpGroup,
    confirm_at_terminal,
    expires_at_option,
    limit_option,
    listed,
    name_option,
    request_options,
    say_if_more,
)
from openindex_cli.errors import EXIT_FORBIDDEN, CliError
from openindex_cli.grant_words import grant_in_words, used_in_words
from openindex_cli.output import emit_json, printable, shorten, table
from openindex_cli.token_deletion import delete_own_token
from openindex_cli.token_narrowing import tokens_narrow
from openindex_cli.token_rotation import tokens_rotate
from openindex_cli.tokens_grant import grant_option
from openindex_cli.wording import for_people, parse_time, when, when_here

USER_AGENT_WIDTH = 24  # in the tokens table; --json has it whole
EXPIRES_SOON = timedelta(days=7)  # a token expiring sooner is pointed out under the table, as the web UI marks it


@click.group(cls=HelpGroup)
def tokens() -> None:
    """Personal access tokens."""


tokens.add_command(tokens_rotate)
tokens.add_command(tokens_narrow)


@tokens.command("list", short_help="List your tokens, never their values.")
@request_options
@limit_option("tokens")
def tokens_list(context: Context, profile: str | None, as_json: bool, limit: int | None) -> None:
    """List your tokens (never their values), newest first: STATUS says whether each works
    (active), works until the end of its grace window (rotated), or does not (blocked: rotated
    past its window, or blocked by the token policy; a line under the table says why). Lines
    under the table also say what each token was seen to use, and how to narrow it to that.

    \b
    Examples:
      oi settings personal tokens list
      oi settings personal tokens list --limit 5
      oi settings personal tokens list --profile work --json
    """
    items, more = listed(context.api(context.settings(profile)), api_path("me", "pats"), limit)
    if as_json:
        emit_json({"items": items, "more": more})
        return
    rows = [(t["id"], t["name"], t["scope"], _status(t), when(t["createdAt"]),
             when(t["expiresAt"]) + (" *" if _in_grace(t) else ""), when(t["lastUsedAt"], missing="-"),
             t.get("lastUsedIp") or "-", shorten(t.get("lastUsedUserAgent") or "-", USER_AGENT_WIDTH))
            for t in items]
    click.echo(table(("ID", "NAME", "SCOPE", "STATUS", "CREATED", "EXPIRES", "LAST USED", "IP", "USER AGENT"), rows))
    for rotated in [t for t in items if _in_grace(t)]:
        click.echo(printable(f"* {rotated['id']} was rotated to {rotated['rotatedTo']}: it stops working at its "
                             "EXPIRES, the end of its grace window."))
    for blocked in [t for t in items if t.get("blocked")]:
        click.echo(printable(f"! {blocked['id']} does not work: "
                             f"{for_people(str(blocked['blocked'].get('message', '')), context.zone)}"))
    for soon, ends in _expiring_soon(items, context.now()):
        click.echo(printable(f"! {soon['id']} expires {durations.in_words(ends - context.now())} "
                             f"({when(soon['expiresAt'])}): rotate it before then "
                             f"(oi settings personal tokens rotate {soon['id']})"))
    for custom in [t for t in items if t.get("scope") == "custom"]:
        click.echo(printable(f"{custom['id']} may {grant_in_words(custom.get('permissions') or {})}"))
    for ranged in [t for t in items if t.get("allowedIps")]:
        click.echo(printable(f"{ranged['id']} works only from {', '.join(ranged['allowedIps'])}"))
    for used in [t for t in items if t.get("usedSince")]:
        click.echo(printable(f"{used['id']} used since {when(used['usedSince'])}: {used_in_words(used)}"))
        if used.get("narrowToUsed"):
            click.echo(f"  narrow it to that: oi settings personal tokens narrow {used['id']} --to-used")
    say_if_more(more, len(items), "tokens")


def _status(token: dict[str, Any]) -> str:
    """What a listed token is now: blocked (the server says why: rotated past its grace window, or
    by the token policy), rotated (still in its grace window), or active."""
    if token.get("blocked"):
        return "blocked"
    return "rotated" if token.get("rotatedTo") else "active"


def _expiring_soon(items: list[dict[str, Any]], now: datetime) -> list[tuple[dict[str, Any], datetime]]:
    """The working tokens (not rotated, not blocked) that stop within EXPIRES_SOON, and when."""
    ending = [(token, parse_time(str(token.get("expiresAt") or ""))) for token in items
              if not token.get("rotatedTo") and not token.get("blocked")]
    return [(token, ends) for token, ends in ending if ends is not None and now < ends <= now + EXPIRES_SOON]


def _in_grace(token: dict[str, Any]) -> bool:
    """Rotated, and still working until the end of its grace window (its expiry)."""
    return bool(token.get("rotatedTo")) and not token.get("blocked")


@tokens.command("create", short_help="Create a token; its value is printed once.")
@request_options
@click.option("--name", required=True, help="a name to recognise the token by")
@click.option("--scope", type=click.Choice(["read", "read_write", "admin"]),
              help="what the token may do: read (read-only), read_write, or admin (needs an admin token)")
@click.option("--permission", "permissions", multiple=True, metavar="FAMILY=LEVEL",
              help="instead of --scope, family by family (repeatable): work_items=read, workflows=write, …")
@click.option("--expires-at", metavar="WHEN", help=f"when it stops working: {expiry.FORMATS} (default: never)")
@click.option("--allow-ip", "allowed_ips", multiple=True, metavar="CIDR",
              help="an address or range it may be used from (repeatable, at most 10; default: the token in use's)")
def tokens_create(context: Context, profile: str | None, as_json: bool, name: str, scope: str | None,
                  permissions: tuple[str, ...], expires_at: str | None, allowed_ips: tuple[str, ...]) -> None:
    """Create a token; its value is printed once, on standard output.

    \b
    Examples:
      oi settings personal tokens create --name "local cli" --scope read_write
      oi settings personal tokens create --name ci --scope read_write --expires-at 30d
      oi settings personal tokens create --name dashboard --scope read --expires-at 90d
      oi settings personal tokens create --name ops --scope admin --expires-at 2027-01-01
      oi settings personal tokens create --name triage --permission work_items=write
      oi settings personal tokens create --name office --scope read --allow-ip 203.0.113.0/24
    """
    body: dict[str, Any] = {"name": name_option("--name", name), **grant_option(scope, permissions)}
    if allowed_ips:
        body["allowedIps"] = list(allowed_ips)
    if expires_at is not None:
        body["expiresAt"] = expires_at_option(expires_at, context)
    created = context.api(context.settings(profile)).call(
        "POST", api_path("me", "pats"), body=body, expect=("id", "name", "scope", "expiresAt", "token"))
    if as_json:
        emit_json(created)
        return
    ranges = f", works only from {', '.join(created['allowedIps'])}" if created.get("allowedIps") else ""
    click.echo(f"Created token '{created['name']}' ({created['id']}), scope {created['scope']}, "
               f"expires {when_here(created['expiresAt'], context.zone)}{ranges}.", err=True)
    click.echo(created["token"])
    click.echo("Copy it now: it cannot be shown again.", err=True)


@tokens.command("delete", short_help="Delete a token: it stops working at once.")
@request_options
@click.argument("token_id")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
def tokens_delete(context: Context, profile: str | None, as_json: bool, token_id: str, yes: bool) -> None:
    """Delete a token by its id (as `tokens list` shows it): it stops working at once.

    \b
    Examples:
      oi settings personal tokens delete pat_01jdx7k2m4c8b3n5q6r7s8t9v0
      oi settings personal tokens delete pat_01jdx7k2m4c8b3n5q6r7s8t9v0 --yes
    """
    delete_own_token(context, profile, as_json, yes, argument="TOKEN_ID", what="token", item_id=token_id,
                     problem=shapes.pat_id_problem(token_id), collection="pats")


@tokens.command("revoke-all", short_help="Revoke every token of yours, the one in use included.")
@request_options
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
def tokens_revoke_all(context: Context, profile: str | None, as_json: bool, yes: bool) -> None:
    """Revoke every personal access token and agent run token of your account, including the one
    this command uses: for a token that leaked, or a machine that was lost.

    Every token issued until now is refused from the next request, wherever it is saved or used,
    with no undo. To get back in, ask an admin for a re-access link and claim it with
    `oi invites claim`.

    \b
    Examples:
      oi settings personal tokens revoke-all
      oi settings personal tokens revoke-all --profile work --yes
    """
    settings = context.settings(profile)
    api = context.api(settings)
    me = api.call("GET", api_path("me"), expect=ME_KEYS)  # whose tokens, named in the question
    if me["token"].get("kind") == "agent_run":
        raise CliError(RUN_TOKEN_REFUSED, EXIT_FORBIDDEN)
    confirm_at_terminal(f"Revoke every personal access token and agent run token of {me['email']}, including the "
                        f"one this command uses (from {settings.token_label})? There is no undo.",
                        verb="revoke", done="revoked", yes=yes, piped_answer=True)
    api.call("POST", api_path("me", "pats", "revoke-all"))
    if as_json:
        emit_json({"revokedAll": True, "userId": me["id"], "email": me["email"],
                   "tokenSource": settings.token_source})
        return
    click.echo(f"Revoked every token of {me['email']} ({me['id']}) issued until now.")
    click.echo(f"The token from {settings.token_label} no longer works either. To get a new one, ask an admin "
               f"for a re-access link for {me['id']} and claim it with `oi invites claim`.")
    if me["role"] == "admin":
        click.echo("If no other admin is left, an operator with access to the table gets you one with "
                   f"`make bootstrap STAGE=<stage> EMAIL={me['email']}`; on this machine's `make run`, "
                   "restarting it prints a new admin token.")
