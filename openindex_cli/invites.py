"""`oi invites claim`: an invite (a new account and its first token) or a re-access link (a new
token for an existing account), the new token saved into a profile or printed once."""
from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import click

from openindex_cli import config, shapes
from openindex_cli.api import ME_KEYS, Api, api_path
from openindex_cli.commands import Context, HelpGroup, request_options, stdin_is_terminal
from openindex_cli.errors import EXIT_CONFIG, EXIT_REFUSED, EXIT_UNAUTHORIZED, EXIT_USAGE, CliError
from openindex_cli.output import emit_json, mask, printable

ARGV_INVITE_WARNING = (
    "oi: warning: an invite on the command line can end up in your shell history and process "
    "list; prefer `oi invites claim -` (reads the link or token from standard input, or asks without echo at a "
    "terminal)"
)
INVITE_LINK_MARKER = "/invite#token="  # inviteUrl is $APP_URL/invite#token=oi_inv_…
RE_ACCESS_TOKEN_NAME = "re-access link"  # what the server names the PAT a re-access link gives


@click.group(cls=HelpGroup)
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
        kept_in = config.token_store(config.stored_profile(settings.path, settings.profile))
        where = config.save_profile(settings.path, settings.profile,
                                    {"token": pat["token"], "app_url": app_url or settings.app_url or ""})
        config.say_if_keychain_refused(settings.path, kept_in, where)
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
    held = config.stored_token(settings.path, settings.profile,
                               config.stored_profile(settings.path, settings.profile))
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
    api = Api(config.text(stored, "app_url"), config.stored_token(settings.path, settings.profile, stored),
              context.transport,
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
