"""The `oi` commands. Every command takes --profile and --json."""
from __future__ import annotations

import functools
import re
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from importlib import metadata
from typing import Any

import click

from openindex_cli import config, durations, expiry, shapes, signals
from openindex_cli.admin import admin
from openindex_cli.api import RUN_TOKEN_REFUSED, Api, api_path
from openindex_cli.commands import (
    INSECURE_HELP,
    PROFILE_HELP,
    Context,
    HelpGroup,
    command_options,
    confirm_at_terminal,
    every_page,
    expires_at_option,
    limit_option,
    listed,
    name_option,
    request_options,
    say_if_more,
    stdin_is_terminal,
)
from openindex_cli.errors import EXIT_CONFIG, EXIT_FORBIDDEN, EXIT_REFUSED, EXIT_UNAUTHORIZED, EXIT_USAGE, CliError
from openindex_cli.output import emit_json, mask, printable, shorten, table
from openindex_cli.security_events import security_events
from openindex_cli.wording import for_people, local_time, when, when_here
from openindex_cli.workflows import workflows

ARGV_TOKEN_WARNING = (
    "oi: warning: a token on the command line can end up in your shell history and process "
    "list; prefer `--token -` (reads standard input) or the OPENINDEX_TOKEN variable"
)
ARGV_INVITE_WARNING = (
    "oi: warning: an invite on the command line can end up in your shell history and process "
    "list; prefer `oi invites claim -` (reads the link or token from standard input, or asks without echo at a "
    "terminal)"
)
DISTRIBUTION = "openindex-auth"  # whose installed version --version shows
ME_KEYS = ("id", "email", "role", "token")  # what GET /me answers, checked before it is shown
INVITE_LINK_MARKER = "/invite#token="  # inviteUrl is $APP_URL/invite#token=oi_inv_…
RE_ACCESS_TOKEN_NAME = "re-access link"  # what the server names the PAT a re-access link gives
ROTATED_KEYS = ("id", "name", "scope", "token", "expiresAt", "createdAt")
SELF = "self"  # the token id that names the calling token
ALREADY_ROTATED = "already_rotated"  # the API's 409 code for a second rotation of one token
_ROTATE_INSTEAD = re.compile(r"; rotate pat_\w+ instead\.$")  # the 409's advice, right for an id, not for self
USER_AGENT_WIDTH = 24  # in the tokens table; --json has it whole



def _show_version(click_context: click.Context, _: click.Parameter, value: bool) -> None:
    """--version: the installed openindex-auth distribution's version."""
    if not value or click_context.resilient_parsing:
        return
    try:
        version = metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        version = "(unknown: not installed as a package)"
    click.echo(f"oi {version}")
    click_context.exit(0)


@click.group(cls=HelpGroup, context_settings={"max_content_width": 100})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_show_version,
              help="show the version and exit")
@click.option("--profile", "profile", default=None, metavar="NAME", help=PROFILE_HELP)
@click.option("--insecure", is_flag=True, help=INSECURE_HELP)
@click.pass_context
def oi(click_context: click.Context, profile: str | None, insecure: bool) -> None:
    """OpenIndex command line: profiles, token checks, your tokens, run tokens and security log, invites,
    and administration.

    \b
    Examples:
      echo "$OPENINDEX_ADMIN_TOKEN" | oi profile set --app-url http://127.0.0.1:8000 --token -
      oi auth check
      oi --profile work settings personal tokens list
    """
    context = click_context.ensure_object(Context)
    context.insecure = insecure
    context.profile = profile


# oi profile


@oi.group()
def profile() -> None:
    """Store and show connection profiles."""


@profile.command("set", short_help="Set fields of a profile, creating it if needed.")
@command_options
@click.option("--app-url", help="base URL of the OpenIndex API")
@click.option("--token", help="personal access token, or '-' to read it from standard input")
@click.option("--agent-id", help="workflow agent id to act as")
@click.option("--insecure/--no-insecure", "insecure", default=None,
              help="allow plain http:// to this profile's app URL, or no longer")
def profile_set(context: Context, profile: str | None, as_json: bool, app_url: str | None,
                token: str | None, agent_id: str | None, insecure: bool | None) -> None:
    """Set fields of a profile, keeping the others; the profile is created if needed.

    \b
    Examples:
      echo "$OPENINDEX_ADMIN_TOKEN" | oi profile set --app-url http://127.0.0.1:8000 --token -
      oi profile set --profile work --app-url https://openindex.example.com
      oi profile set --profile lab --insecure     # allow http:// to the lab's app URL
    """
    settings = context.settings(profile, must_exist=False)
    if token == "-":
        token = sys.stdin.readline().strip()
        if not token:
            raise CliError("no token on standard input", EXIT_CONFIG)
    elif token is not None:
        click.echo(ARGV_TOKEN_WARNING, err=True)
    if token is not None:
        _check_new_token(token)
    given: tuple[tuple[str, str | bool | None], ...] = (
        ("app_url", app_url), ("token", token), ("agent_id", agent_id), ("insecure", insecure))
    changes = {key: value for key, value in given if value is not None}
    if not changes:
        raise click.UsageError("give at least one of --app-url, --token, --agent-id, --insecure/--no-insecure")
    config.save_profile(settings.path, settings.profile, changes)
    if as_json:
        emit_json({"profile": settings.profile, "configFile": str(settings.path), "updated": sorted(changes)})
    else:
        click.echo(f"Saved {', '.join(sorted(changes))} to profile '{settings.profile}' ({settings.path}).")


@profile.command("show", short_help="Show a profile, the token masked.")
@command_options
def profile_show(context: Context, profile: str | None, as_json: bool) -> None:
    """Show a profile: app URL, agent id, the token (masked) and where each comes from.

    \b
    Examples:
      oi profile show
      oi profile show --profile work --json
    """
    settings = context.settings(profile)
    shown = {
        "profile": settings.profile,
        "configFile": str(settings.path),
        "appUrl": settings.app_url,
        "appUrlSource": settings.app_url_source,
        "agentId": settings.agent_id,
        "token": mask(settings.token) if settings.token else None,
        "tokenSource": settings.token_source,
        "insecure": settings.insecure,
    }
    if as_json:
        emit_json(shown)
        return
    rows = [
        ("profile:", f"{settings.profile} ({settings.path})"),
        ("app URL:", _with_source(settings.app_url, settings.app_url_source)),
        ("agent id:", settings.agent_id or "(not set)"),
        ("token:", _with_source(mask(settings.token) if settings.token else None, settings.token_source)),
    ]
    if settings.insecure:
        rows.append(("insecure:", "yes: plain http:// allowed to the profile's app URL"))
    click.echo(table(("", ""), rows))


@profile.command("list", short_help="List the profiles, tokens masked.")
@command_options
def profile_list(context: Context, profile: str | None, as_json: bool) -> None:
    """List the profiles in the config file: app URL and token (masked).

    \b
    Examples:
      oi profile list
      oi profile list --json
    """
    settings = context.settings(profile, must_exist=False)
    profiles = sorted(config.load(settings.path).items())
    if as_json:
        emit_json({"configFile": str(settings.path), "inUse": settings.profile, "profiles": [
            {"name": name, "appUrl": config.text(values, "app_url"), "token": _masked(values),
             "agentId": config.text(values, "agent_id"), "insecure": values.get("insecure") is True}
            for name, values in profiles]})
        return
    if not profiles:
        click.echo(f"oi: no profiles in {settings.path}; create one with `oi profile set`", err=True)
        return
    click.echo(table(("PROFILE", "APP URL", "TOKEN"), [
        (name + (" (in use)" if name == settings.profile else ""),
         config.text(values, "app_url") or "(not set)", _masked(values) or "(not set)")
        for name, values in profiles]))


def _masked(values: config.Profile) -> str | None:
    """A stored profile's token, masked; None when it has none."""
    token = config.text(values, "token")
    return mask(token) if token else None


def _check_new_token(token: str) -> None:
    """Only a token's shape is stored, so a placeholder fails here, not at the next command."""
    problem = shapes.token_problem(token)
    if problem is not None:
        raise CliError(shapes.not_a_token("the value of --token", problem), EXIT_USAGE)


def _with_source(value: str | None, source: str | None) -> str:
    return f"{value} (from {source})" if value else "(not set)"


# oi auth


@oi.group()
def auth() -> None:
    """Check credentials."""


@auth.command("check", short_help="Check the token in force against the API.")
@request_options
def auth_check(context: Context, profile: str | None, as_json: bool) -> None:
    """Check the token against the API (GET /me): exit 0 when valid, 4 when refused (401).

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
        ("expires:", when(token["expiresAt"])),
    ]
    click.echo(f"Token is valid for {settings.app_url}")
    click.echo(table(("", ""), rows))


# oi settings personal tokens


@oi.group()
def settings() -> None:
    """Your own settings (needs a human-owned personal access token)."""


@settings.group()
def personal() -> None:
    """Personal settings."""


@personal.group()
def tokens() -> None:
    """Personal access tokens."""


personal.add_command(security_events)


@tokens.command("list", short_help="List your tokens, never their values.")
@request_options
@limit_option("tokens")
def tokens_list(context: Context, profile: str | None, as_json: bool, limit: int | None) -> None:
    """List your tokens (never their values), newest first: STATUS says whether each works
    (active), works until the end of its grace window (rotated), or does not (blocked: rotated
    past its window, or blocked by the token policy; a line under the table says why).

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
    say_if_more(more, len(items), "tokens")


def _status(token: dict[str, Any]) -> str:
    """What a listed token is now: blocked (the server says why: rotated past its grace window, or
    by the token policy), rotated (still in its grace window), or active."""
    if token.get("blocked"):
        return "blocked"
    return "rotated" if token.get("rotatedTo") else "active"


def _in_grace(token: dict[str, Any]) -> bool:
    """Rotated, and still working until the end of its grace window (its expiry)."""
    return bool(token.get("rotatedTo")) and not token.get("blocked")


@tokens.command("create", short_help="Create a token; its value is printed once.")
@request_options
@click.option("--name", required=True, help="a name to recognise the token by")
@click.option("--scope", required=True, type=click.Choice(["read_write", "admin"]),
              help="what the token may do; admin needs an admin token to create it")
@click.option("--expires-at", metavar="WHEN", help=f"when it stops working: {expiry.FORMATS} (default: never)")
def tokens_create(context: Context, profile: str | None, as_json: bool,
                  name: str, scope: str, expires_at: str | None) -> None:
    """Create a token; its value is printed once, on standard output.

    \b
    Examples:
      oi settings personal tokens create --name "local cli" --scope read_write
      oi settings personal tokens create --name ci --scope read_write --expires-at 30d
      oi settings personal tokens create --name ops --scope admin --expires-at 2027-01-01
    """
    body: dict[str, Any] = {"name": name_option("--name", name), "scope": scope}
    if expires_at is not None:
        body["expiresAt"] = expires_at_option(expires_at, context)
    created = context.api(context.settings(profile)).call(
        "POST", api_path("me", "pats"), body=body, expect=("id", "name", "scope", "expiresAt", "token"))
    if as_json:
        emit_json(created)
        return
    click.echo(f"Created token '{created['name']}' ({created['id']}), scope {created['scope']}, "
               f"expires {when_here(created['expiresAt'], context.zone)}.", err=True)
    click.echo(created["token"])
    click.echo("Copy it now: it cannot be shown again.", err=True)


@tokens.command("rotate", short_help="Replace a token with a new one; the old one stops after --grace.")
@request_options
@click.argument("token_id", metavar="ID|self")
@click.option("--grace", default="0", metavar="DURATION",
              help=f"how long the old token keeps working: {durations.GRACE_FORMATS}, at most 1d "
                   "(default: 0, refused from the next request)")
@click.option("--expires-at", metavar="WHEN|never",
              help=f"when the new token stops working: {expiry.FORMATS}, or never "
                   "(default: a fresh lifetime as long as the old token's)")
@click.option("--save", is_flag=True,
              help="with self: store the new token in the profile in use, in place of the old one")
def tokens_rotate(context: Context, profile: str | None, as_json: bool, token_id: str, grace: str,
                  expires_at: str | None, save: bool) -> None:
    """Replace a token (ID as `tokens list` shows it, or self: the one this command uses) with a
    new one of the same name and scope. The new value is printed once; the old token keeps working
    for --grace, so whatever still holds it can be moved over.

    With self --save, the new token goes straight into the profile in use, so an agent can rotate
    its own token in one command.

    \b
    Examples:
      oi settings personal tokens rotate self --save
      oi settings personal tokens rotate pat_01jdx7k2m4c8b3n5q6r7s8t9v0 --grace 1h
      oi settings personal tokens rotate self --save --expires-at 30d --profile agent
    """
    _check_rotate_target(token_id, save)
    body: dict[str, Any] = {"graceSeconds": _grace(grace)}
    if expires_at is not None:
        never = expires_at.strip().lower() == "never"
        body["expiresAt"] = None if never else expires_at_option(expires_at, context)
    settings = context.settings(profile)
    if save:
        _check_can_save(settings)
    old_expiry: list[str] = []  # for self, the header names the rotated token: no warning, only its expiry
    api = context.api(settings, on_expiry=(lambda expires, _: old_expiry.append(expires)) if token_id == SELF else None)
    try:
        rotated = api.call("POST", api_path("me", "pats", token_id, "rotate"), body=body, expect=ROTATED_KEYS)
    except CliError as error:
        if token_id == SELF and error.code == ALREADY_ROTATED:
            raise _rotated_elsewhere(error, settings) from None
        raise
    old = _OldToken.of(rotated, token_id, body["graceSeconds"], old_expiry, context.now())
    if save:
        _save_successor(settings, rotated, old, as_json, context)
    if as_json:
        shown = {key: value for key, value in rotated.items() if not (save and key == "token")}
        emit_json({**shown, **old.as_json(), "savedToProfile": settings.profile if save else None})
        return
    echo = functools.partial(click.echo, err=not save)  # without --save, stdout holds the token alone
    echo(printable(f"Rotated token '{rotated['name']}' ({old.id}): the new one is {rotated['id']}, "
                   f"scope {rotated['scope']}, expires {when_here(rotated['expiresAt'], context.zone)}."))
    if save:
        echo(f"Saved it to profile '{settings.profile}' as {mask(rotated['token'])}.")
    else:
        click.echo(rotated["token"])
    echo(old.in_words(context.now(), context.zone))
    if not save:
        if token_id == SELF:
            echo(_still_holds_the_old_token(settings))
        echo("Copy it now: it cannot be shown again.")


def _rotated_elsewhere(error: CliError, settings: config.Settings) -> CliError:
    """`rotate self` of a token already rotated (in the web UI, or by another copy of the profile):
    rotating its successor from here would make yet another token nobody holds. What is wanted is
    the successor made then, stored where this token came from."""
    said = _ROTATE_INSTEAD.sub(".", error.message)
    return CliError(f"{said} {settings.successor_fix}", EXIT_REFUSED,
                    server_message=error.server_message, code=error.code)


def _check_rotate_target(token_id: str, save: bool) -> None:
    """A PAT id or self, and --save only with self: refused before anything is read or sent."""
    if token_id != SELF:
        if shapes.run_id_problem(token_id) is None:
            raise CliError("ID: that is an agent run token's id; run tokens are not rotated (they live a day at "
                           "most): mint a new one", EXIT_USAGE)
        problem = shapes.pat_id_problem(token_id)
        if problem is not None:
            raise CliError(f"ID: {problem}, or self for the token in use", EXIT_USAGE)
    if save and token_id != SELF:
        raise CliError("--save works only with `rotate self`: it replaces the token of the profile in use; "
                       "for another token, store the printed value where that token is used", EXIT_USAGE)


def _grace(text: str) -> int:
    """--grace as seconds; bad input is a usage error, in words."""
    try:
        return durations.grace_seconds(text)
    except durations.DurationError as error:
        raise CliError(f"--grace: {error}", EXIT_USAGE) from None


def _check_can_save(settings: config.Settings) -> None:
    """Refuse --save before rotating when the successor would have nowhere to go."""
    if settings.token_source == config.ENV_TOKEN:
        raise CliError(f"--save: the token in use comes from {config.ENV_TOKEN}, not from profile "
                       f"'{settings.profile}', so nothing was rotated; unset {config.ENV_TOKEN} to rotate the "
                       f"profile's token, or leave out --save and set {config.ENV_TOKEN} to the new token",
                       EXIT_USAGE)
    try:
        config.check_writable(settings.path)
    except CliError as error:
        raise CliError(f"--save: {error.message}, so nothing was rotated", EXIT_CONFIG) from None


@dataclass(frozen=True)
class _OldToken:
    """The rotated token: its id, and when it stops working (``exact`` False: at the latest)."""

    id: str
    grace_seconds: int
    stops: datetime
    exact: bool

    @classmethod
    def of(cls, rotated: dict[str, Any], token_id: str, grace_seconds: int, old_expiry: list[str],
           now: datetime) -> _OldToken:
        """The server's window starts at the successor's createdAt and never outlasts the old
        token's own expiry, which only self learns (the response's OpenIndex-Token-Expires names
        the calling token): for another id the end is an upper bound."""
        start = signals.parse_time(str(rotated["createdAt"])) or now
        stops = start + timedelta(seconds=grace_seconds)
        own_expiry = signals.parse_time(old_expiry[0]) if old_expiry else None
        if own_expiry is not None:
            stops = min(stops, own_expiry)
        return cls(str(rotated.get("rotatedFrom") or token_id), grace_seconds, stops,
                   exact=grace_seconds == 0 or token_id == SELF)

    def as_json(self) -> dict[str, str]:
        return {"oldStopsAt": self.stops.strftime("%Y-%m-%dT%H:%M:%SZ")}

    def in_words(self, now: datetime, zone: tzinfo | None) -> str:
        if self.grace_seconds == 0 or self.stops <= now:
            return f"The old token {self.id} stops working now."
        return (f"The old token {self.id} keeps working until {local_time(self.stops, zone)} "
                f"({durations.in_words(self.stops - now)})"
                + ("." if self.exact else " at the latest (sooner if it expires before)."))


def _still_holds_the_old_token(settings: config.Settings) -> str:
    """What to do when self was rotated without --save: where the token came from holds a dead one."""
    label = settings.token_label
    if settings.token_source == config.ENV_TOKEN:
        return f"{label} still holds the old token: set it to the new one."
    return (f"{label[0].upper()}{label[1:]} still holds the old token: store the new one with "
            f"`oi profile set{settings.profile_option} --token -` (or rotate with --save next time).")


def _save_successor(settings: config.Settings, rotated: dict[str, Any], old: _OldToken, as_json: bool,
                    context: Context) -> None:
    """Store the successor in the profile in use; if that fails, the token the server made is
    printed rather than lost, with what to do, and the command fails (exit 3)."""
    try:
        config.save_profile(settings.path, settings.profile, {"token": rotated["token"]})
    except CliError as error:
        if as_json:
            emit_json({**rotated, **old.as_json(), "savedToProfile": None})
        else:
            click.echo(rotated["token"])
        raise CliError(f"rotated, but the new token could not be saved: {error.message}. It is printed on standard "
                       f"output, once: store it with `oi profile set{settings.profile_option} --token -` now. "
                       f"{old.in_words(context.now(), context.zone)}", EXIT_CONFIG) from None


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
    _delete_one(context, profile, as_json, yes, argument="TOKEN_ID", what="token", item_id=token_id,
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


# oi settings personal run-tokens


@personal.group("run-tokens", short_help="Agent run tokens minted from your tokens.")
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
    _delete_one(context, profile, as_json, yes, argument="RUN_ID", what="run token", item_id=run_id,
                problem=shapes.run_id_problem(run_id), collection="agent-run-tokens")


def _delete_one(context: Context, profile: str | None, as_json: bool, yes: bool, *, argument: str, what: str,
                item_id: str, problem: str | None, collection: str) -> None:
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


# oi admin (openindex_cli/admin/)

oi.add_command(admin)


# oi workflows (openindex_cli/workflows.py)

oi.add_command(workflows)


# oi invites


@oi.group()
def invites() -> None:
    """Invites to an OpenIndex instance."""


@invites.command("claim", short_help="Claim an invite or a re-access link: a new token.")
@request_options
@click.argument("invite_token", default="-", metavar="[INVITE_LINK|INVITE_TOKEN|-]")
@click.option("--app-url", help="base URL of the OpenIndex API (default: the profile's, else the link's)")
@click.option("--save/--no-save", default=None,
              help="save the new token into the profile (default: ask; a token already there is only "
                   "replaced after an explicit yes)")
def invites_claim(context: Context, profile: str | None, as_json: bool,
                  invite_token: str, app_url: str | None, save: bool | None) -> None:
    """Claim an invite (your new account and its first token) or a re-access link (a new token
    for your existing account, from an admin: after `tokens revoke-all`, or a promotion to admin).

    It takes the whole link (https://…/invite#token=oi_inv_…, as it was sent) or the oi_inv_…
    token in it. '-', the default, reads it from standard input, or asks for it without echo at a
    terminal, so it stays out of shell history. With no app URL configured, the link's is used.
    The new token can be saved into the profile; a profile that already holds a token is only
    replaced after an explicit yes.

    \b
    Examples:
      oi invites claim --profile work           # paste the link when asked
      oi invites claim - --profile work --save < invite.txt
      oi invites claim - --save < re-access-link.txt     # a new token for your own account
    """
    settings = context.settings(profile, must_exist=False)  # --profile NAME may name the profile to create
    configured = bool(app_url or settings.app_url)
    api = context.api(settings, app_url)
    if configured:
        api.check(authenticated=False)  # before the invite is read: a wrong URL should not cost a paste
    invite, link_url = _read_invite(invite_token)
    if not configured:
        if link_url is None:
            raise CliError("no app URL: give --app-url URL, or paste the whole link (…/invite#token=oi_inv_…), "
                           "which holds it", EXIT_CONFIG)
        app_url = link_url
        api = context.api(settings, app_url)
        api.check(authenticated=False)
        click.echo(printable(f"oi: using the app URL in the link, {link_url}"), err=True)
    save, holder = (False, None) if save is False else _may_save(context, settings, save, interactive=not as_json)
    claimed = api.call("POST", api_path("auth", "invites", "claim"), body={"token": invite},
                       authenticated=False, expect=("user", "pat"))
    user, pat = claimed["user"], claimed["pat"]
    if save:
        config.save_profile(settings.path, settings.profile,
                            {"token": pat["token"], "app_url": app_url or settings.app_url or ""})
    same_account = holder is not None and holder.user_id == user.get("id")
    if as_json:
        emit_json({**claimed, "savedToProfile": settings.profile if save else None,
                   "replacedSameAccount": same_account})
        return
    if _is_re_access(claimed):
        click.echo(f"Welcome back, {user['email']} ({user['role']}). Your new token is '{pat['name']}' "
                   f"({pat['id']}, scope {pat['scope']}).")
    else:
        click.echo(f"Welcome, {user['email']} ({user['role']}). Your first token is '{pat['name']}' "
                   f"({pat['id']}, scope {pat['scope']}).")
    if same_account:
        click.echo(f"Profile '{settings.profile}' held a token for this same account ({user['email']}); "
                   "the new token replaces it there. The old token itself still works until it expires or "
                   "is deleted (`oi settings personal tokens list` shows it).")
    if save:
        click.echo(f"Saved it to profile '{settings.profile}' as {mask(pat['token'])}.")
    else:
        click.echo(pat["token"])
        click.echo("Copy it now: it cannot be shown again.", err=True)


def _is_re_access(claimed: dict[str, Any]) -> bool:
    """True when the claim gave an existing account a new token (a re-access link), not a new
    account: both answer the same shape, but an invite's account and token are created together."""
    return bool(claimed["pat"].get("name") == RE_ACCESS_TOKEN_NAME
                or claimed["user"].get("createdAt") != claimed["pat"].get("createdAt"))


def _read_invite(argument: str) -> tuple[str, str | None]:
    """The invite token from a hidden prompt or standard input ('-'), else from argv with a
    warning; given the whole link, the token in it and the app URL it points at."""
    if argument != "-":
        click.echo(ARGV_INVITE_WARNING, err=True)
        value = argument
    elif stdin_is_terminal():
        value = click.prompt("Invite link or token", hide_input=True, err=True)
    else:
        value = sys.stdin.readline()
    token, link_url = _from_link(value.strip())
    if not shapes.is_invite(token):
        raise CliError("that is not an invite link or token (the link as it was sent, …/invite#token=oi_inv_…, or "
                       "the oi_inv_... token in it)", EXIT_USAGE)
    return token, link_url


def _from_link(value: str) -> tuple[str, str | None]:
    """``…/invite#token=oi_inv_…`` (what `oi admin invites create` prints and the email holds) as
    its token and the app URL before /invite; anything else as it is, with no URL."""
    base, marker, token = value.partition(INVITE_LINK_MARKER)
    if not marker:
        return value, None
    return token.strip(), base if base.startswith(("https://", "http://")) else None


@dataclass(frozen=True)
class Holder:
    """Whose token a profile holds, as far as its app could tell."""

    description: str
    user_id: str | None = None
    refused: bool = False  # the server refuses the token (401): replacing it loses nothing


def _may_save(
    context: Context, settings: config.Settings, save: bool | None, interactive: bool
) -> tuple[bool, Holder | None]:
    """Whether to save the new token, decided before claiming: replacing a token needs an explicit yes.

    Saying no to a replacement claims nothing, so the invite can still be claimed into another
    profile. When a token is replaced, whose it was comes back too: a re-access link may be for
    the very account the profile already holds.
    """
    held = config.stored_profile(settings.path, settings.profile).get("token")
    if not held:
        return bool(save) or (save is None and interactive and _ask(
            f"Save the new token into profile '{settings.profile}'?")), None
    if save is None and not interactive:
        return False, None
    holder = _holder(context, settings)
    click.echo(f"oi: profile '{settings.profile}' holds {holder.description}", err=True)
    if save and holder.refused:  # --save, and the token it replaces no longer works: nothing to ask
        return True, holder
    if _ask("Replace it with the token this invite or re-access link gives?", default=False):
        return True, holder
    raise CliError(f"not claimed: profile '{settings.profile}' keeps its token; claim into another profile "
                   "with --profile NAME, or print the new token with --no-save", EXIT_REFUSED)


def _holder(context: Context, settings: config.Settings) -> Holder:
    """Whose token a profile holds, asked of the profile's own app (GET /me); vague if that fails,
    except that a token the server refuses is said to be one, with its reason."""
    stored = config.stored_profile(settings.path, settings.profile)
    api = Api(config.text(stored, "app_url"), config.text(stored, "token"), context.transport,
              token_label=f"profile '{settings.profile}'", insecure=context.insecure or stored.get("insecure") is True,
              zone=context.zone)
    try:
        me = api.call("GET", api_path("me"), expect=ME_KEYS)
        return Holder(f"a token for {me['email']} ({me['role']}), scope {me['token']['scope']}", str(me["id"]))
    except CliError as error:
        if error.exit_code == EXIT_UNAUTHORIZED and error.server_message:
            return Holder(f"a token the server refuses (HTTP 401): {error.server_message}", refused=True)
        return Holder("a token (whose account could not be checked)")
    except (KeyError, TypeError):
        return Holder("a token (whose account could not be checked)")


def _ask(question: str, default: bool = True) -> bool:
    """Ask yes/no on stderr; no answer (closed standard input) means no.

    The brackets say what Enter means. Piped in, no answer means no, so a question whose Enter
    means yes ([Y/n]) shows no default there ([y/n]) and takes only a y: what a script pipes in
    then means what the prompt says.
    """
    piped = default and not stdin_is_terminal()
    try:
        if piped:
            answer = click.prompt(question, default="", show_default=False, prompt_suffix=" [y/n]: ", err=True)
            return str(answer).strip().lower() in ("y", "yes")
        return click.confirm(question, default=default, err=True)
    except click.Abort:
        click.echo("", err=True)
        return False


def main() -> None:
    """Console entry point."""
    oi(obj=Context(), prog_name="oi")
