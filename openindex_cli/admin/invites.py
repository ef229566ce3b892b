"""`oi admin invites`: invite someone (the link printed once), list pending invites, revoke one."""
from __future__ import annotations

from typing import Any

import click

from openindex_cli.admin.links import LINK_KEYS, show_link
from openindex_cli.api import api_path
from openindex_cli.commands import (
    Context,
    HelpGroup,
    expires_at_option,
    limit_option,
    listed,
    request_options,
    say_if_more,
)
from openindex_cli.expiry import FORMATS
from openindex_cli.output import emit_json, table
from openindex_cli.wording import when


@click.group(cls=HelpGroup)
def invites() -> None:
    """Invites to this instance: create, list, revoke."""


@invites.command("create", short_help="Invite an email; the link is printed once.")
@request_options
@click.argument("email")
@click.option("--role", type=click.Choice(["member", "admin"]), default="member", show_default=True,
              help="the role of the account the invite makes")
@click.option("--expires-at", metavar="WHEN", help=f"when the invite stops working: {FORMATS} (default: 7 days)")
def invites_create(context: Context, profile: str | None, as_json: bool, email: str, role: str,
                   expires_at: str | None) -> None:
    """Invite EMAIL. The link (it holds the invite token) goes to standard output, once: send it
    to them. Claiming it makes their account and its first token.

    \b
    Examples:
      oi admin invites create colleague@example.com
      oi admin invites create ops@example.com --role admin --expires-at 2d
    """
    body = {"email": email, "role": role}
    if expires_at is not None:
        body["expiresAt"] = expires_at_option(expires_at, context)
    created = context.api(context.settings(profile)).call("POST", api_path("admin", "invites"), body=body,
                                                          expect=(*LINK_KEYS, "email", "role"))
    show_link(created, as_json, f"invite for {created['email']} ({created['role']})", context.zone)


@invites.command("list", short_help="List pending invites and re-access links.")
@request_options
@limit_option("invites")
def invites_list(context: Context, profile: str | None, as_json: bool, limit: int | None) -> None:
    """List pending invites and re-access links, newest first, never their tokens.

    \b
    Examples:
      oi admin invites list
      oi admin invites list --limit 10 --json
    """
    items, more = listed(context.api(context.settings(profile)), api_path("admin", "invites"), limit)
    if as_json:
        emit_json({"items": items, "more": more})
        return
    click.echo(table(("ID", "EMAIL", "ROLE", "KIND", "STATUS", "SENT BY", "EXPIRES", "CREATED"), [
        (i["id"], i["email"], i["role"], "re-access link" if i.get("userId") else "invite", _status(i),
         _sender(i), when(i["expiresAt"]), when(i["createdAt"])) for i in items]))
    say_if_more(more, len(items), "invites")


def _status(invite: dict[str, Any]) -> str:
    """Pending, or revoked because the token that sent it was revoked since (a claim answers 410)."""
    return "revoked (sender's token revoked)" if invite.get("status") == "revoked" else "pending"


def _sender(invite: dict[str, Any]) -> str:
    maker = invite.get("createdBy") or {}
    return str(maker.get("email") or maker.get("userId") or "")


@invites.command("revoke", short_help="Revoke a pending invite or re-access link.")
@request_options
@click.argument("invite_id", metavar="ID")
def invites_revoke(context: Context, profile: str | None, as_json: bool, invite_id: str) -> None:
    """Revoke a pending invite or re-access link (ID as `invites list` shows it): claiming it is
    refused from now on.

    \b
    Examples:
      oi admin invites revoke inv_01jdx7k2m4c8b3n5q6r7s8t9v0
      oi admin invites revoke inv_01jdx7k2m4c8b3n5q6r7s8t9v0 --json
    """
    context.api(context.settings(profile)).call("DELETE", api_path("admin", "invites", invite_id))
    if as_json:
        emit_json({"revoked": invite_id})
    else:
        click.echo(f"Revoked {invite_id}: claiming it is refused from now on.")
