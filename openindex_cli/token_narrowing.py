"""`oi settings personal tokens narrow`: a token given less to do, or a sooner expiry, keeping
its value, so whatever holds it keeps working with only what it needs; `--to-used` narrows it to
what it was seen to use, and any other narrowing first says which of those uses it would refuse."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import click

from openindex_cli import expiry, shapes
from openindex_cli.api import Api, api_path
from openindex_cli.commands import Context, confirm_at_terminal, every_page, expires_at_option, request_options
from openindex_cli.errors import EXIT_REFUSED, EXIT_USAGE, CliError
from openindex_cli.grant_words import grant_in_words, uses_in_words
from openindex_cli.output import emit_json, printable
from openindex_cli.tokens_grant import grant_option
from openindex_cli.wording import parse_time, when_here

# Watched for less than this, a token may not yet have made every use it needs (a weekly job).
WATCHED_ENOUGH = timedelta(days=7)


@click.command("narrow", short_help="Give a token less to do, or a sooner expiry; its value stays.")
@request_options
@click.argument("token_id", metavar="ID")
@click.option("--scope", type=click.Choice(["read", "read_write", "admin"]),
              help="narrow to a preset: read (read-only) or read_write")
@click.option("--permission", "permissions", multiple=True, metavar="FAMILY=LEVEL",
              help="instead of --scope, family by family (repeatable); families left out get none")
@click.option("--to-used", is_flag=True, help="narrow to what it was seen to use (`tokens list` shows it)")
@click.option("--expires-at", metavar="WHEN", help=f"a sooner expiry: {expiry.FORMATS}")
@click.option("--yes", is_flag=True, help="do not ask, even when the narrowing refuses something it used")
def tokens_narrow(context: Context, profile: str | None, as_json: bool, token_id: str, scope: str | None,
                  permissions: tuple[str, ...], to_used: bool, expires_at: str | None, yes: bool) -> None:
    """Narrow a token (ID as `tokens list` shows it): what it may do, its expiry, or both. Its
    value does not change, so nothing that holds it needs a new one; it only ever loses
    permissions and never expires later. Its agent run tokens are narrowed with it.

    With --to-used it keeps exactly what it (and its run tokens) used since that began to be
    recorded. Any other narrowing of what it may do first asks, if it would refuse something the
    token used in that time.

    \b
    Examples:
      oi settings personal tokens narrow pat_01jdx7k2m4c8b3n5q6r7s8t9v0 --to-used
      oi settings personal tokens narrow pat_01jdx7k2m4c8b3n5q6r7s8t9v0 --permission work_items=read
      oi settings personal tokens narrow pat_01jdx7k2m4c8b3n5q6r7s8t9v0 --scope read --expires-at 7d
    """
    if (problem := shapes.pat_id_problem(token_id)) is not None:
        raise CliError(f"ID: {problem}", EXIT_USAGE)
    if to_used and (scope is not None or permissions):
        raise CliError("give --to-used, or --scope or --permission, not both", EXIT_USAGE)
    if scope is None and not permissions and not to_used and expires_at is None:
        raise CliError("say what to narrow: --to-used, --scope, --permission or --expires-at", EXIT_USAGE)
    body: dict[str, Any] = grant_option(scope, permissions) if scope is not None or permissions else {}
    if expires_at is not None:
        body["expiresAt"] = expires_at_option(expires_at, context)
    api = context.api(context.settings(profile))
    if to_used:
        body.update(_to_used(api, token_id, context.now(), yes))
    elif body.keys() - {"expiresAt"} and not yes:
        _ask_if_it_refuses_uses(api, token_id, body)
    narrowed = api.call("PATCH", api_path("me", "pats", token_id), body=body,
                        expect=("id", "name", "scope", "permissions"))
    if as_json:
        emit_json(narrowed)
        return
    click.echo(printable(f"Narrowed '{narrowed['name']}' ({narrowed['id']}): {narrowed['scope']} "
                         f"({grant_in_words(narrowed['permissions'])}), expires "
                         f"{when_here(narrowed.get('expiresAt'), context.zone)}. Its value is unchanged."))


def _to_used(api: Api, token_id: str, now: datetime, yes: bool) -> dict[str, Any]:
    """The narrowing to what the token used, as the list offers it, once the person agrees."""
    token = _listed(api, token_id)
    since = parse_time(str(token.get("usedSince") or ""))
    offered = token.get("narrowToUsed")
    if since is None:
        raise CliError(f"Nothing was recorded of what '{token['name']}' uses yet: use it for a while first.",
                       EXIT_REFUSED)
    if not offered and token.get("scope") == "admin" and token.get("usedScope") != "admin":
        raise CliError(f"'{token['name']}' is an admin token that used no admin route since "
                       f"{when_here(token['usedSince'])}, but narrowing it to what it used would take admin away for "
                       "good: no token below admin can make an admin token again. If that is what you want, narrow "
                       "it with --scope or --permission.", EXIT_REFUSED)
    if not offered:
        raise CliError(f"'{token['name']}' {_against_use(token)} since {when_here(token['usedSince'])}: there is "
                       "nothing to take away.", EXIT_REFUSED)
    keeps = grant_in_words(offered["permissions"]) if "permissions" in offered else f"the {offered['scope']} preset"
    watched = now - since
    caution = ("" if watched >= WATCHED_ENOUGH else
               f" It was watched for less than {WATCHED_ENOUGH.days} days: a use it needs less often than that "
               "would be refused.")
    confirm_at_terminal(printable(f"Narrow '{token['name']}' ({token_id}) to what it used since "
                                  f"{when_here(token['usedSince'])}: {keeps}?{caution}"),
                        verb="narrow", done="narrowed", yes=yes, piped_answer=True)
    return dict(offered)


_LEVELS = {"none": 0, "read": 1, "write": 2}
_PRESETS = {"read": 0, "read_write": 1, "admin": 2}


def _against_use(token: dict[str, Any]) -> str:
    """How a token with no narrowing to offer stands against what it used: it does just that,
    or it was narrowed since to less than it used."""
    permissions, used = token.get("permissions") or {}, token.get("usedPermissions") or {}
    less = any(_LEVELS.get(level, 0) > _LEVELS.get(permissions.get(family, "none"), 0)
               for family, level in used.items())
    used_scope, scope = token.get("usedScope"), token.get("scope")
    if used_scope and (scope not in _PRESETS or _PRESETS[scope] < _PRESETS.get(used_scope, 0)):
        less = True
    return "may already do less than it used" if less else "already does only what it used"


def _listed(api: Api, token_id: str) -> dict[str, Any]:
    """The token as `tokens list` shows it."""
    token = next((item for item in every_page(api, api_path("me", "pats")) if item.get("id") == token_id), None)
    if token is None:
        raise CliError("No personal access token with this id among yours; `oi settings personal tokens list` "
                       "shows them.", EXIT_REFUSED)
    return token


def _ask_if_it_refuses_uses(api: Api, token_id: str, body: dict[str, Any]) -> None:
    """A dry run first: if the narrowing would take admin away, or refuse something the token
    used, ask."""
    preview = api.call("PATCH", api_path("me", "pats", token_id), body={**body, "dryRun": True},
                       expect=("name", "scope", "refusedUses", "usedSince"))
    if preview["scope"] != "admin" and _listed(api, token_id).get("scope") == "admin":
        confirm_at_terminal(printable(
            f"'{preview['name']}' is an admin token: narrowed, it no longer is, and no token below admin can make "
            "an admin token again (only another admin's re-access link can give you one). Narrow anyway?"),
            verb="narrow", done="narrowed", yes=False, piped_answer=True)
    if refused := preview["refusedUses"]:
        confirm_at_terminal(printable(
            f"Since {when_here(preview['usedSince'])}, '{preview['name']}' was used to "
            f"{uses_in_words(refused)}, which this narrowing refuses: whatever did that would get 403. "
            "Narrow anyway?"), verb="narrow", done="narrowed", yes=False, piped_answer=True)
