"""`oi admin users`: list and show accounts, change their status or role, revoke their tokens,
and give them a re-access link. A user is named by id, or by email (found in the list)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click

from openindex_cli.admin.links import LINK_KEYS, show_link
from openindex_cli.api import Api, api_path
from openindex_cli.commands import (
    Context,
    HelpGroup,
    confirm_at_terminal,
    every_page,
    expires_at_option,
    limit_option,
    listed,
    request_options,
    require_terminal,
    say_if_more,
)
from openindex_cli.errors import EXIT_REFUSED, CliError
from openindex_cli.expiry import FORMATS
from openindex_cli.output import emit_json, printable, table
from openindex_cli.wording import when

USER_KEYS = ("id", "email", "role", "status", "createdAt")
USER_HELP = "ID or EMAIL: a user id (usr_...) or the user's email"


@dataclass(frozen=True)
class Change:
    """A change of a user's status or role: what is sent, the question asked first (about whom:
    ``who``, and whether that is the caller), and what is said once it is made."""

    body: dict[str, str]
    verb: str  # "deactivate": what --yes skips asking about
    done: str  # "deactivated": what did not happen after a no, and what did after a yes
    question: Callable[[str, bool], str]  # (who, is_you) -> the question
    after: Callable[[bool, str], str] = lambda is_you, token_label: ""  # (is_you, token_label) -> next steps


DEACTIVATE = Change(
    {"status": "deactivated"}, "deactivate", "deactivated",
    lambda who, you: (
        f"Deactivate your own account, {who}? Every token of yours, the one this command uses included, is revoked "
        "for good: being reactivated brings none of them back, and only another admin can reactivate you."
        if you else
        f"Deactivate {who}? Every token of theirs (personal access tokens and agent run tokens) is revoked for "
        "good: reactivating them later brings none of them back."),
    lambda you, label: (
        f"You deactivated your own account: the token from {label} no longer works." if you else
        "Every token of theirs is revoked for good; if they are reactivated, `oi admin users access-link` gives "
        "them a new one."))
REACTIVATE = Change(
    {"status": "active"}, "reactivate", "reactivated",
    lambda who, you: (
        f"Reactivate {who}? Their old tokens stay revoked (reactivation brings none back): they get back in with "
        "a re-access link (`oi admin users access-link`)."),
    lambda you, label: "Their old tokens stay revoked; `oi admin users access-link` gives them a new one.")
PROMOTE = Change(
    {"role": "admin"}, "promote", "promoted",
    lambda who, you: (
        f"Make {who} an admin? Their tokens keep their scope (none becomes admin-scope): their first admin-scope "
        "token comes from a re-access link (`oi admin users access-link`)."),
    lambda you, label: "Their tokens keep their scope; `oi admin users access-link` gives them an admin-scope one.")
DEMOTE = Change(
    {"role": "member"}, "demote", "demoted",
    lambda who, you: (
        f"Demote yourself, {who}, to member? Your admin-scope tokens, the one this command uses included, are "
        "revoked for good (being made admin again brings none back); your read_write tokens keep working."
        if you else
        f"Demote {who} to member? Their admin-scope tokens are revoked for good (making them admin again brings "
        "none back); their read_write tokens keep working."),
    lambda you, label: (
        f"You demoted yourself: the token from {label} (admin scope) no longer works; your read_write tokens still "
        "do." if you else ""))


@click.group(cls=HelpGroup, short_help="Accounts: list, change, revoke, re-access links.")
def users() -> None:
    """Accounts: list, show, deactivate, reactivate, promote, demote, revoke-all, access-link."""


@users.command("list", short_help="List every user.")
@request_options
@limit_option("users")
def users_list(context: Context, profile: str | None, as_json: bool, limit: int | None) -> None:
    """List every user, newest first: id, email, role, status, creation.

    \b
    Examples:
      oi admin users list
      oi admin users list --limit 20 --json
    """
    items, more = listed(context.api(context.settings(profile)), api_path("admin", "users"), limit)
    if as_json:
        emit_json({"items": items, "more": more})
        return
    click.echo(table(("ID", "EMAIL", "ROLE", "STATUS", "CREATED"),
                     [(u["id"], u["email"], u["role"], u["status"], when(u["createdAt"])) for u in items]))
    say_if_more(more, len(items), "users")


@users.command("show", short_help="Show one user.")
@request_options
@click.argument("user", metavar="ID|EMAIL")
def users_show(context: Context, profile: str | None, as_json: bool, user: str) -> None:
    """Show one user, named by id or email.

    \b
    Examples:
      oi admin users show usr_01jdx7k2m4c8b3n5q6r7s8t9v0
      oi admin users show colleague@example.com --json
    """
    found = find_user(context.api(context.settings(profile)), user)
    if as_json:
        emit_json(found)
        return
    click.echo(table(("", ""), [("id:", found["id"]), ("email:", found["email"]), ("role:", found["role"]),
                                ("status:", found["status"]), ("created:", when(found["createdAt"]))]))


@users.command("deactivate", short_help="Deactivate a user: every token of theirs is revoked.")
@request_options
@click.argument("user", metavar="ID|EMAIL")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
def users_deactivate(context: Context, profile: str | None, as_json: bool, user: str, yes: bool) -> None:
    """Deactivate a user: every token of theirs is revoked for good (refused from the next
    request), and reactivating them brings none back (they then need a re-access link). Asks
    first, saying so when the user is you.

    \b
    Examples:
      oi admin users deactivate colleague@example.com
      oi admin users deactivate usr_01jdx7k2m4c8b3n5q6r7s8t9v0 --yes
    """
    _change(context, profile, as_json, user, yes, DEACTIVATE)


@users.command("reactivate", short_help="Reactivate a deactivated user (their old tokens stay revoked).")
@request_options
@click.argument("user", metavar="ID|EMAIL")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
def users_reactivate(context: Context, profile: str | None, as_json: bool, user: str, yes: bool) -> None:
    """Reactivate a user. Their old tokens stay revoked: give them a re-access link
    (`oi admin users access-link`) for a new one. Asks first.

    \b
    Examples:
      oi admin users reactivate colleague@example.com
      oi admin users reactivate usr_01jdx7k2m4c8b3n5q6r7s8t9v0 --yes --json
    """
    _change(context, profile, as_json, user, yes, REACTIVATE)


@users.command("promote", short_help="Make a user an admin.")
@request_options
@click.argument("user", metavar="ID|EMAIL")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
def users_promote(context: Context, profile: str | None, as_json: bool, user: str, yes: bool) -> None:
    """Make a user an admin. Their tokens keep their scope, and a read_write token cannot make an
    admin one: their first admin-scope token comes from a re-access link (`oi admin users access-link`).
    Asks first.

    \b
    Examples:
      oi admin users promote colleague@example.com
      oi admin users promote usr_01jdx7k2m4c8b3n5q6r7s8t9v0 --yes --json
    """
    _change(context, profile, as_json, user, yes, PROMOTE)


@users.command("demote", short_help="Make an admin a member: their admin tokens are revoked.")
@request_options
@click.argument("user", metavar="ID|EMAIL")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
def users_demote(context: Context, profile: str | None, as_json: bool, user: str, yes: bool) -> None:
    """Make an admin a member: their admin-scope tokens are revoked for good (refused from the next
    request; promoting them again brings none back); read_write tokens keep working. The last
    active admin cannot be demoted. Asks first, saying so when the user is you.

    \b
    Examples:
      oi admin users demote colleague@example.com
      oi admin users demote usr_01jdx7k2m4c8b3n5q6r7s8t9v0 --yes
    """
    _change(context, profile, as_json, user, yes, DEMOTE)


@users.command("revoke-all", short_help="Revoke every token of a user.")
@request_options
@click.argument("user", metavar="ID|EMAIL")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
def users_revoke_all(context: Context, profile: str | None, as_json: bool, user: str, yes: bool) -> None:
    """Revoke every personal access token and agent run token of a user issued until now, with
    no undo: for a token that leaked or a machine that was lost. They are told in their security
    log, and get back in with a re-access link. Asks first.

    \b
    Examples:
      oi admin users revoke-all colleague@example.com
      oi admin users revoke-all usr_01jdx7k2m4c8b3n5q6r7s8t9v0 --yes --json
    """
    settings = context.settings(profile)
    api = context.api(settings)
    found = find_user(api, user)
    require_terminal(verb="revoke", done="revoked", yes=yes)
    is_you = api.call("GET", api_path("me"), expect=("id",))["id"] == found["id"]
    whose = (f"yours ({found['email']}, {found['id']}), the one this command uses included" if is_you
             else f"{found['email']} ({found['id']})")
    confirm_at_terminal(printable(f"Revoke every personal access token and agent run token of {whose}? There is "
                                  "no undo."), verb="revoke", done="revoked", yes=yes)
    api.call("POST", api_path("admin", "users", found["id"], "pats", "revoke-all"))
    if as_json:
        emit_json({"revokedAll": True, "userId": found["id"], "email": found["email"]})
        return
    click.echo(printable(f"Revoked every token of {found['email']} ({found['id']}) issued until now. "
                         + (f"The token from {settings.token_label} no longer works either; another admin's "
                            "`oi admin users access-link` gives you a new one." if is_you else
                            "`oi admin users access-link` gives them a new one.")))


@users.command("access-link", short_help="A re-access link for a user; printed once.")
@request_options
@click.argument("user", metavar="ID|EMAIL")
@click.option("--expires-at", metavar="WHEN", help=f"when the link stops working: {FORMATS} (default: 7 days)")
def users_access_link(context: Context, profile: str | None, as_json: bool, user: str,
                      expires_at: str | None) -> None:
    """A single-use link that gives an active user a new token (after a revoke-all, or a promotion
    to admin). The link goes to standard output, once.

    \b
    Examples:
      oi admin users access-link colleague@example.com
      oi admin users access-link usr_01jdx7k2m4c8b3n5q6r7s8t9v0 --expires-at 1d
    """
    body = {} if expires_at is None else {"expiresAt": expires_at_option(expires_at, context)}
    api = context.api(context.settings(profile))
    found = find_user(api, user)
    created = api.call("POST", api_path("admin", "users", found["id"], "access-links"), body=body,
                       expect=LINK_KEYS)
    show_link(created, as_json, f"re-access link for {found['email']} ({found['id']})", context.zone)


def find_user(api: Api, who: str) -> dict[str, Any]:
    """The user named by id, or by email (any case) when ``who`` holds an @: the API looks users up
    by id only, so an email is found in the list."""
    if "@" not in who:
        return dict(api.call("GET", api_path("admin", "users", who), expect=USER_KEYS))
    wanted = who.lower()  # an email belongs to one account (the server refuses a second)
    found = next((u for u in every_page(api, api_path("admin", "users")) if str(u.get("email")).lower() == wanted),
                 None)
    if found is None:
        raise CliError(printable(f"No user with the email {who}."), EXIT_REFUSED)
    return dict(found)


def _change(context: Context, profile: str | None, as_json: bool, who: str, yes: bool, change: Change) -> None:
    """PATCH a user: found first (to name them, and a 404 before any question); a change that
    changes nothing says so; then, unless --yes, asked about at a terminal (none: exit 2, before
    anything more is read), saying so when the user is the caller (GET /me); then changed."""
    settings = context.settings(profile)
    api = context.api(settings)
    found = find_user(api, who)
    if all(found.get(key) == value for key, value in change.body.items()):
        if as_json:
            emit_json(found)
        else:
            click.echo(printable(f"{found['email']} ({found['id']}) is already {', '.join(change.body.values())}; "
                                 "nothing changed."))
        return
    require_terminal(verb=change.verb, done=change.done, yes=yes)
    is_you = api.call("GET", api_path("me"), expect=("id",))["id"] == found["id"]
    confirm_at_terminal(printable(change.question(f"{found['email']} ({found['id']})", is_you)),
                        verb=change.verb, done=change.done, yes=yes)
    updated = api.call("PATCH", api_path("admin", "users", found["id"]), body=change.body, expect=USER_KEYS)
    if as_json:
        emit_json(updated)
        return
    click.echo(printable(f"{change.done.capitalize()} {updated['email']} ({updated['id']}): role {updated['role']}, "
                         f"status {updated['status']}."))
    after = change.after(is_you, settings.token_label)
    if after:
        click.echo(after)
